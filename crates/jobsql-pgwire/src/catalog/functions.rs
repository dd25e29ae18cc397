//! The Postgres functions clients call on connecting and in their catalog queries, registered
//! in each server session (also as `pg_catalog.<name>`) by [`crate::catalog::session::register`].
//!
//! `current_user` / `session_user` / `user` / `current_role` are `jobsql` (the role
//! `pg_roles` lists, whatever name the client logged in with); `current_schemas(bool)` is
//! `{pg_catalog,public}`; `pg_backend_pid()` a number of this connection;
//! `has_*_privilege(...)` and `pg_collation_is_visible(oid)` true; `pg_encoding_to_char(n)`
//! `UTF8`; `format_type(oid, typmod)` the type's name as psql's `\d` prints it
//! ([`crate::encode::types::format_name`]: `bigint`, `timestamp with time zone`; `NULL` for an
//! unknown oid); `to_regtype(name)` the
//! oid `pg_type` lists for the name, `to_regclass(name)` the `pg_class` oid of `name` (`table`
//! or `schema.table`); `pg_get_expr`, `pg_get_indexdef`, `pg_get_serial_sequence`,
//! `pg_get_constraintdef` and `obj_description` `NULL` (no defaults, indexes or constraints);
//! `col_description(table, column)` the spec's description of the column (what
//! `pg_description` holds; psql's `\d+` prints it), `json_build_object` too (only
//! SQLAlchemy's reflection of identity columns calls it, and jobsql has none).

use std::collections::HashMap;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, Int32Array, Int64Array, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::error::Result;
use datafusion::logical_expr::{ColumnarValue, ScalarUDF, Signature, SimpleScalarUDF, Volatility};
use datafusion::prelude::SessionContext;
use pgwire::api::Type;

/// The function `information_schema.columns.data_type` is read through.
pub const DATA_TYPE_FUNCTION: &str = "jobsql_pg_data_type";
/// The function `information_schema.columns.udt_name` is read through.
pub const UDT_NAME_FUNCTION: &str = "jobsql_pg_udt_name";

/// How many arguments a function takes.
#[derive(Clone, Copy)]
enum Args {
    /// Exactly this many, of any type.
    Exactly(usize),
    /// Any number, of any type.
    Any,
}

/// The next connection's `pg_backend_pid()`.
static NEXT_PID: AtomicI32 = AtomicI32::new(1_000);

/// Register the functions above in `ctx`.
pub fn register(ctx: &SessionContext) {
    let yes = ScalarValue::Boolean(Some(true));
    let text = |v: &str| ScalarValue::Utf8(Some(v.to_string()));
    let null = ScalarValue::Utf8(None);
    let schemas = ScalarValue::List(ScalarValue::new_list_nullable(
        &[text("pg_catalog"), text("public")],
        &DataType::Utf8,
    ));
    let pid = ScalarValue::Int32(Some(NEXT_PID.fetch_add(1, Ordering::Relaxed)));
    let mut constants: Vec<(String, Args, ScalarValue)> = [
        ("current_user", Args::Exactly(0), text("jobsql")),
        ("session_user", Args::Exactly(0), text("jobsql")),
        ("current_role", Args::Exactly(0), text("jobsql")),
        ("user", Args::Exactly(0), text("jobsql")),
        ("current_schemas", Args::Exactly(1), schemas),
        ("pg_backend_pid", Args::Exactly(0), pid),
        ("pg_encoding_to_char", Args::Exactly(1), text("UTF8")),
        ("pg_get_expr", Args::Any, null.clone()),
        ("pg_get_indexdef", Args::Any, null.clone()),
        ("pg_get_serial_sequence", Args::Any, null.clone()),
        ("pg_collation_is_visible", Args::Exactly(1), yes.clone()),
        ("pg_get_constraintdef", Args::Any, null.clone()),
        ("obj_description", Args::Any, null.clone()),
        ("shobj_description", Args::Any, null.clone()),
        // Only in SQLAlchemy's reflection of identity columns, which jobsql has none of.
        ("json_build_object", Args::Any, null),
    ]
    .into_iter()
    .map(|(n, a, v)| (n.to_string(), a, v))
    .collect();
    for privilege in [
        "table",
        "schema",
        "database",
        "column",
        "any_column",
        "function",
        "sequence",
    ] {
        constants.push((format!("has_{privilege}_privilege"), Args::Any, yes.clone()));
    }
    for (name, args, value) in constants {
        ctx.register_udf(constant(&name, args, value.clone()));
        ctx.register_udf(constant(&format!("pg_catalog.{name}"), args, value));
    }
    for name in ["to_regtype", "pg_catalog.to_regtype"] {
        ctx.register_udf(ScalarUDF::from(SimpleScalarUDF::new_with_signature(
            name,
            Signature::any(1, Volatility::Immutable),
            DataType::Int32,
            Arc::new(to_regtype),
        )));
    }
    ctx.register_udf(type_names(
        DATA_TYPE_FUNCTION,
        crate::encode::types::data_type_name,
    ));
    ctx.register_udf(type_names(
        UDT_NAME_FUNCTION,
        crate::encode::types::udt_name,
    ));
    for name in ["format_type", "pg_catalog.format_type"] {
        ctx.register_udf(ScalarUDF::from(SimpleScalarUDF::new_with_signature(
            name,
            Signature::any(2, Volatility::Immutable),
            DataType::Utf8,
            Arc::new(format_type),
        )));
    }
}

