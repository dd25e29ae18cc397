//! The bits of Postgres' catalog BI tools, drivers and psql ask for, added to each server
//! session (not to `jobsql query` or the library).
//!
//! - `version()` says `PostgreSQL 16.6 (jobsql ...)` (tools parse the Postgres version from it);
//!   `current_database()` is `jobsql`, `current_schema()` is `public`; `pg_get_userbyid(oid)` is
//!   `jobsql` and `pg_table_is_visible(oid)` true. Each also answers as `pg_catalog.<name>`.
//! - `pg_catalog.pg_type`: the types the server sends, with their oids, lengths and array types
//!   (drivers map result oids to names with it; the list is [`crate::encode::types`]').
//! - `pg_catalog.pg_namespace` and `pg_catalog.pg_class`: a schema per schema of the session
//!   and a relation per table and view (`relkind` `r` / `v`), as they are when the connection
//!   opens; `pg_catalog.pg_am` has `heap`. Enough for psql's `\dt`, `\dv` and `\dn`.
//! - [`crate::catalog::relation_tables`]: `pg_attribute`, `pg_description` (the spec's column descriptions),
//!   `pg_database`, `pg_settings`, `pg_roles`, and `pg_proc`, `pg_constraint`, `pg_index`, ...
//!   without rows; [`crate::catalog::functions`]: `current_user`, `current_schemas`, `format_type`,
//!   `has_*_privilege`, ....
//!
//! **One naming of schemas.** A schema is named in `pg_namespace` as `information_schema`
//! names it (`table_schema`): `jobs` for `databricks_workspace.jobs`, whose tables a query
//! names `jobs.job_runs` as well as `databricks_workspace.jobs.job_runs` (the session's short
//! names, [`jobsql_core::session::names`]). A schema whose short name does not resolve to it (two
//! providers' `jobs`; LakeSail's, whose profile has no short names) is named
//! `catalog.schema` (`lakesail.jobs`), and is queried by its full name
//! (`lakesail.jobs.job_runs`).
//!
//! **Why not `datafusion-pg-catalog`** (datafusion-contrib, 0.19 for DataFusion 55, evaluated
//! 2026-12): it has the tables and functions above and more, and SQL rewrites (`regclass`,
//! `OPERATOR(...)`), but its manifest asks `datafusion = "55"` with default features, so
//! adding it switches on DataFusion's `compression` (bzip2, liblzma with its C build, zstd,
//! flate2), `encoding_expressions` and `recursive_protection` (stacker, psm) in our build, and
//! through `arrow-pg` 0.16 pulls a second pgwire (0.41, next to our 0.42), rust_decimal and
//! postgres-types: 25 more crates (421 → 517 packages in `cargo tree`), and a rebuild of every
//! DataFusion crate for the changed features. `datafusion-postgres` is a whole server, which
//! overlaps ours (streaming, guards, sandbox). jobsql keeps its own small catalog.
//!
//! `information_schema.tables` / `.columns` are DataFusion's own; a query of `.columns` through
//! the server reads Postgres type names ([`crate::catalog::rewrite::catalog_queries`]). Types are named by
//! [`crate::encode::types`] everywhere: `pg_type`, `pg_attribute`, `format_type`,
//! `information_schema` and the row descriptions agree.

use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, BooleanArray, Int16Array, Int32Array, ListArray, StringArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::{MemorySchemaProvider, SchemaProvider};
use datafusion::common::ScalarValue;
use datafusion::datasource::{MemTable, TableType};
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{ColumnarValue, ScalarUDF, Signature, SimpleScalarUDF, Volatility};
use datafusion::prelude::SessionContext;
use pgwire::api::Type;

use crate::catalog::relation_tables::Relation;

/// What `version()` answers.
pub fn version_text() -> String {
    format!(
        "PostgreSQL 16.6 (jobsql {}, Apache DataFusion {})",
        env!("CARGO_PKG_VERSION"),
        datafusion::DATAFUSION_VERSION
    )
}

/// Add the functions and `pg_catalog` tables above to `ctx` (after its own tables).
pub async fn register(ctx: &SessionContext) -> Result<()> {
    let text = |v: &str| ScalarValue::Utf8(Some(v.to_string()));
    let functions = [
        ("version", 0, text(&version_text())),
        ("current_database", 0, text("jobsql")),
        ("current_schema", 0, text("public")),
        ("pg_get_userbyid", 1, text("jobsql")),
        ("pg_table_is_visible", 1, ScalarValue::Boolean(Some(true))),
    ];
    for (name, args, value) in functions {
        ctx.register_udf(constant_udf(name, args, value.clone()));
        ctx.register_udf(constant_udf(&format!("pg_catalog.{name}"), args, value));
    }
    crate::catalog::functions::register(ctx);
    let default = ctx
        .state()
        .config()
        .options()
        .catalog
        .default_catalog
        .clone();
    let catalog = ctx
        .catalog(&default)
        .ok_or_else(|| DataFusionError::Plan(format!("no default catalog {default}")))?;
    let relations = relations(ctx, &default).await?;
    let schema = Arc::new(MemorySchemaProvider::new());
    schema.register_table("pg_type".into(), Arc::new(pg_type()?))?;
    schema.register_table("pg_namespace".into(), Arc::new(pg_namespace(&relations)?))?;
    schema.register_table("pg_class".into(), Arc::new(pg_class(&relations)?))?;
    schema.register_table("pg_am".into(), Arc::new(pg_am()?))?;
    crate::catalog::functions::register_regclass(
        ctx,
        relations
            .iter()
            .flat_map(|(_, ns, rels)| rels.iter().map(|r| (ns.clone(), r.name.clone(), r.oid)))
            .collect(),
    );
    let listed: Vec<Relation> = relations.iter().flat_map(|n| n.2.clone()).collect();
    crate::catalog::functions::register_col_description(
        ctx,
        crate::catalog::relation_tables::descriptions(&listed),
    );
    crate::catalog::relation_tables::register(
        &schema,
        &listed,
        crate::catalog::settings::SETTINGS,
    )?;
    catalog.register_schema("pg_catalog", schema)?;
    Ok(())
}

