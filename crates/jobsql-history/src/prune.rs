//! Partition pruning: the files a scan need not open, from their partition values alone.
//!
//! A filter that reads only partition columns (`start_date >= DATE '2026-01-01'`,
//! `start_date IN (...)`) is evaluated by DataFusion on a batch with one row per file (its
//! partition values); a file whose row is not `true` is left out. Filters that read any other
//! column keep every file (the Parquet reader prunes row groups with them). The filters stay
//! inexact, so this only ever saves reading.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, BooleanArray, RecordBatch};
use datafusion::arrow::datatypes::{FieldRef, Schema};
use datafusion::catalog::Session;
use datafusion::common::{DFSchema, ScalarValue};
use datafusion::error::Result;
use datafusion::logical_expr::Expr;

use super::table::DeltaFile;

/// The files of `files` that `filters` (unqualified columns) may keep.
pub fn files<'a>(
    files: &'a [DeltaFile],
    partition_fields: &[FieldRef],
    filters: &[Expr],
    state: &dyn Session,
) -> Result<Vec<&'a DeltaFile>> {
    let is_partition = |name: &str| partition_fields.iter().any(|f| f.name() == name);
    let on_partitions: Vec<&Expr> = filters
        .iter()
        .filter(|f| {
            let columns = f.column_refs();
            !columns.is_empty() && columns.iter().all(|c| is_partition(&c.name))
        })
        .collect();
    if on_partitions.is_empty() || files.is_empty() {
        return Ok(files.iter().collect());
    }
    let schema = Arc::new(Schema::new(partition_fields.to_vec()));
    let columns: Vec<ArrayRef> = (0..partition_fields.len())
        .map(|i| ScalarValue::iter_to_array(files.iter().map(|f| f.partition_values[i].clone())))
        .collect::<Result<_>>()?;
    let batch = RecordBatch::try_new(schema.clone(), columns)?;
    let df_schema = DFSchema::try_from(schema.as_ref().clone())?;
    let mut keep = vec![true; files.len()];
    for filter in on_partitions {
        let expr = state.create_physical_expr(filter.clone(), &df_schema)?;
        let values = expr.evaluate(&batch)?.into_array(files.len())?;
        let Some(values) = values.as_any().downcast_ref::<BooleanArray>() else {
            continue; // not a predicate: keeps everything
        };
        for (i, k) in keep.iter_mut().enumerate() {
            *k &= values.is_valid(i) && values.value(i);
        }
    }
    Ok(files
        .iter()
        .zip(keep)
        .filter_map(|(f, k)| k.then_some(f))
        .collect())
}
