//! The `pg_catalog` tables jobsql has no rows for: no functions to list, no keys, indexes,
//! defaults, sequences, inheritance, collations, policies, publications, extended statistics,
//! triggers, rules, dependencies or foreign tables. Each is registered with the columns psql,
//! pgcli and SQLAlchemy read, so their catalog queries plan and answer no rows.
//!
//! [`crate::catalog::rewrite`] relies on their being empty: a scalar subquery over one of them is
//! `NULL`, and a `SELECT` that inner-joins one of them has no rows
//! ([`crate::catalog::rewrite::catalog_queries`]).

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::catalog::{MemorySchemaProvider, SchemaProvider};
use datafusion::datasource::MemTable;
use datafusion::error::Result;

/// A column's type, written short.
#[derive(Clone, Copy)]
enum T {
    /// `bool`.
    B,
    /// `int2`.
    I16,
    /// `int4` (oids too).
    I32,
    /// `int8`.
    I64,
    /// `text` (arrays and expression trees too: there are none to hold).
    S,
}

/// Each empty table: its name and columns.
const TABLES: &[(&str, &[(&str, T)])] = {
    use T::{B, I16, I32, I64, S};
    &[
        (
            "pg_sequence",
            &[
                ("seqrelid", I32),
                ("seqtypid", I32),
                ("seqstart", I64),
                ("seqincrement", I64),
                ("seqmin", I64),
                ("seqmax", I64),
                ("seqcache", I64),
                ("seqcycle", B),
            ],
        ),
        (
            "pg_proc",
            &[
                ("oid", I32),
                ("proname", S),
                ("pronamespace", I32),
                ("prolang", I32),
                ("prokind", S),
                ("prorettype", I32),
                ("proargtypes", S),
                ("proallargtypes", S),
                ("proretset", B),
                ("proisagg", B),
                ("proiswindow", B),
                ("proargnames", S),
                ("proargmodes", S),
                ("proargdefaults", S),
                ("prosrc", S),
            ],
        ),
        (
            "pg_constraint",
            &[
                ("oid", I32),
                ("conname", S),
                ("connamespace", I32),
                ("contype", S),
                ("conrelid", I32),
                ("conindid", I32),
                ("conparentid", I32),
                ("confrelid", I32),
                ("conkey", S),
                ("confkey", S),
                ("condeferrable", B),
                ("condeferred", B),
                ("convalidated", B),
            ],
        ),
        (
            "pg_index",
            &[
                ("indexrelid", I32),
                ("indrelid", I32),
                ("indnatts", I16),
                ("indnkeyatts", I16),
                ("indisunique", B),
                ("indisprimary", B),
                ("indisclustered", B),
                ("indisvalid", B),
                ("indimmediate", B),
                ("indkey", S),
                ("indexprs", S),
                ("indpred", S),
            ],
        ),
        (
            "pg_attrdef",
            &[("oid", I32), ("adrelid", I32), ("adnum", I16), ("adbin", S)],
        ),
        (
            "pg_inherits",
            &[
                ("inhrelid", I32),
                ("inhparent", I32),
                ("inhseqno", I32),
                ("inhdetachpending", B),
            ],
        ),
        (
            "pg_collation",
            &[("oid", I32), ("collname", S), ("collnamespace", I32)],
        ),
        (
            "pg_policy",
            &[
                ("oid", I32),
                ("polname", S),
                ("polrelid", I32),
                ("polcmd", S),
                ("polpermissive", B),
                ("polroles", S),
                ("polqual", S),
                ("polwithcheck", S),
            ],
        ),
        (
            "pg_publication",
            &[
                ("oid", I32),
                ("pubname", S),
                ("pubowner", I32),
                ("puballtables", B),
                ("pubinsert", B),
                ("pubupdate", B),
                ("pubdelete", B),
                ("pubtruncate", B),
                ("pubviaroot", B),
            ],
        ),
        (
            "pg_publication_namespace",
            &[("oid", I32), ("pnpubid", I32), ("pnnspid", I32)],
        ),
        (
            "pg_publication_rel",
            &[
                ("oid", I32),
                ("prpubid", I32),
                ("prrelid", I32),
                ("prqual", S),
                ("prattrs", S),
            ],
        ),
        (
            "pg_statistic_ext",
            &[
                ("oid", I32),
                ("stxrelid", I32),
                ("stxname", S),
                ("stxnamespace", I32),
                ("stxowner", I32),
                ("stxstattarget", I32),
                ("stxkeys", S),
                ("stxkind", S),
            ],
        ),
        (
            "pg_trigger",
            &[
                ("oid", I32),
                ("tgrelid", I32),
                ("tgparentid", I32),
                ("tgname", S),
                ("tgfoid", I32),
                ("tgtype", I16),
                ("tgenabled", S),
                ("tgisinternal", B),
            ],
        ),
        (
            "pg_rewrite",
            &[
                ("oid", I32),
                ("rulename", S),
                ("ev_class", I32),
                ("ev_type", S),
                ("ev_enabled", S),
                ("is_instead", B),
            ],
        ),
        (
            "pg_depend",
            &[
                ("classid", I32),
                ("objid", I32),
                ("objsubid", I32),
                ("refclassid", I32),
                ("refobjid", I32),
                ("refobjsubid", I32),
                ("deptype", S),
            ],
        ),
        (
            "pg_foreign_table",
            &[("ftrelid", I32), ("ftserver", I32), ("ftoptions", S)],
        ),
        (
            "pg_language",
            &[("oid", I32), ("lanname", S), ("lanowner", I32)],
        ),
    ]
};

/// Whether `name` (lower case, without a schema) is one of the tables above.
pub fn is_empty_table(name: &str) -> bool {
    TABLES.iter().any(|(t, _)| *t == name)
}

/// Register the tables above in `schema` (`pg_catalog`).
pub fn register(schema: &MemorySchemaProvider) -> Result<()> {
    for (name, columns) in TABLES {
        let fields: Vec<Field> = columns
            .iter()
            .map(|(column, t)| {
                let dt = match t {
                    T::B => DataType::Boolean,
                    T::I16 => DataType::Int16,
                    T::I32 => DataType::Int32,
                    T::I64 => DataType::Int64,
                    T::S => DataType::Utf8,
                };
                Field::new(*column, dt, true)
            })
            .collect();
        let table = MemTable::try_new(Arc::new(Schema::new(fields)), vec![vec![]])?;
        schema.register_table((*name).to_string(), Arc::new(table))?;
    }
    Ok(())
}
