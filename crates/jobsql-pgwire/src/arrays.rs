//! Arrow lists of scalars as Postgres arrays, so that drivers hand back a list (psycopg's
//! Python `list`, tokio-postgres' `Vec<T>`) rather than a string.
//!
//! A `List` / `LargeList` whose items are integers, floats, booleans, strings, timestamps, dates
//! or binary is announced with the array type of its items' Postgres type (`int8[]` = oid 1016,
//! `text[]` = 1009, `timestamptz[]` = 1185, ...: [`array_of`]) and sent as one-dimensional
//! arrays: in text as Postgres writes them (`{1,2,NULL}`, items quoted when they hold a quote,
//! a brace, a comma, a backslash or white space, or are empty or `NULL`), in binary in
//! Postgres' array format (dimensions, a null flag, the item oid, each item in its binary
//! form). Each item is encoded exactly as a column of its type ([`super::encode`]).
//!
//! Lists of structs or of lists, structs and maps stay `text` holding JSON: Postgres has no
//! arrays of anonymous records a driver could read back, and JSON text is what every client
//! (and `jobsql query --format csv`) already reads for them.

use bytes::{BufMut, BytesMut};
use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::datatypes::DataType;
use pgwire::api::results::{DataRowEncoder, FieldFormat};
use pgwire::api::Type;
use pgwire::error::PgWireResult;
use pgwire::messages::data::DataRow;
use pgwire::types::format::FormatOptions as PgFormatOptions;
use pgwire::types::{QUOTE_CHECK, QUOTE_ESCAPE};

use super::copy_out::row_fields;
use super::encode::{encode_error, encode_value, pg_type, prepare, Column};

/// The array type of items of type `element` (`text[]` when Postgres has none listed here).
pub fn array_of(element: &Type) -> Type {
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

    use super::super::encode::{encode_batch, fields};
    use super::*;

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
