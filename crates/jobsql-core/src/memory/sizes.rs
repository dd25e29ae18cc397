//! What values take: the allocations behind an array (so that a function's output is counted
//! for what it newly allocated, not for buffers it shares with its input), and one row's value
//! of an argument (a string's bytes, an integer, a value's size), for [`super::bounds`].

use std::collections::HashSet;

use datafusion::arrow::array::{Array, ArrayData, ArrayRef, AsArray};
use datafusion::arrow::buffer::Buffer;
use datafusion::arrow::datatypes::{
    DataType, Date32Type, Date64Type, Int16Type, Int32Type, Int64Type, Int8Type,
    IntervalMonthDayNano, IntervalMonthDayNanoType, TimeUnit, TimestampMicrosecondType,
    TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType, UInt16Type, UInt32Type,
    UInt64Type, UInt8Type,
};
use datafusion::common::ScalarValue;
use datafusion::logical_expr::ColumnarValue;

/// Every buffer behind `data` (its nulls and its children's too).
fn each_buffer(data: &ArrayData, f: &mut impl FnMut(&Buffer)) {
    data.buffers().iter().for_each(&mut *f);
    if let Some(nulls) = data.nulls() {
        f(nulls.buffer());
    }
    for child in data.child_data() {
        each_buffer(child, f);
    }
}

/// The allocations behind the arrays among `values` (their start addresses).
pub fn allocations(values: &[ColumnarValue]) -> HashSet<usize> {
    let mut seen = HashSet::new();
    for value in values {
        if let ColumnarValue::Array(array) = value {
            each_buffer(&array.to_data(), &mut |b| {
                seen.insert(b.data_ptr().as_ptr() as usize);
            });
        }
    }
    seen
}

/// The bytes `value` newly holds: the allocations behind it that are not in `inputs` (each
/// counted once, at its capacity); a scalar's whole size.
pub fn new_bytes(value: &ColumnarValue, inputs: &HashSet<usize>) -> usize {
    match value {
        ColumnarValue::Scalar(s) => s.size(),
        ColumnarValue::Array(array) => {
            let mut counted = HashSet::new();
            let mut bytes = 0usize;
            each_buffer(&array.to_data(), &mut |b| {
                let at = b.data_ptr().as_ptr() as usize;
                if !inputs.contains(&at) && counted.insert(at) {
                    bytes = bytes.saturating_add(b.capacity().max(b.len()));
                }
            });
            bytes
        }
    }
}

/// The bytes of the string or binary value at `row` (`None`: null, or not a string).
pub fn bytes_at(value: &ColumnarValue, row: usize) -> Option<usize> {
    match value {
        ColumnarValue::Scalar(s) => match s {
            ScalarValue::Utf8(v) | ScalarValue::LargeUtf8(v) | ScalarValue::Utf8View(v) => {
                v.as_ref().map(String::len)
            }
            ScalarValue::Binary(v)
            | ScalarValue::LargeBinary(v)
            | ScalarValue::BinaryView(v)
            | ScalarValue::FixedSizeBinary(_, v) => v.as_ref().map(Vec::len),
            _ => None,
        },
        ColumnarValue::Array(a) => {
            if row >= a.len() || a.is_null(row) {
                return None;
            }
            match a.data_type() {
                DataType::Utf8 => Some(a.as_string::<i32>().value(row).len()),
                DataType::LargeUtf8 => Some(a.as_string::<i64>().value(row).len()),
                DataType::Utf8View => Some(a.as_string_view().value(row).len()),
                DataType::Binary => Some(a.as_binary::<i32>().value(row).len()),
                DataType::LargeBinary => Some(a.as_binary::<i64>().value(row).len()),
                DataType::BinaryView => Some(a.as_binary_view().value(row).len()),
                _ => None,
            }
        }
    }
}

