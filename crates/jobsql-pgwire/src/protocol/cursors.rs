//! A connection's open cursors ([`crate::protocol::classify`] reads the statements into
//! [`crate::protocol::cursor_statements`]), each holding its statement's running stream.
//!
//! `DECLARE` starts the query like any statement (the same rewrite, plan check and guard) and
//! keeps its row stream, not its rows: each `FETCH n` pulls the next `n` rows from the stream
//! (at most one batch's leftover is kept between fetches), so a 2,000-row cursor read 100 at a
//! time holds no more than the pages in flight. Each `FETCH` / `MOVE` runs under its own
//! [`Guard`] (a `CancelRequest`, `--statement-timeout-secs`), and the operators of every open
//! cursor draw on the connection's memory pool (`--memory-limit-mb`). A connection holds at most
//! [`MAX_CURSORS`] cursors.
//!
//! A cursor ends — its stream dropped, so its API requests stop — on `CLOSE` (or `CLOSE ALL`,
//! `DISCARD ALL`), at `COMMIT` / `ROLLBACK` unless declared `WITH HOLD`, when the connection
//! ends, and when a `FETCH` of it fails or is canceled (a later `FETCH` answers `34000 cursor
//! "c" does not exist`, as in Postgres, whose failed transaction drops its cursors).
//!
//! `FETCH` answers a row description and the rows with the tag `FETCH n`, over the simple
//! protocol (in text, or binary for a `BINARY` cursor) and the extended one (in the formats the
//! client binds; psycopg 3 describes the portal named after the cursor, answered here too).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::execution::SendableRecordBatchStream;
use futures::{Stream, StreamExt, TryStreamExt};
use pgwire::api::portal::Format;
use pgwire::api::results::{FieldInfo, QueryResponse, Response, Tag};
use pgwire::error::PgWireResult;
use pgwire::messages::response::TransactionStatus;

use crate::encode::rows::{encode_batch, fields};
use crate::protocol::cursor_statements::{CursorError, Declare, Fetch};
use crate::protocol::errors::error_within;
use crate::protocol::session_commands::SessionCommand;
use crate::server::cancel::Guard;
use crate::server::limits::Limits;

/// The most cursors one connection may hold open.
pub const MAX_CURSORS: usize = 16;

/// One open cursor.
struct Cursor {
    schema: SchemaRef,
    binary: bool,
    hold: bool,
    /// A fetch of it failed: it is closed.
    broken: AtomicBool,
    state: tokio::sync::Mutex<State>,
}

/// Where a cursor's stream stands.
struct State {
    /// The statement's rows still to come (`None`: all read, or the cursor broke).
    stream: Option<SendableRecordBatchStream>,
    /// What is left of the last batch pulled.
    pending: Option<RecordBatch>,
}

/// The open cursors of a connection, by name.
#[derive(Default)]
pub struct Cursors {
    open: Mutex<HashMap<String, Arc<Cursor>>>,
}

impl std::fmt::Debug for Cursors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<String> = self
            .open
            .lock()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        f.debug_struct("Cursors").field("open", &names).finish()
    }
}

impl Cursors {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Cursor>>> {
        // A panic while holding the lock leaves a map that is still consistent.
        self.open.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn get(&self, name: &str) -> Result<Arc<Cursor>, CursorError> {
        let mut map = self.map();
        match map.get(name) {
            Some(c) if c.broken.load(Ordering::Relaxed) => {
                map.remove(name);
                Err(CursorError::NotFound(name.to_string()))
            }
            Some(c) => Ok(c.clone()),
            None => Err(CursorError::NotFound(name.to_string())),
        }
    }

    /// The columns of cursor `name`.
    pub fn schema(&self, name: &str) -> Result<SchemaRef, CursorError> {
        self.get(name).map(|c| c.schema.clone())
    }

    /// The row description of cursor `name`'s rows: `format`, else binary for a `BINARY`
    /// cursor and text otherwise. `None` when no cursor has that name.
    pub fn fields(&self, name: &str, format: Option<&Format>) -> Option<Vec<FieldInfo>> {
        let cursor = self.get(name).ok()?;
        Some(fields(&cursor.schema, &format_of(&cursor, format)))
    }

    /// Whether a cursor `name` may be opened now.
    fn check_new(&self, name: &str) -> Result<(), CursorError> {
        let mut map = self.map();
        map.retain(|_, c| !c.broken.load(Ordering::Relaxed));
        if map.contains_key(name) {
            return Err(CursorError::Exists(name.to_string()));
        }
        if map.len() >= MAX_CURSORS {
            return Err(CursorError::TooMany(MAX_CURSORS));
        }
        Ok(())
    }

    fn insert(&self, name: &str, cursor: Cursor) -> Result<(), CursorError> {
        self.check_new(name)?;
        self.map().insert(name.to_string(), Arc::new(cursor));
        Ok(())
    }

    fn close(&self, name: Option<&str>) -> Result<(), CursorError> {
        let mut map = self.map();
        match name {
            None => map.clear(),
            Some(name) => {
                let open = map.remove(name);
                if open.is_none_or(|c| c.broken.load(Ordering::Relaxed)) {
                    return Err(CursorError::NotFound(name.to_string()));
                }
            }
        }
        Ok(())
    }

