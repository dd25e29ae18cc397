//! Reading what a history table already holds, from the files of its last commit: the
//! high-water mark and the rows still active of a workspace ([`marks`]), and the rows of the
//! files a merge rewrites ([`read_files`]). Only committed files are read: a
//! [`HistoryTable`] (the reader's own table, from the history's one lister, restricted to some
//! files for a rewrite), scanned through the table's own store.

use datafusion::arrow::array::{Array, Int64Array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::SendableRecordBatchStream;
use datafusion::functions_aggregate::expr_fn::max;
use datafusion::prelude::{ident, lit, DataFrame, SessionContext};

use super::plan::{literal, SyncPlan};
use crate::history::HistoryTable;

/// What the history holds for one workspace.
#[derive(Debug, Default)]
pub struct Marks {
    /// The latest start (epoch ms) of its rows; `None` when it has none.
    pub high_water_ms: Option<i64>,
    /// The rows still active at the last sync: their key (as SQL literals, in key order)
    /// and start (epoch ms).
    pub active: Vec<(Vec<String>, Option<i64>)>,
}

fn files(ctx: &SessionContext, table: &HistoryTable) -> Result<DataFrame> {
    ctx.read_table(std::sync::Arc::new(table.clone()))
}

/// The rows of `table` (committed files), streamed.
pub async fn read_files(
    ctx: &SessionContext,
    table: &HistoryTable,
) -> Result<SendableRecordBatchStream> {
    files(ctx, table)?.execute_stream().await
}

/// The marks of `workspace` in `table` (its committed files).
pub async fn marks(
    ctx: &SessionContext,
    table: &HistoryTable,
    plan: &SyncPlan,
    workspace: &str,
) -> Result<Marks> {
    if table.files().is_empty() {
        return Ok(Marks::default());
    }
    let rows = files(ctx, table)?.filter(ident(&plan.workspace).eq(lit(workspace)))?;
    let top = rows
        .clone()
        .aggregate(vec![], vec![max(ident(&plan.start)).alias("mark")])?
        .collect()
        .await?;
    let high_water_ms = match top.first() {
        Some(batch) if batch.num_rows() > 0 => millis(batch.column(0))?.first().copied().flatten(),
        _ => None,
    };
    let mut columns: Vec<_> = plan.key.iter().map(ident).collect();
    columns.push(ident(&plan.start));
    let active = rows
        .filter(ident(&plan.active).is_null())?
        .select(columns)?
        .collect()
        .await?;
    let mut out = Vec::new();
    for batch in active {
        let starts = millis(batch.column(plan.key.len()))?;
        let keys: Vec<Vec<String>> = (0..plan.key.len())
            .map(|i| literals(batch.column(i)))
            .collect::<Result<_>>()?;
        for (row, start) in starts.into_iter().enumerate() {
            out.push((keys.iter().map(|k| k[row].clone()).collect(), start));
        }
    }
    Ok(Marks {
        high_water_ms,
        active: out,
    })
}

/// A time column as epoch milliseconds.
pub(super) fn millis(array: &dyn Array) -> Result<Vec<Option<i64>>> {
    let ms = cast(array, &DataType::Timestamp(TimeUnit::Millisecond, None))?;
    let ms = cast(&ms, &DataType::Int64)?;
    let ms = ms
        .as_any()
        .downcast_ref::<Int64Array>()
        .ok_or_else(|| DataFusionError::Internal("a time column is not a time".into()))?;
    Ok(ms.iter().collect())
}

/// A key column's values as SQL literals (text quoted, numbers as they are).
fn literals(array: &dyn Array) -> Result<Vec<String>> {
    let text = matches!(
        array.data_type(),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
    );
    let strings = cast(array, &DataType::Utf8)?;
    let strings = strings
        .as_any()
        .downcast_ref::<datafusion::arrow::array::StringArray>()
        .ok_or_else(|| DataFusionError::Internal("a key column does not cast to text".into()))?;
    Ok(strings
        .iter()
        .map(|v| match v {
            None => "NULL".to_string(),
            Some(v) if text => literal(v),
            Some(v) => v.to_string(),
        })
        .collect())
}
