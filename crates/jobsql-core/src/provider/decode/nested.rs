//! Values of a nested type found at a column's `path` (`settings.schedule`, a struct;
//! `settings.tags`, a map; `settings.tasks`, a list of structs): each row's raw JSON is
//! wrapped as `{"v": <value>}` and the rows are decoded by arrow-json in one call, with the
//! same types, timestamp handling and errors as a top-level typed column.

use std::sync::Arc;

use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::{Field, Schema};
use datafusion::arrow::json::reader::ReaderBuilder;

use crate::spec::ColumnType;

use super::{feed, times};

/// The values `texts` (raw JSON; `None` for absent or null) decoded as a column of `ty`.
pub(super) fn column(texts: &[Option<&str>], ty: &ColumnType) -> Result<ArrayRef, String> {
    let schema = Arc::new(Schema::new(vec![Field::new(
        "v",
        ty.to_decoded_arrow(),
        true,
    )]));
    let mut decoder = ReaderBuilder::new(schema.clone())
        .with_batch_size(texts.len().max(1))
        .build_decoder()
        .map_err(|e| e.to_string())?;
    let mut text: Vec<u8> = Vec::with_capacity(texts.len() * 64);
    for value in texts {
        text.extend_from_slice(b"{\"v\":");
        text.extend_from_slice(value.unwrap_or("null").as_bytes());
        text.extend_from_slice(b"}\n");
    }
    feed(&mut decoder, &text)?;
    let decoded = match decoder.flush().map_err(|e| e.to_string())? {
        Some(batch) => batch.column(0).clone(),
        None => datafusion::arrow::array::new_empty_array(&ty.to_decoded_arrow()),
    };
    times::finish(&decoded, ty)
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::{Array, AsArray, MapArray};
    use datafusion::arrow::datatypes::Int64Type;

    use super::*;

    #[test]
    fn structs_maps_and_lists_decode_at_a_path() {
        let ty = ColumnType::Object(vec![
            ("a".into(), ColumnType::Integer),
            ("tags".into(), ColumnType::Map(Box::new(ColumnType::String))),
        ]);
        let out = column(
            &[Some(r#"{"a":1,"tags":{"x":"y"}}"#), None, Some("{}")],
            &ty,
        )
        .expect("decodes");
        assert_eq!(out.len(), 3);
        assert!(out.is_null(1));
        let s = out.as_struct();
        assert_eq!(s.column(0).as_primitive::<Int64Type>().value(0), 1);
        let tags = s
            .column(1)
            .as_any()
            .downcast_ref::<MapArray>()
            .expect("map");
        assert_eq!(tags.value(0).len(), 1);
        let list = ColumnType::Array(Box::new(ColumnType::String));
        assert!(column(&[Some("[1, {}]")], &list).is_err());
        let ok = column(&[Some(r#"["a","b"]"#)], &list).expect("list");
        assert_eq!(ok.as_list::<i32>().value(0).len(), 2);
    }
}
