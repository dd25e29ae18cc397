//! Arrow ⇄ Postgres values for the wire protocol.
//!
//! Result columns: integers are `int2` / `int4` / `int8` (unsigned ones widened; a `UInt64`
//! beyond `i64` is an error), floats `float4` / `float8`, booleans `bool`, strings `text`,
//! timestamps `timestamptz` (with a time zone; `timestamp` without), dates `date`, binary
//! `bytea`; lists of those are Postgres arrays (`int8[]`, `text[]`, ...: see [`super::arrays`]);
//! structs, maps and lists of them are `text` holding JSON (as `jobsql query --format csv`
//! writes them); anything else is `text` in Arrow's display form. Each value is encoded in the
//! format the client asked for (text, or binary for e.g. tokio-postgres).
//!
//! Bind parameters: each value is decoded by its Postgres type (the client's, else the one the
//! server announced) into a `ScalarValue`, then cast to the type DataFusion inferred for the
//! placeholder.

use std::sync::Arc;

use chrono::{DateTime, FixedOffset, NaiveDateTime};
use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{
    DataType, Date32Type, Float16Type, Float32Type, Float64Type, Int16Type, Int32Type, Int64Type,
    Int8Type, Schema, TimeUnit, TimestampMicrosecondType, UInt16Type, UInt32Type, UInt64Type,
    UInt8Type,
};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::temporal_conversions::{date32_to_datetime, timestamp_us_to_datetime};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::common::ScalarValue;
use pgwire::api::portal::Format;
use pgwire::api::results::{DataRowEncoder, FieldFormat, FieldInfo};
use pgwire::api::Type;
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use pgwire::messages::data::DataRow;
use pgwire::types::format::FormatOptions as PgFormatOptions;

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
            super::arrays::array_of(&pg_type(f.data_type()))
        }
        _ => Type::TEXT,
    }
}

/// The row description of `schema`, in the formats the client asked for.
pub fn fields(schema: &Schema, format: &Format) -> Vec<FieldInfo> {
    schema
        .fields()
        .iter()
        .enumerate()
        .map(|(i, f)| {
            FieldInfo::new(
                f.name().clone(),
                None,
                None,
                pg_type(f.data_type()),
                format.format_for(i),
            )
        })
        .collect()
}

pub(super) fn encode_error(message: impl Into<String>) -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new(
        "ERROR".to_string(),
        "22000".to_string(),
        message.into(),
    )))
}

/// A column as sent: the array converted to what its Postgres type encodes from.
pub(super) enum Column {
    Bool(ArrayRef),
    Int(ArrayRef),
    Float4(ArrayRef),
    Float8(ArrayRef),
    Timestamp(ArrayRef),
    Date(ArrayRef),
    Binary(ArrayRef),
    Text(ArrayRef),
    /// A list of scalars ([`super::arrays`]).
    List(super::arrays::ListColumn),
}

pub(super) fn prepare(field_type: &DataType, array: &ArrayRef) -> PgWireResult<Column> {
    let arrow = |e: datafusion::arrow::error::ArrowError| encode_error(e.to_string());
    Ok(match field_type {
        DataType::Boolean => Column::Bool(array.clone()),
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64 => Column::Int(array.clone()),
        DataType::Float16 | DataType::Float32 => Column::Float4(array.clone()),
        DataType::Float64 => Column::Float8(array.clone()),
        DataType::Timestamp(_, _) => Column::Timestamp(
            cast(array, &DataType::Timestamp(TimeUnit::Microsecond, None)).map_err(arrow)?,
        ),
        DataType::Date32 | DataType::Date64 => {
            Column::Date(cast(array, &DataType::Date32).map_err(arrow)?)
        }
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => {
            Column::Binary(cast(array, &DataType::Binary).map_err(arrow)?)
        }
        DataType::List(f) | DataType::LargeList(f) if !f.data_type().is_nested() => {
            Column::List(super::arrays::ListColumn::new(array, f.data_type())?)
        }
        dt if dt.is_nested() => {
            let field = Arc::new(datafusion::arrow::datatypes::Field::new(
                "value",
                dt.clone(),
                true,
            ));
            Column::Text(jobsql_core::output::json_text(&field, array).map_err(arrow)?)
        }
        DataType::Utf8 => Column::Text(array.clone()),
        // A `NullArray` has no validity buffer (`is_null` is false): every value is NULL.
        DataType::Null => Column::Text(Arc::new(datafusion::arrow::array::StringArray::new_null(
            array.len(),
        ))),
        _ => {
            // Arrow's display text for everything else (decimals, intervals, ...).
            let formatter = ArrayFormatter::try_new(array.as_ref(), &FormatOptions::default())
                .map_err(arrow)?;
            let mut builder = datafusion::arrow::array::StringBuilder::new();
            for i in 0..array.len() {
                if array.is_null(i) {
                    builder.append_null();
                } else {
                    builder.append_value(formatter.value(i).to_string());
                }
            }
            let text: ArrayRef = Arc::new(builder.finish());
            // Utf8View / LargeUtf8 / dictionaries display as their string: one path for all.
            Column::Text(text)
        }
    })
}