/// The string at `row` (`None`: null, or not a string).
pub fn str_at(value: &ColumnarValue, row: usize) -> Option<&str> {
    match value {
        ColumnarValue::Scalar(s) => match s {
            ScalarValue::Utf8(v) | ScalarValue::LargeUtf8(v) | ScalarValue::Utf8View(v) => {
                v.as_deref()
            }
            _ => None,
        },
        ColumnarValue::Array(a) => {
            if row >= a.len() || a.is_null(row) {
                return None;
            }
            match a.data_type() {
                DataType::Utf8 => Some(a.as_string::<i32>().value(row)),
                DataType::LargeUtf8 => Some(a.as_string::<i64>().value(row)),
                DataType::Utf8View => Some(a.as_string_view().value(row)),
                _ => None,
            }
        }
    }
}

/// The integer at `row` (`None`: null, or not an integer); u64 past i64 saturates.
pub fn int_at(value: &ColumnarValue, row: usize) -> Option<i64> {
    match value {
        ColumnarValue::Scalar(s) => match s {
            ScalarValue::Int8(v) => v.map(i64::from),
            ScalarValue::Int16(v) => v.map(i64::from),
            ScalarValue::Int32(v) => v.map(i64::from),
            ScalarValue::Int64(v) => *v,
            ScalarValue::UInt8(v) => v.map(i64::from),
            ScalarValue::UInt16(v) => v.map(i64::from),
            ScalarValue::UInt32(v) => v.map(i64::from),
            ScalarValue::UInt64(v) => v.map(|v| i64::try_from(v).unwrap_or(i64::MAX)),
            _ => None,
        },
        ColumnarValue::Array(a) => {
            if row >= a.len() || a.is_null(row) {
                return None;
            }
            Some(match a.data_type() {
                DataType::Int8 => i64::from(a.as_primitive::<Int8Type>().value(row)),
                DataType::Int16 => i64::from(a.as_primitive::<Int16Type>().value(row)),
                DataType::Int32 => i64::from(a.as_primitive::<Int32Type>().value(row)),
                DataType::Int64 => a.as_primitive::<Int64Type>().value(row),
                DataType::UInt8 => i64::from(a.as_primitive::<UInt8Type>().value(row)),
                DataType::UInt16 => i64::from(a.as_primitive::<UInt16Type>().value(row)),
                DataType::UInt32 => i64::from(a.as_primitive::<UInt32Type>().value(row)),
                DataType::UInt64 => {
                    i64::try_from(a.as_primitive::<UInt64Type>().value(row)).unwrap_or(i64::MAX)
                }
                _ => return None,
            })
        }
    }
}

/// A date or timestamp at `row` in a common unit: days for dates, nanoseconds for timestamps
/// (`None`: null, or neither).
pub fn instant_at(value: &ColumnarValue, row: usize) -> Option<i64> {
    const PER_SECOND: i64 = 1_000_000_000;
    let array = match value {
        ColumnarValue::Scalar(s) => {
            return match s {
                ScalarValue::Date32(v) => v.map(i64::from),
                ScalarValue::Date64(v) => v.map(|ms| ms / 86_400_000),
                ScalarValue::TimestampSecond(v, _) => v.map(|v| v.saturating_mul(PER_SECOND)),
                ScalarValue::TimestampMillisecond(v, _) => v.map(|v| v.saturating_mul(1_000_000)),
                ScalarValue::TimestampMicrosecond(v, _) => v.map(|v| v.saturating_mul(1_000)),
                ScalarValue::TimestampNanosecond(v, _) => *v,
                _ => None,
            };
        }
        ColumnarValue::Array(a) => a,
    };
    if row >= array.len() || array.is_null(row) {
        return None;
    }
    Some(match array.data_type() {
        DataType::Date32 => i64::from(array.as_primitive::<Date32Type>().value(row)),
        DataType::Date64 => array.as_primitive::<Date64Type>().value(row) / 86_400_000,
        DataType::Timestamp(TimeUnit::Second, _) => array
            .as_primitive::<TimestampSecondType>()
            .value(row)
            .saturating_mul(PER_SECOND),
        DataType::Timestamp(TimeUnit::Millisecond, _) => array
            .as_primitive::<TimestampMillisecondType>()
            .value(row)
            .saturating_mul(1_000_000),
        DataType::Timestamp(TimeUnit::Microsecond, _) => array
            .as_primitive::<TimestampMicrosecondType>()
            .value(row)
            .saturating_mul(1_000),
        DataType::Timestamp(TimeUnit::Nanosecond, _) => {
            array.as_primitive::<TimestampNanosecondType>().value(row)
        }
        _ => return None,
    })
}

