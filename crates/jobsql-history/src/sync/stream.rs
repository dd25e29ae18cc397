//! The plans of a sync streamed through the session: a listing's rows into the merge
//! ([`stream_into`], optionally stopping once a listing sorted newest first reaches rows
//! below the mark: the rest of the listing is never requested), and a column of values (the
//! parents of an `each` listing, [`values`]). Each is one [`DataFrame`] the plan built: no
//! SQL text, so no second statement can ride along.

use datafusion::arrow::array::Array;
use datafusion::common::ScalarValue;
use datafusion::error::DataFusionError;
use datafusion::prelude::DataFrame;
use deltalake_core::DeltaTableError;
use futures::StreamExt;

use super::merge::Merger;
use super::read::millis;
use super::SyncError;

/// A failure while streaming rows into the merge: reading, or writing.
pub(super) enum StreamError {
    Read(DataFusionError),
    Write(DeltaTableError),
}

impl StreamError {
    pub(super) fn into_sync(
        self,
        read: &dyn Fn(DataFusionError) -> SyncError,
        write: &dyn Fn(DeltaTableError) -> SyncError,
    ) -> SyncError {
        match self {
            StreamError::Read(e) => read(e),
            StreamError::Write(e) => write(e),
        }
    }
}

/// Run `df` and stream its rows into `merger`. With `stop` (the start column and a mark,
/// epoch ms), the rows come newest first: reading ends after the first batch holding a row
/// that started before the mark (that batch is merged whole: its rows are fetched already,
/// and merging them again is harmless), and the stream is dropped, so no further page is
/// requested.
pub(super) async fn stream_into(
    df: DataFrame,
    merger: &mut Merger,
    stop: Option<(&str, i64)>,
) -> Result<(), StreamError> {
    let mut stream = df.execute_stream().await.map_err(StreamError::Read)?;
    while let Some(batch) = stream.next().await {
        let batch = batch.map_err(StreamError::Read)?;
        merger
            .add_incoming(&batch)
            .await
            .map_err(StreamError::Write)?;
        if let Some((column, mark)) = stop {
            let starts = batch
                .column_by_name(column)
                .ok_or_else(|| {
                    StreamError::Read(DataFusionError::Internal(format!(
                        "the listing has no column {column}"
                    )))
                })
                .and_then(|a| millis(a).map_err(StreamError::Read))?;
            if starts.iter().flatten().any(|&ms| ms < mark) {
                break;
            }
        }
    }
    Ok(())
}

/// The first column of `df`'s rows, as values (NULLs left out).
pub(super) async fn values(df: DataFrame) -> Result<Vec<ScalarValue>, DataFusionError> {
    let mut stream = df.execute_stream().await?;
    let mut out = Vec::new();
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        if batch.num_columns() == 0 {
            continue;
        }
        let column = batch.column(0);
        for row in 0..batch.num_rows() {
            if !column.is_null(row) {
                out.push(ScalarValue::try_from_array(column, row)?);
            }
        }
    }
    Ok(out)
}