/// A function of `args` arguments (of any type) that always answers `value`.
fn constant_udf(name: &str, args: usize, value: ScalarValue) -> ScalarUDF {
    let return_type = value.data_type();
    let fun = Arc::new(move |_: &[ColumnarValue]| Ok(ColumnarValue::Scalar(value.clone())));
    let signature = if args == 0 {
        Signature::nullary(Volatility::Stable)
    } else {
        Signature::any(args, Volatility::Stable)
    };
    ScalarUDF::from(SimpleScalarUDF::new_with_signature(
        name,
        signature,
        return_type,
        fun,
    ))
}

const PG_CATALOG_OID: i32 = 11;

use crate::encode::types::{array_element, oid, TYPES};

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
        Field::new("typdelim", DataType::Utf8, false),
        Field::new("typrelid", DataType::Int32, false),
        Field::new("typnotnull", DataType::Boolean, false),
        Field::new("typtypmod", DataType::Int32, false),
        Field::new("typcollation", DataType::Int32, false),
        Field::new("typndims", DataType::Int32, false),
        Field::new("typowner", DataType::Int32, false),
    ]));
    let element = |t: &Type| array_element(t).map_or(0, |e| oid(&e));
    let array_of = |t: &Type| crate::encode::types::array_of(t).map_or(0, |a| oid(&a));
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
        Arc::new(StringArray::from(vec![","; TYPES.len()])),
        Arc::new(Int32Array::from(vec![0; TYPES.len()])),
        Arc::new(BooleanArray::from(vec![false; TYPES.len()])),
        Arc::new(Int32Array::from(vec![-1; TYPES.len()])),
        Arc::new(Int32Array::from(vec![0; TYPES.len()])),
        Arc::new(Int32Array::from(vec![0; TYPES.len()])),
        Arc::new(Int32Array::from(vec![OWNER_OID; TYPES.len()])),
    ];
    let batch = RecordBatch::try_new(schema.clone(), columns)?;
    MemTable::try_new(schema, vec![vec![batch]])
}

/// Postgres' owner oid for everything (the bootstrap superuser's).
const OWNER_OID: i32 = 10;

/// The oid of the `heap` access method.
const HEAP_OID: i32 = 2;

/// One schema of the session: its oid, its name, and its relations.
type Namespace = (i32, String, Vec<Relation>);

/// The session's schemas, Postgres' three first.
async fn relations(ctx: &SessionContext, default: &str) -> Result<Vec<Namespace>> {
    let mut out: Vec<Namespace> = vec![
        (PG_CATALOG_OID, "pg_catalog".to_string(), Vec::new()),
        (2200, "public".to_string(), Vec::new()),
        (13_000, "information_schema".to_string(), Vec::new()),
    ];
    let short = ctx.catalog(default);
    let mut next_relation = 20_000;
    let mut catalogs = ctx.catalog_names();
    catalogs.sort();
    for catalog_name in catalogs {
        let Some(catalog) = ctx.catalog(&catalog_name) else {
            continue;
        };
        let mut schemas = catalog.schema_names();
        schemas.sort();
        for schema_name in schemas {
            if schema_name == "information_schema" || schema_name == "pg_catalog" {
                continue;
            }
            let Some(schema) = catalog.schema(&schema_name) else {
                continue;
            };
            let mut tables = Vec::new();
            let mut first = None;
            let mut names = schema.table_names();
            names.sort();
            for table in names {
                let Some(provider) = schema.table(&table).await? else {
                    continue;
                };
                if first.is_none() {
                    first = Some((table.clone(), provider.clone()));
                }
                let kind = match provider.table_type() {
                    TableType::View => "v",
                    _ => "r",
                };
                tables.push(Relation {
                    oid: next_relation,
                    name: table,
                    kind,
                    schema: provider.schema(),
                });
                next_relation += 1;
            }
            // The short name when it resolves to this very schema: its first table is this
            // one's (schema providers are wrapped anew on each lookup; tables are not).
            let mut resolves = false;
            if let (Some(short), Some((first, provider))) = (&short, &first) {
                if let Some(other) = short.schema(&schema_name) {
                    resolves = other
                        .table(first)
                        .await?
                        .is_some_and(|t| std::ptr::addr_eq(Arc::as_ptr(&t), Arc::as_ptr(provider)));
                }
            }
            let name = if catalog_name == default || resolves {
                schema_name
            } else {
                format!("{catalog_name}.{schema_name}")
            };
            match out.iter_mut().find(|(_, n, _)| *n == name) {
                Some(existing) => existing.2.extend(tables),
                None => {
                    let oid = 16_384 + i32::try_from(out.len()).unwrap_or(0);
                    out.push((oid, name, tables));
                }
            }
        }
    }
    Ok(out)
}

