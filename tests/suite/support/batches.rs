//! Reading Arrow results: a column's ints or display strings, a DML count, row counts, and
//! (text, int) pairs compared with a readable failure.

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::{Int64Type, UInt64Type};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};

/// The Int64 values of column `i`, in order (`None` for a null).
pub fn ints(batches: &[RecordBatch], i: usize) -> Vec<Option<i64>> {
    batches
        .iter()
        .flat_map(|b| {
            let a = b.column(i).as_primitive::<Int64Type>();
            (0..a.len()).map(move |r| a.is_valid(r).then(|| a.value(r)))
        })
        .collect()
}

/// The non-null Int64 values of column `i`, in order.
pub fn present_ints(batches: &[RecordBatch], i: usize) -> Vec<i64> {
    ints(batches, i).into_iter().flatten().collect()
}

/// Column `i` as display strings (`None` for a null), whatever its type.
pub fn strings(batches: &[RecordBatch], i: usize) -> Vec<Option<String>> {
    let options = FormatOptions::default();
    batches
        .iter()
        .flat_map(|b| {
            let column = b.column(i).clone();
            let f = ArrayFormatter::try_new(column.as_ref(), &options).expect("formatter");
            (0..column.len())
                .map(|r| column.is_valid(r).then(|| f.value(r).to_string()))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The single `count` of a DML result.
pub fn count(batches: &[RecordBatch]) -> u64 {
    let values: Vec<u64> = batches
        .iter()
        .flat_map(|b| b.column(0).as_primitive::<UInt64Type>().values().to_vec())
        .collect();
    assert_eq!(values.len(), 1, "one count");
    values[0]
}

/// The number of rows.
pub fn rows(batches: &[RecordBatch]) -> usize {
    batches.iter().map(|b| b.num_rows()).sum()
}

/// Rows as (column 0 as text, column 1 as Int64) pairs; a null becomes "" or 0.
pub fn pairs(batches: &[RecordBatch]) -> Vec<(String, i64)> {
    strings(batches, 0)
        .into_iter()
        .zip(ints(batches, 1))
        .map(|(w, r)| (w.unwrap_or_default(), r.unwrap_or_default()))
        .collect()
}

/// Equal sorted lists, or a failure naming the rows that differ (not the whole lists).
pub fn assert_same(got: &[(String, i64)], want: &[(String, i64)], what: &str) {
    let extra: Vec<_> = got.iter().filter(|p| !want.contains(p)).take(5).collect();
    let missing: Vec<_> = want.iter().filter(|p| !got.contains(p)).take(5).collect();
    assert!(
        got == want,
        "{what}: {} rows, want {}; extra {extra:?}, missing {missing:?}",
        got.len(),
        want.len()
    );
}
