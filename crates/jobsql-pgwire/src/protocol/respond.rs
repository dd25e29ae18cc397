//! A statement's result as a Postgres response, the same for both protocols: the statement
//! stream of [`jobsql_core::session`] ([`jobsql_core::session::stream_statement_checked`] for the simple
//! protocol, [`jobsql_core::session::stream_plan`] for a prepared statement) is answered by
//! `Connection::respond` — rows encoded and sent as the batches come, under the statement's
//! [`Guard`]; a statement without result columns, or (simple protocol) an `INSERT` / `DELETE`
//! / `UPDATE` count, run to its end and answered with its command tag (`DELETE 3`).

use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::ScalarValue;
use datafusion::error::DataFusionError;
use datafusion::execution::SendableRecordBatchStream;
use futures::{StreamExt, TryStreamExt};
use pgwire::api::portal::Format;
use pgwire::api::results::{FieldInfo, QueryResponse, Response, Tag};
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::data::DataRow;

use crate::encode::rows::{encode_batch, fields};
use crate::protocol::errors::error_within;
use crate::server::cancel::Guard;
use crate::server::limits::Limits;

/// The row count of an INSERT / DELETE / UPDATE answered as DataFusion's one `count` value.
fn dml_count(batches: &[RecordBatch]) -> Option<usize> {
    let batch = batches.iter().find(|b| b.num_rows() > 0)?;
    match ScalarValue::try_from_array(batch.column(0), 0).ok()? {
        ScalarValue::UInt64(Some(n)) => usize::try_from(n).ok(),
        ScalarValue::Int64(Some(n)) => usize::try_from(n).ok(),
        _ => None,
    }
}

/// Whether a result is a DML count (`INSERT` / `DELETE` / `UPDATE` with one `count` column).
fn is_count(verb: &str, schema: &SchemaRef) -> bool {
    matches!(verb, "INSERT" | "DELETE" | "UPDATE")
        && schema.fields().len() == 1
        && schema.field(0).name() == "count"
}

/// A stream of batches as a stream of Postgres rows.
pub fn encode_rows(
    stream: SendableRecordBatchStream,
    info: Arc<Vec<FieldInfo>>,
    on_error: impl Fn(&DataFusionError) -> PgWireError + Send + 'static,
) -> impl futures::Stream<Item = PgWireResult<DataRow>> + Send + 'static {
    stream.flat_map(move |batch| {
        let rows: Vec<PgWireResult<DataRow>> = match batch
            .map_err(|e| on_error(&e))
            .and_then(|b| encode_batch(&b, &info))
        {
            Ok(rows) => rows.into_iter().map(Ok).collect(),
            Err(e) => vec![Err(e)],
        };
        futures::stream::iter(rows)
    })
}

/// Answer a started statement (`schema`, `stream`) in `format`, under `guard` and `limits`.
/// `verb` is the statement's command tag ([`crate::protocol::command_tag`]) under the simple
/// protocol, which answers a DML count and a statement without columns with its tag; a
/// prepared statement (`None`) answers the latter `OK` and a count as its row.
pub async fn respond(
    guard: &Guard,
    schema: SchemaRef,
    stream: SendableRecordBatchStream,
    format: &Format,
    verb: Option<&str>,
    limits: &Limits,
) -> PgWireResult<Response> {
    let counted = verb.is_some_and(|v| is_count(v, &schema));
    if schema.fields().is_empty() || counted {
        let batches = guard
            .run(async {
                stream
                    .try_collect::<Vec<_>>()
                    .await
                    .map_err(|e| error_within(&e, limits))
            })
            .await?;
        let tag = match (verb, dml_count(&batches)) {
            (None, _) => Tag::new("OK"),
            (Some(verb), None) => Tag::new(verb),
            (Some("INSERT"), Some(n)) => Tag::new("INSERT").with_oid(0).with_rows(n),
            (Some(other), Some(n)) => Tag::new(other).with_rows(n),
        };
        return Ok(Response::Execution(tag));
    }
    let info = Arc::new(fields(&schema, format));
    let limits = limits.clone();
    let rows = encode_rows(stream, info.clone(), move |e| error_within(e, &limits));
    Ok(Response::Query(QueryResponse::new(info, guard.rows(rows))))
}
