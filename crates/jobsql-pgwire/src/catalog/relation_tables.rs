//! The `pg_catalog` tables beyond `pg_type` / `pg_namespace` / `pg_class` (see
//! [`crate::catalog::session`]) that psql, SQLAlchemy and pgcli read: built per connection from the
//! relations [`crate::catalog::session`] lists, so their oids agree with `pg_class`.
//!
//! - `pg_attribute`: a row per column (`attrelid` = the table's `pg_class.oid`, `atttypid` the
//!   Postgres type the server sends it as, `attnum` from 1).
//! - `pg_description`: the spec's column descriptions (`objoid` the table, `objsubid` the column).
//! - `pg_database`: one database, `jobsql`; `pg_settings`: the settings `SHOW` answers;
//!   `pg_roles` / `pg_user`: the role `jobsql`.
//! - [`crate::catalog::empty_tables`]: `pg_proc`, `pg_constraint`, `pg_index`, `pg_policy`, `pg_trigger`,
//!   ...: their usual columns and no rows.

use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, BooleanArray, Int16Array, Int32Array, ListArray, RecordBatch, StringArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::MemorySchemaProvider;
use datafusion::catalog::SchemaProvider;
use datafusion::datasource::MemTable;
use datafusion::error::Result;

use crate::encode::types::pg_type;
use jobsql_core::provider::table::DESCRIPTION_KEY;

/// A relation as `pg_class` lists it: its oid, name, `relkind` and columns.
#[derive(Debug, Clone)]
pub struct Relation {
    /// Its `pg_class.oid`.
    pub oid: i32,
    /// Its name in its schema.
    pub name: String,
    /// `r` (table) or `v` (view).
    pub kind: &'static str,
    /// Its columns.
    pub schema: SchemaRef,
}

/// The oid of the one database, `jobsql`.
const DATABASE_OID: i32 = 16_383;

fn table(schema: Schema, columns: Vec<ArrayRef>) -> Result<Arc<MemTable>> {
    let schema = Arc::new(schema);
    let batch = RecordBatch::try_new(schema.clone(), columns)?;
    Ok(Arc::new(MemTable::try_new(schema, vec![vec![batch]])?))
}

fn text(values: Vec<&str>) -> ArrayRef {
    Arc::new(StringArray::from(values))
}

fn null_text(name: &str) -> Field {
    Field::new(name, DataType::Utf8, true)
}

/// Register the tables above in `schema` (`pg_catalog`), `relations` being `pg_class`' rows.
pub fn register(
    schema: &MemorySchemaProvider,
    relations: &[Relation],
    settings: &[(&str, &str)],
) -> Result<()> {
    schema.register_table("pg_attribute".into(), pg_attribute(relations)?)?;
    schema.register_table("pg_description".into(), pg_description(relations)?)?;
    schema.register_table("pg_database".into(), pg_database()?)?;
    schema.register_table("pg_settings".into(), pg_settings(settings)?)?;
    schema.register_table("pg_roles".into(), pg_roles("rolname")?)?;
    schema.register_table("pg_user".into(), pg_roles("usename")?)?;
    crate::catalog::empty_tables::register(schema)?;
    Ok(())
}

fn pg_attribute(relations: &[Relation]) -> Result<Arc<MemTable>> {
    let mut relid = Vec::new();
    let mut name = Vec::new();
    let mut typid = Vec::new();
    let mut num = Vec::new();
    let mut notnull = Vec::new();
    let mut len = Vec::new();
    let mut storage = Vec::new();
    for r in relations {
        for (i, f) in r.schema.fields().iter().enumerate() {
            let ty = pg_type(f.data_type());
            relid.push(r.oid);
            name.push(f.name().clone());
            typid.push(i32::try_from(ty.oid()).unwrap_or(0));
            num.push(i16::try_from(i + 1).unwrap_or(i16::MAX));
            notnull.push(!f.is_nullable());
            let fixed = crate::encode::types::type_len(&ty);
            len.push(fixed);
            // `\d+`'s Storage: plain for fixed-size types, extended for the others.
            storage.push(if fixed > 0 { "p" } else { "x" });
        }
    }
    let n = relid.len();
    table(
        Schema::new(vec![
            Field::new("attrelid", DataType::Int32, false),
            Field::new("attname", DataType::Utf8, false),
            Field::new("atttypid", DataType::Int32, false),
            Field::new("attnum", DataType::Int16, false),
            Field::new("attnotnull", DataType::Boolean, false),
            Field::new("attlen", DataType::Int16, false),
            Field::new("atttypmod", DataType::Int32, false),
            Field::new("attndims", DataType::Int16, false),
            Field::new("attisdropped", DataType::Boolean, false),
            Field::new("atthasdef", DataType::Boolean, false),
            Field::new("attidentity", DataType::Utf8, false),
            Field::new("attgenerated", DataType::Utf8, false),
            Field::new("attcollation", DataType::Int32, false),
            Field::new("attstorage", DataType::Utf8, false),
            Field::new("attcompression", DataType::Utf8, false),
            Field::new("attstattarget", DataType::Int16, false),
            null_text("attoptions"),
            null_text("attfdwoptions"),
        ]),
        vec![
            Arc::new(Int32Array::from(relid)),
            Arc::new(StringArray::from(name)),
            Arc::new(Int32Array::from(typid)),
            Arc::new(Int16Array::from(num)),
            Arc::new(BooleanArray::from(notnull)),
            Arc::new(Int16Array::from(len)),
            Arc::new(Int32Array::from(vec![-1; n])),
            Arc::new(Int16Array::from(vec![0; n])),
            Arc::new(BooleanArray::from(vec![false; n])),
            Arc::new(BooleanArray::from(vec![false; n])),
            text(vec![""; n]),
            text(vec![""; n]),
            Arc::new(Int32Array::from(vec![0; n])),
            text(storage),
            text(vec![""; n]),
            Arc::new(Int16Array::from(vec![-1; n])),
            Arc::new(StringArray::from(vec![None::<&str>; n])),
            Arc::new(StringArray::from(vec![None::<&str>; n])),
        ],
    )
}

