//! The extended query protocol (tokio-postgres, psycopg with parameters, JDBC) on a
//! [`Connection`]: `Parse` is [`crate::protocol::prepare`]'s; `Bind` decodes the values
//! ([`crate::encode::params`]); `Execute` runs the plan with `with_param_values` and streams
//! the rows (jobsql's own `on_execute`: pgwire's would gather them first, unless the client
//! asks for a row limit); a session command, a cursor statement or a `DECLARE` is answered as
//! in the simple protocol. A `Describe` of a portal named after an open cursor (psycopg 3's
//! named cursors) answers the cursor's columns.
//!
//! Every failure is a Postgres `ErrorResponse` carrying [`jobsql_core::session::user_message`];
//! the connection stays usable and the server is not affected.

use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;
use futures::Sink;
use pgwire::api::portal::{Portal, PortalExecutionState};
use pgwire::api::query::{
    send_describe_response, send_execution_response, send_query_response, ExtendedQueryHandler,
};
use pgwire::api::results::{DescribePortalResponse, Response};
use pgwire::api::store::{Entry, PortalStore};
use pgwire::api::{ClientInfo, ClientPortalStore, PgWireConnectionState, DEFAULT_NAME};
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::extendedquery::{Describe, Execute, TARGET_TYPE_BYTE_PORTAL};
use pgwire::messages::PgWireBackendMessage;

use crate::protocol::connection::Connection;
use crate::protocol::prepare::{Parser, Prepared};

#[async_trait]
impl ExtendedQueryHandler for Connection {
    type Statement = Prepared;
    type QueryParser = Parser;

    fn query_parser(&self) -> Arc<Parser> {
        self.parser()
    }

    /// `Execute` of a prepared plan without a row limit: its rows are sent as they are
    /// produced. (pgwire's default gathers all of a portal's rows before sending the first:
    /// a whole result in memory.) A row limit (a driver's fetch size: at most that many rows
    /// are held), a session command or a portal already started keep pgwire's default.
    async fn on_execute<C>(&self, client: &mut C, message: Execute) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Prepared>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let name = message.name.as_deref().unwrap_or(DEFAULT_NAME);
        let portal = match client.portal_store().get_portal(name) {
            Some(Entry::Value(portal))
                if message.max_rows <= 0
                    && matches!(portal.statement.statement, Prepared::Plan { .. }) =>
            {
                portal
            }
            _ => return self._on_execute(client, message).await,
        };
        if !matches!(*portal.state().lock().await, PortalExecutionState::Initial) {
            return self._on_execute(client, message).await;
        }
        if !matches!(client.state(), PgWireConnectionState::ReadyForQuery) {
            return Err(PgWireError::NotReadyForQuery);
        }
        client.set_state(PgWireConnectionState::QueryInProgress);
        let response = self.do_query(client, portal.as_ref(), 0).await;
        // Run once: a second Execute of this portal gets no rows, as with pgwire's default.
        *portal.state().lock().await = PortalExecutionState::Finished;
        match response? {
            Response::Query(rows) => send_query_response(client, rows, false).await?,
            Response::Execution(tag) => send_execution_response(client, tag).await?,
            // A plan is answered with rows or a tag only.
            _ => {}
        }
        client.set_state(PgWireConnectionState::ReadyForQuery);
        Ok(())
    }

    /// A `Describe` of a portal named after an open cursor (psycopg 3 describes its named
    /// cursor so): the cursor's columns. Anything else as pgwire does.
    async fn on_describe<C>(&self, client: &mut C, message: Describe) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Prepared>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        if let (TARGET_TYPE_BYTE_PORTAL, Some(name)) = (message.target_type, &message.name) {
            if client.portal_store().get_portal(name).is_none() {
                if let Some(fields) = self.cursors().fields(name, None) {
                    let response = DescribePortalResponse::new(fields);
                    return send_describe_response(client, &response).await;
                }
            }
        }
        self._on_describe(client, message).await
    }

    async fn do_query<C>(
        &self,
        client: &mut C,
        portal: &Portal<Prepared>,
        _max_rows: usize,
    ) -> PgWireResult<Response>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Prepared>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let (plan, params) = match &portal.statement.statement {
            Prepared::Session(c) => {
                return self.session_command(c, &portal.result_column_format);
            }
            Prepared::Cursor(command) => {
                return self
                    .cursor_command(command, Some(&portal.result_column_format))
                    .await
            }
            Prepared::Declare {
                cursor,
                plan,
                params,
            } => {
                let plan = self.bound(portal, plan, params)?;
                let guard = self.guard();
                let start = self.start_plan(plan);
                return self
                    .declare(cursor, client.transaction_status(), &guard, start)
                    .await;
            }
            Prepared::Plan { plan, params } => (plan, params),
        };
        let plan = self.bound(portal, plan, params)?;
        let guard = self.guard();
        let (schema, stream) = guard.run(self.start_plan(plan)).await?;
        self.respond(&guard, schema, stream, &portal.result_column_format, None)
            .await
    }
}