/// `name(arrow_type_name)`: `spell` of the Postgres type of a column of that Arrow type (the
/// text itself when it names no Arrow type), for `information_schema.columns`.
fn type_names(name: &str, spell: fn(&Type) -> String) -> ScalarUDF {
    let fun = Arc::new(move |args: &[ColumnarValue]| {
        let Some(first) = args.first() else {
            return Ok(ColumnarValue::Scalar(ScalarValue::Utf8(None)));
        };
        let rows = match first {
            ColumnarValue::Array(a) => a.len(),
            ColumnarValue::Scalar(_) => 1,
        };
        let names = cast(&first.to_array(rows)?, &DataType::Utf8)?;
        let spelled: StringArray = names
            .as_any()
            .downcast_ref::<StringArray>()
            .map(|a| {
                a.iter()
                    .map(|n| {
                        n.map(|n| {
                            crate::encode::types::from_arrow_name(n)
                                .map_or_else(|| n.to_string(), |t| spell(&t))
                        })
                    })
                    .collect()
            })
            .unwrap_or_else(|| StringArray::from(vec![None::<&str>; rows]));
        let array: ArrayRef = Arc::new(spelled);
        Ok(match first {
            ColumnarValue::Array(_) => ColumnarValue::Array(array),
            ColumnarValue::Scalar(_) => {
                ColumnarValue::Scalar(ScalarValue::try_from_array(&array, 0)?)
            }
        })
    });
    ScalarUDF::from(SimpleScalarUDF::new_with_signature(
        name,
        Signature::any(1, Volatility::Immutable),
        DataType::Utf8,
        fun,
    ))
}

/// A function of `args` that always answers `value`.
fn constant(name: &str, args: Args, value: ScalarValue) -> ScalarUDF {
    let return_type = value.data_type();
    let fun = Arc::new(move |_: &[ColumnarValue]| Ok(ColumnarValue::Scalar(value.clone())));
    let signature = match args {
        Args::Exactly(0) => Signature::nullary(Volatility::Stable),
        Args::Exactly(n) => Signature::any(n, Volatility::Stable),
        Args::Any => Signature::variadic_any(Volatility::Stable),
    };
    ScalarUDF::from(SimpleScalarUDF::new_with_signature(
        name,
        signature,
        return_type,
        fun,
    ))
}

/// `format_type(oid, typmod)`: the type's name, `NULL` for a `NULL` or unknown oid.
fn format_type(args: &[ColumnarValue]) -> Result<ColumnarValue> {
    let Some(first) = args.first() else {
        return Ok(ColumnarValue::Scalar(ScalarValue::Utf8(None)));
    };
    let rows = match first {
        ColumnarValue::Array(a) => a.len(),
        ColumnarValue::Scalar(_) => 1,
    };
    let oids = cast(&first.to_array(rows)?, &DataType::Int64)?;
    let oids = oids
        .as_any()
        .downcast_ref::<Int64Array>()
        .map(|a| a.iter().collect::<Vec<_>>())
        .unwrap_or_default();
    let names: StringArray = oids
        .into_iter()
        .map(|oid| {
            let oid = u32::try_from(oid?).ok()?;
            Type::from_oid(oid).map(|t| crate::encode::types::format_name(&t))
        })
        .collect();
    let array: ArrayRef = Arc::new(names);
    Ok(match first {
        ColumnarValue::Array(_) => ColumnarValue::Array(array),
        ColumnarValue::Scalar(_) => ColumnarValue::Scalar(ScalarValue::try_from_array(&array, 0)?),
    })
}

