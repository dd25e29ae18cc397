//! One column of a result as it is sent: the Arrow array converted to what its Postgres type
//! encodes from (`prepare`), and each value encoded in the format the client asked for
//! (`encode_value`).
//!
//! Integers are `int2` / `int4` / `int8` (unsigned ones widened; a `UInt64` beyond `i64` is an
//! error), floats `float4` / `float8`, booleans `bool`, strings `text`, timestamps
//! `timestamptz` (with a time zone; `timestamp` without), dates `date`, binary `bytea`;
//! structs, maps and lists of them are `text` holding JSON (as `jobsql query --format csv`
//! writes them); anything else is `text` in Arrow's display form.
//!
//! A `List` / `LargeList` of scalars is a Postgres array ([`ListColumn`]), so that drivers hand
//! back a list (psycopg's Python `list`, tokio-postgres' `Vec<T>`) rather than a string: it is
//! announced with the array type of its items' Postgres type (`int8[]` = oid 1016, `text[]` =
//! 1009, ...: [`crate::encode::types::array_type`]) and sent as one-dimensional arrays: in text
//! as Postgres writes them (`{1,2,NULL}`, items quoted when they hold a quote, a brace, a comma,
//! a backslash or white space, or are empty or `NULL`), in binary in Postgres' array format
//! (dimensions, a null flag, the item oid, each item in its binary form). Each item is encoded
//! exactly as a column of its type. Lists of structs or of lists stay `text` holding JSON:
//! Postgres has no arrays of anonymous records a driver could read back. A list column and its
//! items' column hold each other, so both live in this file.

use std::sync::Arc;

use bytes::{BufMut, BytesMut};
use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{
    DataType, Date32Type, Float16Type, Float32Type, Float64Type, Int16Type, Int32Type, Int64Type,
    Int8Type, TimeUnit, TimestampMicrosecondType, UInt16Type, UInt32Type, UInt64Type, UInt8Type,
};
use datafusion::arrow::temporal_conversions::{date32_to_datetime, timestamp_us_to_datetime};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use pgwire::api::results::{DataRowEncoder, FieldFormat};
use pgwire::api::Type;
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use pgwire::messages::data::DataRow;
use pgwire::types::format::FormatOptions as PgFormatOptions;
use pgwire::types::{QUOTE_CHECK, QUOTE_ESCAPE};

use crate::encode::text_forms::row_fields;
use crate::encode::types::pg_type;

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
    /// A list of scalars ([`ListColumn`]).
    List(ListColumn),
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
            Column::List(ListColumn::new(array, f.data_type())?)
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

/// A list column ready to send: the lists, where each one's items are, and the items.
pub struct ListColumn {
    lists: ArrayRef,
    /// Item `i` of row `r` is item `offsets[r] + i` of `items`, up to `offsets[r + 1]`.
    offsets: Vec<usize>,
    items: Box<Column>,
    item_type: Type,
}

impl ListColumn {
    /// `array` (a `List` or `LargeList` of `item` values).
    pub fn new(array: &ArrayRef, item: &DataType) -> PgWireResult<Self> {
        let (offsets, values): (Vec<usize>, ArrayRef) = match array.data_type() {
            DataType::List(_) => {
                let list = array.as_list::<i32>();
                let offsets = list.value_offsets().iter();
                (
                    offsets.map(|&o| o.max(0) as usize).collect(),
                    list.values().clone(),
                )
            }
            DataType::LargeList(_) => {
                let list = array.as_list::<i64>();
                let offsets = list.value_offsets().iter();
                (
                    offsets.map(|&o| o.max(0) as usize).collect(),
                    list.values().clone(),
                )
            }
            other => return Err(encode_error(format!("not a list column: {other}"))),
        };
        Ok(ListColumn {
            lists: array.clone(),
            offsets,
            items: Box::new(prepare(item, &values)?),
            item_type: pg_type(item),
        })
    }

