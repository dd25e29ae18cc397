//! What Postgres clients say that is not a query of the data: answered by the server itself.
//!
//! Drivers and BI tools open sessions with `SET extra_float_digits = 3`, `SET application_name
//! = ...`, wrap statements in `BEGIN` / `COMMIT` (psycopg does by default), and ask `SHOW
//! search_path` or `SHOW transaction isolation level`. DataFusion knows none of these, so a
//! statement that is one of them (alone in its query string; [`crate::protocol::classify`]
//! tells) gets a Postgres-like answer here: transactions are accepted and have no effect (every
//! statement acts at once, as in autocommit; `SAVEPOINT x`, `RELEASE [SAVEPOINT] x` and
//! `ROLLBACK TO [SAVEPOINT] x`, which SQLAlchemy with psycopg 3 sends, likewise), `SET` of a
//! non-DataFusion setting is accepted and ignored, and `SHOW` of a well-known Postgres setting
//! ([`crate::catalog::settings`]) returns its usual value. `SET datafusion.*` and `SHOW
//! datafusion.*` / `SHOW ALL` / `SHOW TABLES` / `SHOW COLUMNS` go to DataFusion.

use std::sync::Arc;

use datafusion::arrow::array::StringArray;
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use pgwire::api::portal::Format;
use pgwire::api::results::{QueryResponse, Response, Tag};
use pgwire::error::PgWireResult;

use crate::encode::rows::{encode_batch, fields};
use crate::protocol::errors::pg_error;

/// A statement answered without DataFusion.
#[derive(Debug, Clone, PartialEq)]
pub enum SessionCommand {
    /// `BEGIN` / `START TRANSACTION`.
    Begin,
    /// `COMMIT` / `END` (`"COMMIT"`) or `ROLLBACK` / `ABORT` (`"ROLLBACK"`).
    End(&'static str),
    /// A session command that is accepted and has no effect; the tag to answer.
    Ignored(&'static str),
    /// `SHOW name`: the parameter's name and value.
    Show(String, String),
}

impl SessionCommand {
    /// The result's schema: one text column for `SHOW`, none otherwise.
    pub fn schema(&self) -> Arc<Schema> {
        match self {
            SessionCommand::Show(name, _) => {
                Arc::new(Schema::new(vec![Field::new(name, DataType::Utf8, false)]))
            }
            _ => Arc::new(Schema::empty()),
        }
    }

    /// The answer, rows (`SHOW`'s one) in `format`.
    pub fn answer(&self, format: &Format) -> PgWireResult<Response> {
        let value = match self {
            SessionCommand::Begin => return Ok(Response::TransactionStart(Tag::new("BEGIN"))),
            SessionCommand::End(tag) => return Ok(Response::TransactionEnd(Tag::new(tag))),
            SessionCommand::Ignored(tag) => return Ok(Response::Execution(Tag::new(tag))),
            SessionCommand::Show(_, value) => value,
        };
        let schema = self.schema();
        let column = Arc::new(StringArray::from(vec![value.as_str()]));
        let batch =
            RecordBatch::try_new(schema.clone(), vec![column]).map_err(|e| pg_error(&e.into()))?;
        let info = Arc::new(fields(&schema, format));
        let rows = encode_batch(&batch, &info)?;
        Ok(Response::Query(QueryResponse::new(
            info,
            futures::stream::iter(rows.into_iter().map(Ok)),
        )))
    }
}
