//! Bind parameters: each value is decoded by its Postgres type (the client's, else the one the
//! server announced) into a `ScalarValue`, then cast to the type DataFusion inferred for the
//! placeholder. An array parameter (`= ANY($1)` with a list) is read from Postgres' array text
//! (`{1,2,3}`, [`super::text_forms::array_items`]) or its binary array format.

use chrono::{DateTime, FixedOffset, NaiveDateTime};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use pgwire::api::Type;
use pgwire::error::PgWireResult;

use crate::encode::columns::encode_error;
use crate::encode::text_forms::array_items;
use crate::encode::types::{array_element, pg_type};

/// A one-dimensional array parameter sent in Postgres' binary array format, as a list.
fn binary_array<S: Clone>(
    portal: &pgwire::api::portal::Portal<S>,
    idx: usize,
    ty: &Type,
    element: &Type,
) -> PgWireResult<ScalarValue> {
    // Each item type's decoding (pgwire decodes `Vec<Option<T>>` from the binary array).
    macro_rules! items {
        ($t:ty, $scalar:expr) => {
            portal
                .parameter::<Vec<Option<$t>>>(idx, ty)?
                .map(|v| v.into_iter().map($scalar).collect::<Vec<ScalarValue>>())
        };
    }
    let (items, item_type) = match *element {
        Type::INT2 => (items!(i16, ScalarValue::Int16), DataType::Int16),
        Type::INT4 => (items!(i32, ScalarValue::Int32), DataType::Int32),
        Type::INT8 => (items!(i64, ScalarValue::Int64), DataType::Int64),
        Type::FLOAT4 => (items!(f32, ScalarValue::Float32), DataType::Float32),
        Type::FLOAT8 => (items!(f64, ScalarValue::Float64), DataType::Float64),
        Type::BOOL => (items!(bool, ScalarValue::Boolean), DataType::Boolean),
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME => {
            (items!(String, ScalarValue::Utf8), DataType::Utf8)
        }
        _ => {
            return Err(encode_error(format!(
                "parameter ${}: a binary {} is not supported; send it as text",
                idx + 1,
                ty.name()
            )))
        }
    };
    Ok(match items {
        Some(items) => ScalarValue::List(ScalarValue::new_list_nullable(&items, &item_type)),
        None => ScalarValue::Null,
    })
}

/// A Postgres array literal (`{1,2,"a b",NULL}`, one dimension) of `element`s, as a list.
fn array_literal(text: &str, element: &Type, idx: usize) -> PgWireResult<ScalarValue> {
    let bad = || {
        encode_error(format!(
            "parameter ${}: not a one-dimensional array: {text}",
            idx + 1
        ))
    };
    let target = match *element {
        Type::INT2 | Type::INT4 | Type::INT8 | Type::OID => DataType::Int64,
        Type::FLOAT4 | Type::FLOAT8 | Type::NUMERIC => DataType::Float64,
        Type::BOOL => DataType::Boolean,
        _ => DataType::Utf8,
    };
    let mut items = Vec::new();
    for item in array_items(text).ok_or_else(bad)? {
        let value = match item {
            None => ScalarValue::try_from(&target).map_err(|e| encode_error(e.to_string()))?,
            Some(item) => ScalarValue::Utf8(Some(item))
                .cast_to(&target)
                .map_err(|e| encode_error(format!("parameter ${}: {text}: {e}", idx + 1)))?,
        };
        items.push(value);
    }
    Ok(ScalarValue::List(ScalarValue::new_list_nullable(
        &items, &target,
    )))
}

/// The Postgres type a placeholder of `dt` is announced as (`text` when unknown).
pub fn param_type(dt: Option<&DataType>) -> Type {
    match dt {
        Some(dt) => pg_type(dt),
        None => Type::TEXT,
    }
}

/// Bind parameter `idx` of `portal`, decoded as `ty` and cast to `target` (when known).
pub fn param_value<S: Clone>(
    portal: &pgwire::api::portal::Portal<S>,
    idx: usize,
    ty: &Type,
    target: Option<&DataType>,
) -> PgWireResult<ScalarValue> {
    let value = if *ty == Type::BOOL {
        ScalarValue::Boolean(portal.parameter::<bool>(idx, ty)?)
    } else if *ty == Type::INT2 {
        ScalarValue::Int16(portal.parameter::<i16>(idx, ty)?)
    } else if *ty == Type::INT4 {
        ScalarValue::Int32(portal.parameter::<i32>(idx, ty)?)
    } else if *ty == Type::INT8 {
        ScalarValue::Int64(portal.parameter::<i64>(idx, ty)?)
    } else if *ty == Type::FLOAT4 {
        ScalarValue::Float32(portal.parameter::<f32>(idx, ty)?)
    } else if *ty == Type::FLOAT8 {
        ScalarValue::Float64(portal.parameter::<f64>(idx, ty)?)
    } else if *ty == Type::TIMESTAMPTZ {
        let v = portal.parameter::<DateTime<FixedOffset>>(idx, ty)?;
        ScalarValue::TimestampMicrosecond(v.map(|t| t.timestamp_micros()), Some("UTC".into()))
    } else if *ty == Type::TIMESTAMP {
        let v = portal.parameter::<NaiveDateTime>(idx, ty)?;
        ScalarValue::TimestampMicrosecond(v.map(|t| t.and_utc().timestamp_micros()), None)
    } else if let Some(element) = array_element(ty) {
        // `= ANY($1)` with a list: `{1,2,3}` (or Postgres' binary array) as a list of the
        // element type.
        if portal.parameter_format.is_text(idx) {
            match portal.parameter::<String>(idx, &Type::TEXT)? {
                Some(text) => array_literal(&text, &element, idx)?,
                None => ScalarValue::Null,
            }
        } else {
            binary_array(portal, idx, ty, &element)?
        }
    } else {
        // text, varchar, unknown; any other type only when sent as text: its text.
        match portal.parameter::<String>(idx, ty) {
            Ok(v) => ScalarValue::Utf8(v),
            Err(_) if portal.parameter_format.is_text(idx) => {
                ScalarValue::Utf8(portal.parameter::<String>(idx, &Type::TEXT)?)
            }
            Err(e) => return Err(e),
        }
    };
    match target {
        Some(dt) if dt != &value.data_type() => value.cast_to(dt).map_err(|e| {
            encode_error(format!(
                "parameter ${}: cannot use {value} as {dt}: {e}",
                idx + 1
            ))
        }),
        _ => Ok(value),
    }
}
