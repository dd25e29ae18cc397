//! Timestamps after arrow-json: every encoding ends as `Timestamp(ms, UTC)`. RFC 3339 text and
//! epoch milliseconds decode straight into it; epoch seconds decode as `Timestamp(s, UTC)` and
//! are cast (in nested structs and lists too). An epoch value of 0 (the API's "not set") then
//! reads as NULL; an RFC 3339 time never does (its "not set" is `null`).

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, ListArray, StructArray, TimestampMillisecondArray,
};
use datafusion::arrow::compute::cast;

use crate::spec::{ColumnType, TimeEncoding};

/// `array`, decoded as [`ColumnType::to_decoded_arrow`], as the column's type: cast when the
/// two differ, epoch zeros nulled.
pub(super) fn finish(array: &ArrayRef, ty: &ColumnType) -> Result<ArrayRef, String> {
    let array = if array.data_type() == &ty.to_arrow() {
        array.clone()
    } else {
        cast(array, &ty.to_arrow()).map_err(|e| e.to_string())?
    };
    if !ty.has_epoch_timestamp() {
        return Ok(array);
    }
    Ok(null_zeros(&array, ty))
}

/// Replace the epoch timestamps of 0 with NULL, in nested structs and lists too.
fn null_zeros(array: &ArrayRef, ty: &ColumnType) -> ArrayRef {
    match ty {
        ColumnType::Timestamp(TimeEncoding::Rfc3339) => array.clone(),
        ColumnType::Timestamp(_) => {
            let Some(ts) = array.as_any().downcast_ref::<TimestampMillisecondArray>() else {
                return array.clone();
            };
            if !ts.iter().any(|v| v == Some(0)) {
                return array.clone();
            }
            let values: TimestampMillisecondArray =
                ts.iter().map(|v| v.filter(|x| *x != 0)).collect();
            Arc::new(values.with_data_type(ts.data_type().clone()))
        }
        ColumnType::Object(fields) => {
            let Some(s) = array.as_any().downcast_ref::<StructArray>() else {
                return array.clone();
            };
            let columns = s
                .columns()
                .iter()
                .zip(fields)
                .map(|(c, (_, t))| null_zeros(c, t))
                .collect();
            Arc::new(StructArray::new(
                s.fields().clone(),
                columns,
                s.nulls().cloned(),
            ))
        }
        ColumnType::Array(item) => {
            let Some(l) = array.as_any().downcast_ref::<ListArray>() else {
                return array.clone();
            };
            let datafusion::arrow::datatypes::DataType::List(field) = l.data_type() else {
                return array.clone();
            };
            Arc::new(ListArray::new(
                field.clone(),
                l.offsets().clone(),
                null_zeros(l.values(), item),
                l.nulls().cloned(),
            ))
        }
        _ => array.clone(),
    }
}