fn int_value(array: &ArrayRef, row: usize) -> PgWireResult<i64> {
    Ok(match array.data_type() {
        DataType::Int8 => array.as_primitive::<Int8Type>().value(row).into(),
        DataType::Int16 => array.as_primitive::<Int16Type>().value(row).into(),
        DataType::Int32 => array.as_primitive::<Int32Type>().value(row).into(),
        DataType::Int64 => array.as_primitive::<Int64Type>().value(row),
        DataType::UInt8 => array.as_primitive::<UInt8Type>().value(row).into(),
        DataType::UInt16 => array.as_primitive::<UInt16Type>().value(row).into(),
        DataType::UInt32 => array.as_primitive::<UInt32Type>().value(row).into(),
        DataType::UInt64 => {
            let v = array.as_primitive::<UInt64Type>().value(row);
            i64::try_from(v).map_err(|_| encode_error(format!("{v} does not fit in int8")))?
        }
        other => return Err(encode_error(format!("not an integer column: {other}"))),
    })
}

impl Column {
    fn array(&self) -> &ArrayRef {
        match self {
            Column::Bool(a)
            | Column::Int(a)
            | Column::Float4(a)
            | Column::Float8(a)
            | Column::Timestamp(a)
            | Column::Date(a)
            | Column::Binary(a)
            | Column::Text(a) => a,
            Column::List(l) => l.array(),
        }
    }

    /// Whether the value at `row` is NULL.
    pub(super) fn is_null(&self, row: usize) -> bool {
        self.array().is_null(row)
    }
}

/// The value at `row` of `column`, sent as `ty` in `format`.
pub(super) fn encode_value(
    encoder: &mut DataRowEncoder,
    column: &Column,
    ty: &Type,
    format: FieldFormat,
    options: &PgFormatOptions,
    row: usize,
) -> PgWireResult<()> {
    macro_rules! put {
        ($encoder:expr, $value:expr) => {
            $encoder.encode_field_with_type_and_format($value, ty, format, options)
        };
    }
    if column.is_null(row) {
        return put!(encoder, &None::<i8>);
    }
    match column {
        Column::List(list) => list.encode(encoder, ty, format, options, row),
        Column::Bool(a) => put!(encoder, &a.as_boolean().value(row)),
        Column::Int(a) => {
            let v = int_value(a, row)?;
            if *ty == Type::INT2 {
                put!(encoder, &(v as i16))
            } else if *ty == Type::INT4 {
                put!(encoder, &(v as i32))
            } else {
                put!(encoder, &v)
            }
        }
        Column::Float4(a) => {
            let v = match a.data_type() {
                DataType::Float16 => a.as_primitive::<Float16Type>().value(row).to_f32(),
                _ => a.as_primitive::<Float32Type>().value(row),
            };
            put!(encoder, &v)
        }
        Column::Float8(a) => put!(encoder, &a.as_primitive::<Float64Type>().value(row)),
        Column::Timestamp(a) => {
            let micros = a.as_primitive::<TimestampMicrosecondType>().value(row);
            let naive = timestamp_us_to_datetime(micros)
                .ok_or_else(|| encode_error(format!("timestamp out of range: {micros} µs")))?;
            if *ty == Type::TIMESTAMPTZ {
                put!(encoder, &naive.and_utc())
            } else {
                put!(encoder, &naive)
            }
        }
        Column::Date(a) => {
            let days = a.as_primitive::<Date32Type>().value(row);
            let date = date32_to_datetime(days)
                .ok_or_else(|| encode_error(format!("date out of range: {days} days")))?;
            put!(encoder, &date.date())
        }
        Column::Binary(a) => put!(encoder, &a.as_binary::<i32>().value(row)),
        Column::Text(a) => put!(encoder, &a.as_string::<i32>().value(row)),
    }
}

/// The rows of `batch` as data rows described by `fields` (from [`fields`] of its schema).
pub fn encode_batch(
    batch: &RecordBatch,
    fields: &Arc<Vec<FieldInfo>>,
) -> PgWireResult<Vec<DataRow>> {
    let columns = batch
        .schema()
        .fields()
        .iter()
        .zip(batch.columns())
        .map(|(f, a)| prepare(f.data_type(), a))
        .collect::<PgWireResult<Vec<_>>>()?;
    let mut rows = Vec::with_capacity(batch.num_rows());
    for row in 0..batch.num_rows() {
        let mut encoder = DataRowEncoder::new(fields.clone());
        for (column, field) in columns.iter().zip(fields.iter()) {
            let (ty, format) = (field.datatype(), field.format());
            encode_value(
                &mut encoder,
                column,
                ty,
                format,
                field.format_options(),
                row,
            )?;
        }
        rows.push(encoder.take_row());
    }
    Ok(rows)
}

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
    for item in super::rewrite_any::array_items(text).ok_or_else(bad)? {
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
    } else if let Some(element) = super::catalog::array_element(ty) {
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