/// The spec's column descriptions of `relations`: (table oid, column number from 1, text).
pub fn descriptions(relations: &[Relation]) -> Vec<(i32, i32, String)> {
    let mut out = Vec::new();
    for r in relations {
        for (i, f) in r.schema.fields().iter().enumerate() {
            if let Some(d) = f.metadata().get(DESCRIPTION_KEY).filter(|d| !d.is_empty()) {
                out.push((r.oid, i32::try_from(i + 1).unwrap_or(i32::MAX), d.clone()));
            }
        }
    }
    out
}

fn pg_description(relations: &[Relation]) -> Result<Arc<MemTable>> {
    let (mut objoid, mut subid, mut description) = (Vec::new(), Vec::new(), Vec::new());
    for (table, column, text) in descriptions(relations) {
        objoid.push(table);
        subid.push(column);
        description.push(text);
    }
    let n = objoid.len();
    table(
        Schema::new(vec![
            Field::new("objoid", DataType::Int32, false),
            Field::new("classoid", DataType::Int32, false),
            Field::new("objsubid", DataType::Int32, false),
            Field::new("description", DataType::Utf8, false),
        ]),
        vec![
            Arc::new(Int32Array::from(objoid)),
            // pg_class' oid: the descriptions are of relations' columns.
            Arc::new(Int32Array::from(vec![1259; n])),
            Arc::new(Int32Array::from(subid)),
            Arc::new(StringArray::from(description)),
        ],
    )
}

fn pg_database() -> Result<Arc<MemTable>> {
    let acl = ListArray::new_null(Arc::new(Field::new_list_field(DataType::Utf8, true)), 1);
    table(
        Schema::new(vec![
            Field::new("oid", DataType::Int32, false),
            Field::new("datname", DataType::Utf8, false),
            Field::new("datdba", DataType::Int32, false),
            Field::new("encoding", DataType::Int32, false),
            Field::new("datlocprovider", DataType::Utf8, false),
            Field::new("datistemplate", DataType::Boolean, false),
            Field::new("datallowconn", DataType::Boolean, false),
            Field::new("datcollate", DataType::Utf8, false),
            Field::new("datctype", DataType::Utf8, false),
            null_text("daticulocale"),
            null_text("datlocale"),
            null_text("daticurules"),
            Field::new("dattablespace", DataType::Int32, false),
            Field::new(
                "datacl",
                DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true))),
                true,
            ),
        ]),
        vec![
            Arc::new(Int32Array::from(vec![DATABASE_OID])),
            text(vec!["jobsql"]),
            Arc::new(Int32Array::from(vec![10])),
            // UTF8
            Arc::new(Int32Array::from(vec![6])),
            text(vec!["c"]),
            Arc::new(BooleanArray::from(vec![false])),
            Arc::new(BooleanArray::from(vec![true])),
            text(vec!["C"]),
            text(vec!["C"]),
            Arc::new(StringArray::from(vec![None::<&str>])),
            Arc::new(StringArray::from(vec![None::<&str>])),
            Arc::new(StringArray::from(vec![None::<&str>])),
            Arc::new(Int32Array::from(vec![1663])),
            Arc::new(acl),
        ],
    )
}

fn pg_settings(settings: &[(&str, &str)]) -> Result<Arc<MemTable>> {
    table(
        Schema::new(vec![
            Field::new("name", DataType::Utf8, false),
            Field::new("setting", DataType::Utf8, false),
            null_text("unit"),
            Field::new("category", DataType::Utf8, false),
            Field::new("short_desc", DataType::Utf8, false),
            Field::new("context", DataType::Utf8, false),
            Field::new("vartype", DataType::Utf8, false),
            Field::new("source", DataType::Utf8, false),
        ]),
        vec![
            text(settings.iter().map(|(k, _)| *k).collect()),
            text(settings.iter().map(|(_, v)| *v).collect()),
            Arc::new(StringArray::from(vec![None::<&str>; settings.len()])),
            text(vec!["jobsql"; settings.len()]),
            text(vec![""; settings.len()]),
            text(vec!["internal"; settings.len()]),
            text(vec!["string"; settings.len()]),
            text(vec!["default"; settings.len()]),
        ],
    )
}

fn pg_roles(name_column: &str) -> Result<Arc<MemTable>> {
    table(
        Schema::new(vec![
            Field::new("oid", DataType::Int32, false),
            Field::new(name_column, DataType::Utf8, false),
            Field::new("rolsuper", DataType::Boolean, false),
            Field::new("rolcanlogin", DataType::Boolean, false),
        ]),
        vec![
            Arc::new(Int32Array::from(vec![10])),
            text(vec!["jobsql"]),
            Arc::new(BooleanArray::from(vec![false])),
            Arc::new(BooleanArray::from(vec![true])),
        ],
    )
}
