//! The bits of Postgres' catalog BI tools and drivers ask for on connect, added to each server
//! session (not to `jobsql query` or the library).
//!
//! - `version()` says `PostgreSQL 16.6 (jobsql ...)` (tools parse the Postgres version from it);
//!   `current_database()` is `jobsql`, `current_schema()` is `public`.
//! - `pg_catalog.pg_type`: the types the server sends, with their oids, lengths and array types
//!   (drivers map result oids to names with it).
//! - `pg_catalog.pg_namespace`: `pg_catalog`, `public`, `information_schema` and every schema of
//!   the session's catalogs (`jobs`, `cleanrooms`, ...).
//!
//! `information_schema.tables` / `.columns` are DataFusion's own. psql's `\d` commands query
//! `pg_class` / `pg_attribute` with Postgres-only functions and do not work.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Int16Array, Int32Array, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::{MemorySchemaProvider, SchemaProvider};
use datafusion::common::ScalarValue;
use datafusion::datasource::MemTable;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{ColumnarValue, ScalarUDF, Signature, SimpleScalarUDF, Volatility};
use datafusion::prelude::SessionContext;
use pgwire::api::Type;

/// What `version()` answers.
pub fn version_text() -> String {
    format!(
        "PostgreSQL 16.6 (jobsql {}, Apache DataFusion {})",
        env!("CARGO_PKG_VERSION"),
        datafusion::DATAFUSION_VERSION
    )
}

/// Add the functions and `pg_catalog` tables above to `ctx`.
pub fn register(ctx: &SessionContext) -> Result<()> {
    for (name, value) in [
        ("version", version_text()),
        ("current_database", "jobsql".to_string()),
        ("current_schema", "public".to_string()),
    ] {
        ctx.register_udf(constant_udf(name, value));
    }
    let catalog_name = ctx
        .state()
        .config()
        .options()
        .catalog
        .default_catalog
        .clone();
    let catalog = ctx
        .catalog(&catalog_name)
        .ok_or_else(|| DataFusionError::Plan(format!("no default catalog {catalog_name}")))?;
    let schema = Arc::new(MemorySchemaProvider::new());
    schema.register_table("pg_type".into(), Arc::new(pg_type()?))?;
    schema.register_table("pg_namespace".into(), Arc::new(pg_namespace(ctx)?))?;
    catalog.register_schema("pg_catalog", schema)?;
    Ok(())
}

fn constant_udf(name: &str, value: String) -> ScalarUDF {
    let fun = Arc::new(move |_: &[ColumnarValue]| {
        Ok(ColumnarValue::Scalar(ScalarValue::Utf8(Some(
            value.clone(),
        ))))
    });
    ScalarUDF::from(SimpleScalarUDF::new_with_signature(
        name,
        Signature::nullary(Volatility::Stable),
        DataType::Utf8,
        fun,
    ))
}

/// (type, typlen, typcategory) of the types listed in `pg_type`.
const TYPES: &[(Type, i16, &str)] = &[
    (Type::BOOL, 1, "B"),
    (Type::BYTEA, -1, "U"),
    (Type::CHAR, 1, "S"),
    (Type::NAME, 64, "S"),
    (Type::INT8, 8, "N"),
    (Type::INT2, 2, "N"),
    (Type::INT4, 4, "N"),
    (Type::TEXT, -1, "S"),
    (Type::OID, 4, "N"),
    (Type::JSON, -1, "U"),
    (Type::FLOAT4, 4, "N"),
    (Type::FLOAT8, 8, "N"),
    (Type::BPCHAR, -1, "S"),
    (Type::VARCHAR, -1, "S"),
    (Type::DATE, 4, "D"),
    (Type::TIME, 8, "D"),
    (Type::TIMESTAMP, 8, "D"),
    (Type::TIMESTAMPTZ, 8, "D"),
    (Type::INTERVAL, 16, "T"),
    (Type::NUMERIC, -1, "N"),
    (Type::UUID, 16, "U"),
    (Type::JSONB, -1, "U"),
    (Type::BOOL_ARRAY, -1, "A"),
    (Type::INT2_ARRAY, -1, "A"),
    (Type::INT4_ARRAY, -1, "A"),
    (Type::INT8_ARRAY, -1, "A"),
    (Type::TEXT_ARRAY, -1, "A"),
    (Type::FLOAT4_ARRAY, -1, "A"),
    (Type::FLOAT8_ARRAY, -1, "A"),
    (Type::VARCHAR_ARRAY, -1, "A"),
    (Type::TIMESTAMPTZ_ARRAY, -1, "A"),
];

