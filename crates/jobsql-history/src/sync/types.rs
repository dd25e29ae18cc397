//! The Delta schema of a history table: the live table's columns with their Arrow types mapped
//! to types Delta has, then [`SYNCED_AT_COLUMN`] and the partition column
//! [`PARTITION_COLUMN`]; and each batch cast to it ([`to_delta`]).
//!
//! The mapping (Delta has no unsigned, duration, interval, time or 16-bit float types; its
//! timestamps are microseconds):
//!
//! | Arrow | Delta |
//! |---|---|
//! | `Timestamp(any unit, tz)` | `timestamp` (µs, UTC); without a time zone `timestamp_ntz` |
//! | `Duration(any unit)` | `long`, in milliseconds |
//! | `Interval(_)`, `Time32` / `Time64`, `Null` | `string` (the value's text) |
//! | `UInt8` / `UInt16` / `UInt32` | `short` / `integer` / `long` |
//! | `UInt64` | `decimal(20, 0)` |
//! | `Float16` | `float` |
//! | `Date64` | `date` |
//! | `LargeUtf8`, `Utf8View` / `LargeBinary`, `BinaryView`, `FixedSizeBinary` | `string` / `binary` |
//! | `LargeList`, `FixedSizeList`, `ListView` | `array` |
//! | `Dictionary(_, v)` | `v`'s mapping |
//!
//! Structs, lists and maps keep their shape, their fields mapped the same way; JSON text
//! columns stay strings. Every column is nullable (an archive keeps what the API sent).

use std::sync::Arc;

use datafusion::arrow::array::{
    new_null_array, Array, ArrayRef, Date32Array, RecordBatch, TimestampMicrosecondArray,
};
use datafusion::arrow::compute::{cast_with_options, CastOptions};
use datafusion::arrow::datatypes::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};
use datafusion::arrow::error::ArrowError;

use crate::{PARTITION_COLUMN, SYNCED_AT_COLUMN};

/// Milliseconds in a day.
const DAY_MS: i64 = 86_400_000;

/// The Delta-compatible type of `ty` (see the module's table).
pub fn delta_type(ty: &DataType) -> DataType {
    match ty {
        DataType::Timestamp(_, tz) => {
            DataType::Timestamp(TimeUnit::Microsecond, tz.as_ref().map(|_| "UTC".into()))
        }
        DataType::Duration(_) => DataType::Int64,
        DataType::Interval(_) | DataType::Time32(_) | DataType::Time64(_) | DataType::Null => {
            DataType::Utf8
        }
        DataType::UInt8 => DataType::Int16,
        DataType::UInt16 => DataType::Int32,
        DataType::UInt32 => DataType::Int64,
        DataType::UInt64 => DataType::Decimal128(20, 0),
        DataType::Float16 => DataType::Float32,
        DataType::Date64 => DataType::Date32,
        DataType::LargeUtf8 | DataType::Utf8View => DataType::Utf8,
        DataType::LargeBinary | DataType::BinaryView | DataType::FixedSizeBinary(_) => {
            DataType::Binary
        }
        DataType::List(item)
        | DataType::LargeList(item)
        | DataType::FixedSizeList(item, _)
        | DataType::ListView(item)
        | DataType::LargeListView(item) => DataType::List(Arc::new(delta_field(item))),
        DataType::Struct(fields) => DataType::Struct(delta_fields(fields)),
        DataType::Map(entries, sorted) => DataType::Map(Arc::new(map_entries(entries)), *sorted),
        DataType::Dictionary(_, value) => delta_type(value),
        other => other.clone(),
    }
}

fn delta_field(field: &Field) -> Field {
    Field::new(field.name(), delta_type(field.data_type()), true)
}

fn delta_fields(fields: &Fields) -> Fields {
    fields.iter().map(|f| delta_field(f)).collect()
}

/// A map's entries keep their key non-nullable (Arrow requires it).
fn map_entries(entries: &Field) -> Field {
    match entries.data_type() {
        DataType::Struct(kv) if kv.len() == 2 => {
            let key = Field::new(kv[0].name(), delta_type(kv[0].data_type()), false);
            let value = delta_field(&kv[1]);
            Field::new(
                entries.name(),
                DataType::Struct(vec![key, value].into()),
                false,
            )
        }
        _ => delta_field(entries),
    }
}

/// The history table's schema for the live columns `live`: each mapped, then `synced_at`
/// (`timestamp`) and the partition column `start_date` (`date`).
pub fn history_schema(live: &Schema) -> SchemaRef {
    let mut fields: Vec<Field> = live.fields().iter().map(|f| delta_field(f)).collect();
    fields.push(Field::new(
        SYNCED_AT_COLUMN,
        DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        true,
    ));
    fields.push(Field::new(PARTITION_COLUMN, DataType::Date32, true));
    Arc::new(Schema::new(fields))
}