    /// The lists.
    pub fn array(&self) -> &ArrayRef {
        &self.lists
    }

    /// Row `row`'s list (not NULL), sent as `ty` (its array type) in `format`.
    pub fn encode(
        &self,
        encoder: &mut DataRowEncoder,
        ty: &Type,
        format: FieldFormat,
        options: &PgFormatOptions,
        row: usize,
    ) -> PgWireResult<()> {
        let (start, end) = match (self.offsets.get(row), self.offsets.get(row + 1)) {
            (Some(&start), Some(&end)) if start <= end => (start, end),
            _ => return Err(encode_error(format!("list {row} out of range"))),
        };
        // Each item as a field of a row of its own: its length and bytes, as an array holds.
        let mut items = DataRowEncoder::new(std::sync::Arc::new(Vec::new()));
        for i in start..end {
            encode_value(&mut items, &self.items, &self.item_type, format, options, i)?;
        }
        let items = items.take_row();
        match format {
            FieldFormat::Binary => {
                let bytes = self.binary(&items, start, end);
                encoder.encode_field_with_type_and_format(&&bytes[..], ty, format, options)
            }
            FieldFormat::Text => {
                let text = text_literal(&items);
                encoder.encode_field_with_type_and_format(&text, &Type::TEXT, format, options)
            }
        }
    }

    /// Postgres' binary array: dimensions, null flag, item oid, then the items.
    fn binary(&self, items: &DataRow, start: usize, end: usize) -> BytesMut {
        let count = end - start;
        let has_null = (start..end).any(|i| self.items.is_null(i));
        let mut out = BytesMut::with_capacity(20 + items.data.len());
        out.put_i32(i32::from(count > 0));
        out.put_i32(i32::from(has_null));
        out.put_u32(self.item_type.oid());
        if count > 0 {
            out.put_i32(i32::try_from(count).unwrap_or(i32::MAX));
            out.put_i32(1);
        }
        out.put_slice(&items.data);
        out
    }
}

/// `{a,"b c",NULL}` of the items of `items` (encoded in text).
fn text_literal(items: &DataRow) -> String {
    let mut out = String::from("{");
    for (i, item) in row_fields(items).iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        match item {
            None => out.push_str("NULL"),
            Some(v) if QUOTE_CHECK.is_match(v) => {
                out.push('"');
                out.push_str(&QUOTE_ESCAPE.replace_all(v, r"\$1"));
                out.push('"');
            }
            Some(v) => out.push_str(v),
        }
    }
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{ListBuilder, StringBuilder};
    use datafusion::arrow::datatypes::{Field, Schema};
    use datafusion::arrow::record_batch::RecordBatch;
    use pgwire::api::portal::Format;

    use super::*;
    use crate::encode::rows::{encode_batch, fields};

    #[test]
    fn text_arrays_quote_as_postgres_does() {
        let mut lists = ListBuilder::new(StringBuilder::new());
        for item in [
            Some("a"),
            Some("b c"),
            None,
            Some(""),
            Some("say \"hi\""),
            Some("NULL"),
        ] {
            lists.values().append_option(item);
        }
        lists.append(true);
        lists.append(false);
        lists.append(true);
        let array: ArrayRef = Arc::new(lists.finish());
        let schema = Schema::new(vec![Field::new("l", array.data_type().clone(), true)]);
        let info = Arc::new(fields(&schema, &Format::UnifiedText));
        assert_eq!(info[0].datatype(), &Type::TEXT_ARRAY);
        let batch = RecordBatch::try_new(Arc::new(schema), vec![array]).expect("batch");
        let rows = encode_batch(&batch, &info).expect("encoded");
        let values: Vec<Option<String>> = rows.iter().map(|r| row_fields(r).remove(0)).collect();
        assert_eq!(
            values,
            [
                Some(r#"{a,"b c",NULL,"","say \"hi\"","NULL"}"#.to_string()),
                None,
                Some("{}".to_string())
            ]
        );
    }
}
