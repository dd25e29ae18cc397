//! One mapping of Arrow types to Postgres types, for everything the server says about a
//! column: the row descriptions of results, `pg_type`, `pg_attribute.atttypid` / `attlen`,
//! `format_type(oid, typmod)` (what psql's `\d` prints), and `information_schema.columns`'
//! `data_type` / `udt_name`.
//!
//! An Arrow type is first the Postgres type a column of it is sent as
//! ([`pg_type`]: `Int64` is `int8`, `Utf8` `text`, `Timestamp(_, Some(tz))`
//! `timestamptz`, structs and lists `text` holding JSON); every name here is derived from that
//! type, so what a catalog says a column is and what a client receives cannot differ:
//!
//! | Postgres type | `format_type` | `information_schema` `data_type` | `udt_name` |
//! |---|---|---|---|
//! | `int8` | `bigint` | `bigint` | `int8` |
//! | `text` | `text` | `text` | `text` |
//! | `timestamptz` | `timestamp with time zone` | `timestamp with time zone` | `timestamptz` |
//! | `float8` | `double precision` | `double precision` | `float8` |
//! | `bool` | `boolean` | `boolean` | `bool` |
//! | `json` | `json` | `json` | `json` |
//! | `_int8` (array) | `bigint[]` | `ARRAY` | `_int8` |
//!
//! `jobsql query`'s `DESCRIBE` and `SHOW COLUMNS` keep Arrow's names (`Int64`, `Utf8`): they
//! describe the DataFusion table, not a Postgres one.

use std::str::FromStr;

use datafusion::arrow::datatypes::DataType;
use pgwire::api::Type;

/// (type, typlen, typcategory) of the types listed in `pg_type`.
pub(crate) const TYPES: &[(Type, i16, &str)] = &[
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
    (Type::JSON_ARRAY, -1, "A"),
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
    (Type::JSON_ARRAY, Type::JSON),
];

/// The oid of `t` as `pg_catalog`'s `int4` columns hold it.
pub fn oid(t: &Type) -> i32 {
    i32::try_from(t.oid()).unwrap_or(0)
}

/// The element type of array type `t`, if `pg_type` lists it as one.
pub fn array_element(t: &Type) -> Option<Type> {
    ARRAYS.iter().find(|(a, _)| a == t).map(|(_, e)| e.clone())
}

/// The array type whose elements are `t`, if `pg_type` lists one.
pub fn array_of(t: &Type) -> Option<Type> {
    ARRAYS.iter().find(|(_, e)| e == t).map(|(a, _)| a.clone())
}

/// The oid of the type `pg_type` names `name` (`int8`, `text`, ...), if it lists it.
pub fn type_oid(name: &str) -> Option<i32> {
    TYPES
        .iter()
        .find(|(t, _, _)| t.name().eq_ignore_ascii_case(name))
        .map(|(t, _, _)| oid(t))
}

/// `typlen` / `attlen`: the fixed size of `t`, -1 for variable ones.
pub fn type_len(t: &Type) -> i16 {
    TYPES
        .iter()
        .find(|(listed, _, _)| listed == t)
        .map_or(-1, |(_, len, _)| *len)
}

/// `t`'s name as `format_type` and psql's `\d` spell it (`bigint`, `timestamp with time
/// zone`, `text[]`).
pub fn format_name(t: &Type) -> String {
    if let Some(element) = array_element(t) {
        return format!("{}[]", format_name(&element));
    }
    match *t {
        Type::INT2 => "smallint".into(),
        Type::INT4 => "integer".into(),
        Type::INT8 => "bigint".into(),
        Type::FLOAT4 => "real".into(),
        Type::FLOAT8 => "double precision".into(),
        Type::BOOL => "boolean".into(),
        Type::VARCHAR => "character varying".into(),
        Type::BPCHAR => "character".into(),
        Type::TIMESTAMP => "timestamp without time zone".into(),
        Type::TIMESTAMPTZ => "timestamp with time zone".into(),
        Type::TIME => "time without time zone".into(),
        _ => t.name().to_string(),
    }
}

/// `information_schema.columns.data_type` of a column of type `t`: [`format_name`], `ARRAY`
/// for arrays (as Postgres says).
pub fn data_type_name(t: &Type) -> String {
    if array_element(t).is_some() {
        "ARRAY".into()
    } else {
        format_name(t)
    }
}

/// `information_schema.columns.udt_name` of a column of type `t`: its `pg_type.typname`
/// (`int8`, `timestamptz`, `_text`).
pub fn udt_name(t: &Type) -> String {
    t.name().to_string()
}