/// The UTC date (days since 1970-01-01) of an instant in epoch milliseconds.
pub fn day_of(ms: i64) -> i32 {
    i32::try_from(ms.div_euclid(DAY_MS)).unwrap_or(if ms < 0 { i32::MIN } else { i32::MAX })
}

/// `batch` (the live columns, or a history file's rows) as rows of `target`: each column of
/// `target` taken by name and cast; `synced_at` from the batch when it has one, else
/// `synced_at_us`; `start_date` from the `start` column.
pub fn to_delta(
    batch: &RecordBatch,
    target: &SchemaRef,
    start: &str,
    synced_at_us: i64,
) -> Result<RecordBatch, ArrowError> {
    let rows = batch.num_rows();
    let options = CastOptions {
        safe: false,
        ..CastOptions::default()
    };
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(target.fields().len());
    for field in target.fields() {
        let name = field.name().as_str();
        let given = batch.column_by_name(name);
        let column = match (name, given) {
            (PARTITION_COLUMN, _) => start_dates(batch, start)?,
            (_, Some(array)) => cast_with_options(array, field.data_type(), &options)?,
            (SYNCED_AT_COLUMN, None) => Arc::new(
                TimestampMicrosecondArray::from(vec![synced_at_us; rows]).with_timezone("UTC"),
            ),
            (_, None) => new_null_array(field.data_type(), rows),
        };
        columns.push(column);
    }
    RecordBatch::try_new(target.clone(), columns)
}

/// The `start_date` of each row: the UTC date of its `start` column.
fn start_dates(batch: &RecordBatch, start: &str) -> Result<ArrayRef, ArrowError> {
    let array = batch
        .column_by_name(start)
        .ok_or_else(|| ArrowError::SchemaError(format!("no column {start}")))?;
    let ms = cast_with_options(
        array,
        &DataType::Timestamp(TimeUnit::Millisecond, None),
        &CastOptions::default(),
    )?;
    let ms = cast_with_options(&ms, &DataType::Int64, &CastOptions::default())?;
    let ms = ms
        .as_any()
        .downcast_ref::<datafusion::arrow::array::Int64Array>()
        .ok_or_else(|| ArrowError::CastError(format!("{start} is not a time")))?;
    let days: Date32Array = ms.iter().map(|v| v.map(day_of)).collect();
    Ok(Arc::new(days))
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Int64Array, TimestampMillisecondArray, UInt32Array};

    #[test]
    fn types_delta_lacks_are_mapped_and_nested_ones_kept() {
        let ms_utc = DataType::Timestamp(TimeUnit::Millisecond, Some("+00:00".into()));
        assert_eq!(
            delta_type(&ms_utc),
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
        );
        assert_eq!(
            delta_type(&DataType::Duration(TimeUnit::Second)),
            DataType::Int64
        );
        assert_eq!(delta_type(&DataType::UInt64), DataType::Decimal128(20, 0));
        assert_eq!(delta_type(&DataType::LargeUtf8), DataType::Utf8);
        let list = DataType::LargeList(Arc::new(Field::new("item", DataType::UInt8, false)));
        assert_eq!(
            delta_type(&list),
            DataType::List(Arc::new(Field::new("item", DataType::Int16, true)))
        );
    }

    #[test]
    fn batches_get_synced_at_and_their_start_date() {
        let live = Schema::new(vec![
            Field::new("run_id", DataType::UInt32, false),
            Field::new(
                "start_time",
                DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
                true,
            ),
        ]);
        let target = history_schema(&live);
        let start = TimestampMillisecondArray::from(vec![Some(86_400_000 * 3 + 5), None])
            .with_timezone("UTC");
        let batch = RecordBatch::try_new(
            Arc::new(live),
            vec![Arc::new(UInt32Array::from(vec![7, 8])), Arc::new(start)],
        )
        .unwrap();
        let out = to_delta(&batch, &target, "start_time", 42).unwrap();
        let ids = out.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
        assert_eq!(ids.values(), &[7, 8]);
        let dates = out
            .column(3)
            .as_any()
            .downcast_ref::<Date32Array>()
            .unwrap();
        assert_eq!((dates.value(0), dates.is_null(1)), (3, true));
        let synced = out
            .column(2)
            .as_any()
            .downcast_ref::<TimestampMicrosecondArray>();
        assert_eq!(synced.unwrap().value(1), 42);
        assert_eq!(day_of(-1), -1);
    }
}
