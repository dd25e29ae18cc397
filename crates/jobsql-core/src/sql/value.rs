//! A value as SQL gave it (an EXEC parameter, an INSERT cell), before the write path types it
//! for an API parameter.

use datafusion::common::ScalarValue;

/// A value as SQL gave it, before it is typed for a parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    /// `NULL`: the parameter is left out.
    Null,
    /// Text.
    Text(String),
    /// An integer.
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// `true` / `false`.
    Bool(bool),
}

impl SqlValue {
    /// A DataFusion scalar (an INSERT cell) as a SQL value; nested values become JSON text.
    pub fn from_scalar(value: &ScalarValue) -> SqlValue {
        if value.is_null() {
            return SqlValue::Null;
        }
        match value {
            ScalarValue::Boolean(Some(b)) => SqlValue::Bool(*b),
            ScalarValue::Int8(Some(i)) => SqlValue::Int(i64::from(*i)),
            ScalarValue::Int16(Some(i)) => SqlValue::Int(i64::from(*i)),
            ScalarValue::Int32(Some(i)) => SqlValue::Int(i64::from(*i)),
            ScalarValue::Int64(Some(i)) => SqlValue::Int(*i),
            ScalarValue::UInt8(Some(i)) => SqlValue::Int(i64::from(*i)),
            ScalarValue::UInt16(Some(i)) => SqlValue::Int(i64::from(*i)),
            ScalarValue::UInt32(Some(i)) => SqlValue::Int(i64::from(*i)),
            ScalarValue::UInt64(Some(i)) => match i64::try_from(*i) {
                Ok(i) => SqlValue::Int(i),
                Err(_) => SqlValue::Text(i.to_string()),
            },
            ScalarValue::Float32(Some(f)) => SqlValue::Float(f64::from(*f)),
            ScalarValue::Float64(Some(f)) => SqlValue::Float(*f),
            ScalarValue::Utf8(Some(s))
            | ScalarValue::LargeUtf8(Some(s))
            | ScalarValue::Utf8View(Some(s)) => SqlValue::Text(s.clone()),
            other => SqlValue::Text(other.to_string()),
        }
    }

    /// How the value reads in an error message.
    pub fn quoted(&self) -> String {
        match self {
            SqlValue::Null => "NULL".to_string(),
            SqlValue::Text(s) => format!("'{s}'"),
            SqlValue::Int(i) => i.to_string(),
            SqlValue::Float(f) => f.to_string(),
            SqlValue::Bool(b) => b.to_string(),
        }
    }
}