/// The Postgres type of a column whose Arrow type DataFusion's `information_schema` spells
/// `arrow` (`Int64`, `Timestamp(µs, "UTC")`); `None` when it is not an Arrow type's name.
pub fn from_arrow_name(arrow: &str) -> Option<Type> {
    DataType::from_str(arrow).ok().map(|dt| pg_type(&dt))
}

/// The Postgres type a column of `dt` is sent as.
pub fn pg_type(dt: &DataType) -> Type {
    match dt {
        DataType::Boolean => Type::BOOL,
        DataType::Int8 | DataType::Int16 | DataType::UInt8 => Type::INT2,
        DataType::Int32 | DataType::UInt16 => Type::INT4,
        DataType::Int64 | DataType::UInt32 | DataType::UInt64 => Type::INT8,
        DataType::Float16 | DataType::Float32 => Type::FLOAT4,
        DataType::Float64 => Type::FLOAT8,
        DataType::Timestamp(_, Some(_)) => Type::TIMESTAMPTZ,
        DataType::Timestamp(_, None) => Type::TIMESTAMP,
        DataType::Date32 | DataType::Date64 => Type::DATE,
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => Type::BYTEA,
        DataType::List(f) | DataType::LargeList(f) if !f.data_type().is_nested() => {
            array_type(&pg_type(f.data_type()))
        }
        _ => Type::TEXT,
    }
}

/// The array type a list of `element`s is sent as (`text[]` when Postgres has none listed here).
pub fn array_type(element: &Type) -> Type {
    match *element {
        Type::BOOL => Type::BOOL_ARRAY,
        Type::INT2 => Type::INT2_ARRAY,
        Type::INT4 => Type::INT4_ARRAY,
        Type::INT8 => Type::INT8_ARRAY,
        Type::FLOAT4 => Type::FLOAT4_ARRAY,
        Type::FLOAT8 => Type::FLOAT8_ARRAY,
        Type::TIMESTAMPTZ => Type::TIMESTAMPTZ_ARRAY,
        Type::TIMESTAMP => Type::TIMESTAMP_ARRAY,
        Type::DATE => Type::DATE_ARRAY,
        Type::BYTEA => Type::BYTEA_ARRAY,
        _ => Type::TEXT_ARRAY,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::datatypes::{Field, TimeUnit};

    use super::*;

    #[test]
    fn arrow_types_have_one_postgres_name_each() {
        let utc = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
        let list = DataType::List(Arc::new(Field::new_list_field(DataType::Int64, true)));
        let strukt = DataType::Struct(vec![Field::new("a b", DataType::Utf8, true)].into());
        let names = |dt: &DataType| {
            let t = from_arrow_name(&dt.to_string()).expect("Arrow's name parses back");
            assert_eq!(t, pg_type(dt), "{dt}: the type a column is sent as");
            (
                format_name(&t),
                data_type_name(&t),
                udt_name(&t),
                type_len(&t),
            )
        };
        let row = |f: &str, d: &str, u: &str, l: i16| (f.into(), d.into(), u.into(), l);
        assert_eq!(names(&DataType::Int64), row("bigint", "bigint", "int8", 8));
        assert_eq!(
            names(&DataType::Int8),
            row("smallint", "smallint", "int2", 2)
        );
        assert_eq!(names(&DataType::Utf8), row("text", "text", "text", -1));
        assert_eq!(
            names(&DataType::Boolean),
            row("boolean", "boolean", "bool", 1)
        );
        assert_eq!(
            names(&DataType::Float64),
            row("double precision", "double precision", "float8", 8)
        );
        assert_eq!(
            names(&utc),
            row(
                "timestamp with time zone",
                "timestamp with time zone",
                "timestamptz",
                8
            )
        );
        // Lists and structs are sent as text holding JSON today: so the catalog says.
        assert_eq!(names(&list).0, format_name(&pg_type(&list)));
        assert_eq!(names(&strukt).0, format_name(&pg_type(&strukt)));
        assert_eq!(format_name(&Type::INT8_ARRAY), "bigint[]");
        assert_eq!(data_type_name(&Type::TEXT_ARRAY), "ARRAY");
        assert_eq!(udt_name(&Type::TEXT_ARRAY), "_text");
        assert_eq!(data_type_name(&Type::JSON), "json");
        assert_eq!(from_arrow_name("not a type"), None);
        assert_eq!(type_oid("timestamptz"), Some(1184));
    }
}