fn pg_namespace(namespaces: &[Namespace]) -> Result<MemTable> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("oid", DataType::Int32, false),
        Field::new("nspname", DataType::Utf8, false),
        Field::new("nspowner", DataType::Int32, false),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int32Array::from_iter_values(namespaces.iter().map(|n| n.0))),
        Arc::new(StringArray::from_iter_values(
            namespaces.iter().map(|n| n.1.as_str()),
        )),
        Arc::new(Int32Array::from(vec![OWNER_OID; namespaces.len()])),
    ];
    let batch = RecordBatch::try_new(schema.clone(), columns)?;
    MemTable::try_new(schema, vec![vec![batch]])
}

fn pg_class(namespaces: &[Namespace]) -> Result<MemTable> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("oid", DataType::Int32, false),
        Field::new("relname", DataType::Utf8, false),
        Field::new("relnamespace", DataType::Int32, false),
        Field::new("relkind", DataType::Utf8, false),
        Field::new("relowner", DataType::Int32, false),
        Field::new("relam", DataType::Int32, false),
        Field::new("relpersistence", DataType::Utf8, false),
        Field::new("relispartition", DataType::Boolean, false),
        Field::new("relhasindex", DataType::Boolean, false),
        Field::new("relchecks", DataType::Int16, false),
        Field::new("reltoastrelid", DataType::Int32, false),
        Field::new("reloftype", DataType::Int32, false),
        Field::new("relhasrules", DataType::Boolean, false),
        Field::new("relhastriggers", DataType::Boolean, false),
        Field::new("relrowsecurity", DataType::Boolean, false),
        Field::new("relforcerowsecurity", DataType::Boolean, false),
        Field::new("relreplident", DataType::Utf8, false),
        Field::new("reltablespace", DataType::Int32, false),
        Field::new("reloptions", text_array(), true),
        Field::new("relpartbound", DataType::Utf8, true),
        Field::new("relnatts", DataType::Int16, false),
    ]));
    let rows: Vec<(i32, &str, &str, i32, i16)> = namespaces
        .iter()
        .flat_map(|(ns, _, tables)| {
            tables.iter().map(move |r| {
                let columns = i16::try_from(r.schema.fields().len()).unwrap_or(i16::MAX);
                (*ns, r.name.as_str(), r.kind, r.oid, columns)
            })
        })
        .collect();
    let n = rows.len();
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int32Array::from_iter_values(rows.iter().map(|r| r.3))),
        Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.1))),
        Arc::new(Int32Array::from_iter_values(rows.iter().map(|r| r.0))),
        Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.2))),
        Arc::new(Int32Array::from(vec![OWNER_OID; rows.len()])),
        Arc::new(Int32Array::from_iter_values(rows.iter().map(|r| {
            if r.2 == "r" {
                HEAP_OID
            } else {
                0
            }
        }))),
        Arc::new(StringArray::from(vec!["p"; n])),
        Arc::new(BooleanArray::from(vec![false; n])),
        Arc::new(BooleanArray::from(vec![false; n])),
        Arc::new(Int16Array::from(vec![0; n])),
        Arc::new(Int32Array::from(vec![0; n])),
        Arc::new(Int32Array::from(vec![0; n])),
        Arc::new(BooleanArray::from(vec![false; n])),
        Arc::new(BooleanArray::from(vec![false; n])),
        Arc::new(BooleanArray::from(vec![false; n])),
        Arc::new(BooleanArray::from(vec![false; n])),
        Arc::new(StringArray::from(vec!["d"; n])),
        Arc::new(Int32Array::from(vec![0; n])),
        Arc::new(ListArray::new_null(
            Arc::new(Field::new_list_field(DataType::Utf8, true)),
            n,
        )),
        Arc::new(StringArray::from(vec![None::<&str>; n])),
        Arc::new(Int16Array::from_iter_values(rows.iter().map(|r| r.4))),
    ];
    let batch = RecordBatch::try_new(schema.clone(), columns)?;
    MemTable::try_new(schema, vec![vec![batch]])
}

/// `text[]`, as the options columns are.
fn text_array() -> DataType {
    DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true)))
}

fn pg_am() -> Result<MemTable> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("oid", DataType::Int32, false),
        Field::new("amname", DataType::Utf8, false),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(Int32Array::from(vec![HEAP_OID])),
            Arc::new(StringArray::from(vec!["heap"])),
        ],
    )?;
    MemTable::try_new(schema, vec![vec![batch]])
}