/// The interval at `row` (`None`: null, or not a month-day-nanosecond interval).
pub fn interval_at(value: &ColumnarValue, row: usize) -> Option<IntervalMonthDayNano> {
    match value {
        ColumnarValue::Scalar(ScalarValue::IntervalMonthDayNano(v)) => *v,
        ColumnarValue::Array(a) if matches!(a.data_type(), DataType::Interval(_)) => {
            let ints = a.as_primitive_opt::<IntervalMonthDayNanoType>()?;
            (row < ints.len() && !ints.is_null(row)).then(|| ints.value(row))
        }
        _ => None,
    }
}

/// What one row's value of `value` takes: a string's bytes and offset, a fixed width, else the
/// row's share of its buffers.
pub fn size_at(value: &ColumnarValue, row: usize) -> usize {
    if let Some(bytes) = bytes_at(value, row) {
        return bytes + 4;
    }
    match value {
        ColumnarValue::Scalar(s) => payload(s),
        ColumnarValue::Array(a) => match a.data_type().primitive_width() {
            Some(width) => width,
            None if row < a.len() => slice_bytes(&a.slice(row, 1)),
            None => 0,
        },
    }
}

/// What an array's rows take (its slice of its buffers).
pub fn slice_bytes(array: &ArrayRef) -> usize {
    array
        .to_data()
        .get_slice_memory_size()
        .unwrap_or_else(|_| array.get_array_memory_size())
}

/// What a scalar's value takes once in an array (its bytes, not the enum around them).
pub fn payload(s: &ScalarValue) -> usize {
    match s.data_type().primitive_width() {
        Some(width) => width,
        None => s.size().saturating_sub(std::mem::size_of::<ScalarValue>()) + 4,
    }
}

/// The leaf values of the list at `row` (nested lists counted to their leaves); 1 for a value
/// that is not a list.
pub fn leaves_at(array: &ArrayRef, row: usize) -> usize {
    if row >= array.len() || array.is_null(row) {
        return 0;
    }
    leaves(&array.slice(row, 1))
}

fn leaves(array: &ArrayRef) -> usize {
    let values = match array.data_type() {
        DataType::List(_) => {
            let list = array.as_list::<i32>();
            let offsets = list.value_offsets();
            let (first, last) = (offsets[0] as usize, offsets[offsets.len() - 1] as usize);
            list.values().slice(first, last - first)
        }
        DataType::LargeList(_) => {
            let list = array.as_list::<i64>();
            let offsets = list.value_offsets();
            let (first, last) = (offsets[0] as usize, offsets[offsets.len() - 1] as usize);
            list.values().slice(first, last - first)
        }
        DataType::FixedSizeList(_, n) => {
            let list = array.as_fixed_size_list();
            let n = usize::try_from(*n).unwrap_or(0);
            list.values().slice(list.offset() * n, list.len() * n)
        }
        _ => return array.len(),
    };
    leaves(&values)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{Int64Array, StringArray};

    use super::*;

    #[test]
    fn an_output_sharing_its_inputs_buffers_is_not_counted_again() {
        let input: ArrayRef = Arc::new(StringArray::from(vec!["a"; 1000]));
        let args = [ColumnarValue::Array(input.clone())];
        let inputs = allocations(&args);
        assert_eq!(
            new_bytes(&ColumnarValue::Array(input.slice(10, 5)), &inputs),
            0
        );
        let fresh: ArrayRef = Arc::new(Int64Array::from(vec![1; 1000]));
        assert!(new_bytes(&ColumnarValue::Array(fresh), &inputs) >= 8000);
    }

    #[test]
    fn values_are_read_per_row_and_scalars_repeat() {
        let strings: ArrayRef = Arc::new(StringArray::from(vec![Some("abc"), None]));
        let v = ColumnarValue::Array(strings);
        assert_eq!((bytes_at(&v, 0), bytes_at(&v, 1)), (Some(3), None));
        let n = ColumnarValue::Scalar(ScalarValue::Int32(Some(7)));
        assert_eq!((int_at(&n, 0), int_at(&n, 99)), (Some(7), Some(7)));
    }
}
