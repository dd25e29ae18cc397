//! The simple query protocol (psql, scripts, `simple_query`), streamed statement by statement.
//!
//! pgwire's default `on_query` collects every statement's response before sending the first,
//! so jobsql answers `Query` itself: the statements of the query string run in order, each one
//! through [`crate::session::stream_statement_checked`] (its plan checked by
//! [`super::settings::check_plan`]), and its rows go to the client as the batches come — a
//! large result is never held whole, and a slow client slows the scan instead of filling the
//! server's memory. The first error ends the query string (later statements do not run), as in
//! Postgres. One [`super::cancel::Guard`] covers the whole query string: a `CancelRequest` or
//! the statement timeout stops it, rows included. A query string that is one session command
//! (`SET application_name`, `BEGIN`, `SHOW search_path`, ...) is answered by
//! [`super::compat`].

use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::ScalarValue;
use futures::{Sink, SinkExt, TryStreamExt};
use pgwire::api::portal::Format;
use pgwire::api::query::{
    send_execution_response, send_query_response, send_ready_for_query, SimpleQueryHandler,
};
use pgwire::api::results::{QueryResponse, Response, Tag};
use pgwire::api::store::PortalStore;
use pgwire::api::{ClientInfo, ClientPortalStore, PgWireConnectionState};
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::response::{EmptyQueryResponse, TransactionStatus};
use pgwire::messages::simplequery::Query;
use pgwire::messages::PgWireBackendMessage;

use super::cancel::Guard;
use super::compat;
use super::encode::fields;
use super::handler::{compat_response, encode_rows, pg_error, Connection};
use super::settings::check_plan;
use crate::session::{split_statements, stream_statement_checked};

/// The first word of a statement as a command tag (`INSERT`, `DELETE`, `SELECT`, ...).
fn verb(sql: &str) -> String {
    sql.split_whitespace()
        .next()
        .unwrap_or("SELECT")
        .to_ascii_uppercase()
}

/// The row count of an INSERT / DELETE / UPDATE answered as DataFusion's one `count` value.
fn dml_count(batches: &[datafusion::arrow::record_batch::RecordBatch]) -> Option<usize> {
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

/// Send one response the way pgwire does, tracking the transaction status.
async fn send_response<C>(
    client: &mut C,
    response: Response,
    status: &mut TransactionStatus,
) -> PgWireResult<()>
where
    C: Sink<PgWireBackendMessage> + Unpin + Send,
    C::Error: Debug,
    PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
{
    match response {
        Response::EmptyQuery => {
            client
                .feed(PgWireBackendMessage::EmptyQueryResponse(
                    EmptyQueryResponse::new(),
                ))
                .await?
        }
        Response::Query(rows) => send_query_response(client, rows, true).await?,
        Response::Execution(tag) => send_execution_response(client, tag).await?,
        Response::TransactionStart(tag) => {
            send_execution_response(client, tag).await?;
            *status = status.to_in_transaction_state();
        }
        Response::TransactionEnd(tag) => {
            send_execution_response(client, tag).await?;
            *status = status.to_idle_state();
        }
        Response::Error(e) => {
            client
                .feed(PgWireBackendMessage::ErrorResponse((*e).into()))
                .await?
        }
        // Not produced by jobsql.
        Response::CopyIn(_) | Response::CopyOut(_) | Response::CopyBoth(_) => {}
    }
    Ok(())
}

impl Connection {
    /// Run the statements of `sql` in order, sending each result as it is produced.
    async fn run_script<C>(&self, client: &mut C, sql: &str, guard: &Guard) -> PgWireResult<()>
    where
        C: Sink<PgWireBackendMessage> + Unpin + Send,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let statements = split_statements(sql).map_err(|e| pg_error(&e))?;
        if statements.is_empty() {
            return send_execution_or_empty(client).await;
        }
        let mut status = TransactionStatus::Idle;
        for statement in statements {
            let verb = verb(&statement.to_string());
            let ctx = self.ctx.clone();
            let files = self.limits.allow_files.clone();
            let check = move |plan: &_| check_plan(plan, files.as_deref());
            let (schema, stream) = guard
                .run(async {
                    stream_statement_checked(&ctx, statement, &check)
                        .await
                        .map_err(|e| self.error(&e))
                })
                .await?;
            let response = if schema.fields().is_empty() || is_count(&verb, &schema) {
                let batches = guard
                    .run(async {
                        stream
                            .try_collect::<Vec<_>>()
                            .await
                            .map_err(|e| self.error(&e))
                    })
                    .await?;
                let tag = match (verb.as_str(), dml_count(&batches)) {
                    (_, None) => Tag::new(&verb),
                    ("INSERT", Some(n)) => Tag::new("INSERT").with_oid(0).with_rows(n),
                    (other, Some(n)) => Tag::new(other).with_rows(n),
                };
                Response::Execution(tag)
            } else {
                let info = Arc::new(fields(&schema, &Format::UnifiedText));
                let limits = self.limits.clone();
                let rows = encode_rows(stream, info.clone(), move |e| {
                    Connection::error_with(&limits, e)
                });
                Response::Query(QueryResponse::new(info, guard.rows(rows)))
            };
            send_response(client, response, &mut status).await?;
        }
        Ok(())
    }
}

async fn send_execution_or_empty<C>(client: &mut C) -> PgWireResult<()>
where
    C: Sink<PgWireBackendMessage> + Unpin + Send,
    C::Error: Debug,
    PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
{
    client
        .feed(PgWireBackendMessage::EmptyQueryResponse(
            EmptyQueryResponse::new(),
        ))
        .await?;
    Ok(())
}

#[async_trait]
impl SimpleQueryHandler for Connection {
    async fn on_query<C>(&self, client: &mut C, query: Query) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        if !matches!(client.state(), PgWireConnectionState::ReadyForQuery) {
            return Err(PgWireError::NotReadyForQuery);
        }
        client.set_state(PgWireConnectionState::QueryInProgress);
        let mut status = client.transaction_status();
        let sql = query.query;
        if let Some(c) = compat::intercept(&sql) {
            let response = compat_response(&c, &Format::UnifiedText)?;
            send_response(client, response, &mut status).await?;
        } else {
            let guard = self.guard();
            self.run_script(client, &sql, &guard).await?;
        }
        client.set_state(PgWireConnectionState::ReadyForQuery);
        client.set_transaction_status(status);
        send_ready_for_query(client, status).await
    }

    async fn do_query<C>(&self, _client: &mut C, query: &str) -> PgWireResult<Vec<Response>>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        // `on_query` does the work; this answers only what needs no statement.
        match compat::intercept(query) {
            Some(c) => Ok(vec![compat_response(&c, &Format::UnifiedText)?]),
            None => Err(PgWireError::NotReadyForQuery),
        }
    }
}