/// Register `to_regclass(name)` over `relations` (`(schema, table, oid)`).
pub fn register_regclass(ctx: &SessionContext, relations: Vec<(String, String, i32)>) {
    let relations = Arc::new(relations);
    for name in ["to_regclass", "pg_catalog.to_regclass"] {
        let relations = relations.clone();
        let fun = Arc::new(move |args: &[ColumnarValue]| {
            lookup(args, |name| {
                let parts: Vec<String> = name
                    .rsplitn(2, '.')
                    .map(|p| p.trim_matches('"').to_string())
                    .collect();
                relations
                    .iter()
                    .find(|(schema, table, _)| match parts.as_slice() {
                        [t] => t == table,
                        [t, s] => t == table && s == schema,
                        _ => false,
                    })
                    .map(|r| r.2)
            })
        });
        ctx.register_udf(ScalarUDF::from(SimpleScalarUDF::new_with_signature(
            name,
            Signature::any(1, Volatility::Stable),
            DataType::Int32,
            fun,
        )));
    }
}

/// Register `col_description(table oid, column number)` over `descriptions`
/// (`(table oid, column number, description)`, as `pg_description` lists them).
pub fn register_col_description(ctx: &SessionContext, descriptions: Vec<(i32, i32, String)>) {
    let descriptions: Arc<HashMap<(i64, i64), String>> = Arc::new(
        descriptions
            .into_iter()
            .map(|(table, column, d)| ((i64::from(table), i64::from(column)), d))
            .collect(),
    );
    for name in ["col_description", "pg_catalog.col_description"] {
        let descriptions = descriptions.clone();
        let fun = Arc::new(move |args: &[ColumnarValue]| {
            let rows = args
                .iter()
                .find_map(|a| match a {
                    ColumnarValue::Array(a) => Some(a.len()),
                    ColumnarValue::Scalar(_) => None,
                })
                .unwrap_or(1);
            let numbers = |i: usize| -> Result<Vec<Option<i64>>> {
                let Some(arg) = args.get(i) else {
                    return Ok(vec![None; rows]);
                };
                let ints = cast(&arg.to_array(rows)?, &DataType::Int64)?;
                Ok(ints
                    .as_any()
                    .downcast_ref::<Int64Array>()
                    .map(|a| a.iter().collect())
                    .unwrap_or_else(|| vec![None; rows]))
            };
            let (tables, columns) = (numbers(0)?, numbers(1)?);
            let found: StringArray = tables
                .iter()
                .zip(&columns)
                .map(|(t, c)| descriptions.get(&((*t)?, (*c)?)).cloned())
                .collect();
            let array: ArrayRef = Arc::new(found);
            Ok(
                if args.iter().any(|a| matches!(a, ColumnarValue::Array(_))) {
                    ColumnarValue::Array(array)
                } else {
                    ColumnarValue::Scalar(ScalarValue::try_from_array(&array, 0)?)
                },
            )
        });
        ctx.register_udf(ScalarUDF::from(SimpleScalarUDF::new_with_signature(
            name,
            Signature::any(2, Volatility::Stable),
            DataType::Utf8,
            fun,
        )));
    }
}

/// `to_regtype(name)`: the oid of the type named `name` in `pg_type`, `NULL` if none.
fn to_regtype(args: &[ColumnarValue]) -> Result<ColumnarValue> {
    lookup(args, crate::encode::types::type_oid)
}

/// A function of one text argument answering `find(text)` (`NULL` for `NULL`).
fn lookup(args: &[ColumnarValue], find: impl Fn(&str) -> Option<i32>) -> Result<ColumnarValue> {
    let Some(first) = args.first() else {
        return Ok(ColumnarValue::Scalar(ScalarValue::Int32(None)));
    };
    let rows = match first {
        ColumnarValue::Array(a) => a.len(),
        ColumnarValue::Scalar(_) => 1,
    };
    let names = cast(&first.to_array(rows)?, &DataType::Utf8)?;
    let oids: Int32Array = names
        .as_any()
        .downcast_ref::<StringArray>()
        .map(|a| a.iter().map(|n| n.and_then(&find)).collect())
        .unwrap_or_else(|| Int32Array::from(vec![None; rows]));
    let array: ArrayRef = Arc::new(oids);
    Ok(match first {
        ColumnarValue::Array(_) => ColumnarValue::Array(array),
        ColumnarValue::Scalar(_) => ColumnarValue::Scalar(ScalarValue::try_from_array(&array, 0)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_type_names_postgres_types() {
        let oids = ColumnarValue::Array(Arc::new(Int64Array::from(vec![
            Some(20),
            Some(1184),
            Some(25),
            None,
            Some(-5),
        ])));
        let typmod = ColumnarValue::Scalar(ScalarValue::Int32(Some(-1)));
        let ColumnarValue::Array(out) = format_type(&[oids, typmod]).expect("formats") else {
            panic!("an array in, an array out");
        };
        let out = out.as_any().downcast_ref::<StringArray>().expect("text");
        let got: Vec<Option<&str>> = out.iter().collect();
        assert_eq!(
            got,
            [
                Some("bigint"),
                Some("timestamp with time zone"),
                Some("text"),
                None,
                None
            ]
        );
    }
}
