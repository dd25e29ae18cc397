//! Reading what a history table already holds, from the files of its last commit: the
//! high-water mark and the rows still active of a workspace ([`marks`]), and the rows of the
//! files a merge rewrites ([`read_files`]). Only committed files are read: a
//! [`HistoryTable`] (the reader's own table, from the history's one lister, restricted to some
//! files for a rewrite), scanned through the table's own store.
//!
//! The keys read back stay Arrow values ([`ScalarValue`]s taken from the arrays): they reach
//! the plans that fetch them as literals, whatever bytes they hold.

use datafusion::arrow::array::{Array, Int64Array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::ScalarValue;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::SendableRecordBatchStream;
use datafusion::functions_aggregate::expr_fn::max;
use datafusion::prelude::{ident, lit, DataFrame, SessionContext};

use super::plan::SyncPlan;
use crate::HistoryTable;

/// What the history holds for one workspace.
#[derive(Debug, Default)]
pub struct Marks {
    /// The latest start (epoch ms) of its rows; `None` when it has none.
    pub high_water_ms: Option<i64>,
    /// The rows still active at the last sync: their key (a value per key column, in key
    /// order; rows with a NULL in their key are left out: no get can name them) and start
    /// (epoch ms).
    pub active: Vec<(Vec<ScalarValue>, Option<i64>)>,
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
        for (row, start) in starts.into_iter().enumerate() {
            let key = (0..plan.key.len())
                .map(|i| ScalarValue::try_from_array(batch.column(i), row))
                .collect::<Result<Vec<_>>>()?;
            if key.iter().any(ScalarValue::is_null) {
                continue;
            }
            out.push((key, start));
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