    /// After a session command: `COMMIT` / `ROLLBACK` close the cursors not declared `WITH
    /// HOLD`, `DISCARD ALL` every one.
    pub fn after(&self, command: &SessionCommand) {
        match command {
            SessionCommand::End(_) => self.map().retain(|_, c| c.hold),
            SessionCommand::Ignored("DISCARD") => self.map().clear(),
            _ => {}
        }
    }

    /// How many cursors are open.
    pub fn len(&self) -> usize {
        self.map().len()
    }

    /// Whether none is open.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn format_of(cursor: &Cursor, format: Option<&Format>) -> Format {
    match format {
        Some(f) => f.clone(),
        None if cursor.binary => Format::UnifiedBinary,
        None => Format::UnifiedText,
    }
}

/// The next batches of `cursor`, `count` rows in all (`None`: to its end), each pulled under
/// `guard`. An error (the statement's, or the guard's) drops the stream and breaks the cursor.
fn batches(
    cursor: Arc<Cursor>,
    count: Option<u64>,
    guard: Guard,
    limits: Limits,
) -> impl Stream<Item = PgWireResult<RecordBatch>> + Send + 'static {
    futures::stream::unfold(
        (cursor, count, guard, false, limits),
        |(cursor, left, guard, done, limits)| async move {
            if done || left == Some(0) {
                return None;
            }
            let mut state = cursor.state.lock().await;
            let next = match state.pending.take() {
                Some(batch) => Ok(Some(batch)),
                None => match state.stream.as_mut() {
                    None => Ok(None),
                    Some(stream) => {
                        guard
                            .run(async {
                                stream
                                    .next()
                                    .await
                                    .transpose()
                                    .map_err(|e| error_within(&e, &limits))
                            })
                            .await
                    }
                },
            };
            match next {
                Ok(None) => {
                    state.stream = None;
                    None
                }
                Ok(Some(batch)) => {
                    let rows = batch.num_rows();
                    let take = left.map_or(rows, |n| usize::try_from(n).unwrap_or(rows).min(rows));
                    if take < rows {
                        state.pending = Some(batch.slice(take, rows - take));
                    }
                    drop(state);
                    let left = left.map(|n| n - take as u64);
                    Some((
                        Ok(batch.slice(0, take)),
                        (cursor, left, guard, false, limits),
                    ))
                }
                Err(e) => {
                    state.stream = None;
                    state.pending = None;
                    cursor.broken.store(true, Ordering::Relaxed);
                    drop(state);
                    Some((Err(e), (cursor, left, guard, true, limits)))
                }
            }
        },
    )
}

impl Cursors {
    /// Open cursor `declare` over the statement `start` starts (under `guard`), in a session
    /// whose transaction is `status`.
    pub async fn declare(
        &self,
        declare: &Declare,
        status: TransactionStatus,
        guard: &Guard,
        start: impl std::future::Future<Output = PgWireResult<(SchemaRef, SendableRecordBatchStream)>>,
    ) -> PgWireResult<Response> {
        if !declare.hold && matches!(status, TransactionStatus::Idle) {
            return Err(CursorError::OutsideTransaction.into());
        }
        self.check_new(&declare.name)?;
        let (schema, stream) = guard.run(start).await?;
        let cursor = Cursor {
            schema,
            binary: declare.binary,
            hold: declare.hold,
            broken: AtomicBool::new(false),
            state: tokio::sync::Mutex::new(State {
                stream: Some(stream),
                pending: None,
            }),
        };
        self.insert(&declare.name, cursor)?;
        Ok(Response::Execution(Tag::new("DECLARE CURSOR")))
    }

    /// Answer `CLOSE name` (`None`: `CLOSE ALL`).
    pub fn close_cursor(&self, name: Option<&str>) -> PgWireResult<Response> {
        self.close(name)?;
        Ok(Response::Execution(Tag::new(if name.is_some() {
            "CLOSE CURSOR"
        } else {
            "CLOSE CURSOR ALL"
        })))
    }

    /// Answer `FETCH` / `MOVE`: each batch pulled under `guard`, rows in `format` (`None`:
    /// the cursor's own, text or binary).
    pub async fn fetch(
        &self,
        fetch: &Fetch,
        format: Option<&Format>,
        guard: Guard,
        limits: &Limits,
    ) -> PgWireResult<Response> {
        let cursor = self.get(&fetch.name)?;
        let info = Arc::new(fields(&cursor.schema, &format_of(&cursor, format)));
        let rows = batches(cursor, fetch.count, guard, limits.clone());
        if fetch.skip {
            let skipped = rows
                .try_fold(0usize, |n, b| async move { Ok(n + b.num_rows()) })
                .await?;
            return Ok(Response::Execution(Tag::new("MOVE").with_rows(skipped)));
        }
        let encoding = info.clone();
        let rows = rows.flat_map(move |batch| {
            let rows = match batch.and_then(|b| encode_batch(&b, &encoding)) {
                Ok(rows) => rows.into_iter().map(Ok).collect(),
                Err(e) => vec![Err(e)],
            };
            futures::stream::iter(rows)
        });
        let mut response = QueryResponse::new(info, rows);
        response.set_command_tag("FETCH");
        Ok(Response::Query(response))
    }
}