/// (array type, element type) of the array types above.
const ARRAYS: &[(Type, Type)] = &[
    (Type::BOOL_ARRAY, Type::BOOL),
    (Type::INT2_ARRAY, Type::INT2),
    (Type::INT4_ARRAY, Type::INT4),
    (Type::INT8_ARRAY, Type::INT8),
    (Type::TEXT_ARRAY, Type::TEXT),
    (Type::FLOAT4_ARRAY, Type::FLOAT4),
    (Type::FLOAT8_ARRAY, Type::FLOAT8),
    (Type::VARCHAR_ARRAY, Type::VARCHAR),
    (Type::TIMESTAMPTZ_ARRAY, Type::TIMESTAMPTZ),
];

const PG_CATALOG_OID: i32 = 11;

fn oid(t: &Type) -> i32 {
    i32::try_from(t.oid()).unwrap_or(0)
}

fn pg_type() -> Result<MemTable> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("oid", DataType::Int32, false),
        Field::new("typname", DataType::Utf8, false),
        Field::new("typnamespace", DataType::Int32, false),
        Field::new("typlen", DataType::Int16, false),
        Field::new("typtype", DataType::Utf8, false),
        Field::new("typcategory", DataType::Utf8, false),
        Field::new("typelem", DataType::Int32, false),
        Field::new("typarray", DataType::Int32, false),
        Field::new("typbasetype", DataType::Int32, false),
    ]));
    let element = |t: &Type| {
        ARRAYS
            .iter()
            .find(|(a, _)| a == t)
            .map_or(0, |(_, e)| oid(e))
    };
    let array_of = |t: &Type| {
        ARRAYS
            .iter()
            .find(|(_, e)| e == t)
            .map_or(0, |(a, _)| oid(a))
    };
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int32Array::from_iter_values(
            TYPES.iter().map(|(t, _, _)| oid(t)),
        )),
        Arc::new(StringArray::from_iter_values(
            TYPES.iter().map(|(t, _, _)| t.name()),
        )),
        Arc::new(Int32Array::from(vec![PG_CATALOG_OID; TYPES.len()])),
        Arc::new(Int16Array::from_iter_values(
            TYPES.iter().map(|(_, l, _)| *l),
        )),
        Arc::new(StringArray::from(vec!["b"; TYPES.len()])),
        Arc::new(StringArray::from_iter_values(
            TYPES.iter().map(|(_, _, c)| *c),
        )),
        Arc::new(Int32Array::from_iter_values(
            TYPES.iter().map(|(t, _, _)| element(t)),
        )),
        Arc::new(Int32Array::from_iter_values(
            TYPES.iter().map(|(t, _, _)| array_of(t)),
        )),
        Arc::new(Int32Array::from(vec![0; TYPES.len()])),
    ];
    let batch = RecordBatch::try_new(schema.clone(), columns)?;
    MemTable::try_new(schema, vec![vec![batch]])
}

fn pg_namespace(ctx: &SessionContext) -> Result<MemTable> {
    let mut names: Vec<String> = vec![
        "pg_catalog".into(),
        "public".into(),
        "information_schema".into(),
    ];
    for catalog in ctx.catalog_names() {
        if let Some(c) = ctx.catalog(&catalog) {
            for schema in c.schema_names() {
                if !names.contains(&schema) {
                    names.push(schema);
                }
            }
        }
    }
    // Postgres' own oids for its three; the others numbered after them.
    let oids: Vec<i32> = (0..names.len())
        .map(|i| match i {
            0 => PG_CATALOG_OID,
            1 => 2200,
            2 => 13_000,
            n => 16_384 + n as i32,
        })
        .collect();
    let schema = Arc::new(Schema::new(vec![
        Field::new("oid", DataType::Int32, false),
        Field::new("nspname", DataType::Utf8, false),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(Int32Array::from(oids)),
            Arc::new(StringArray::from(names)),
        ],
    )?;
    MemTable::try_new(schema, vec![vec![batch]])
}
