//! The cursor statements of Postgres, as drivers send them: `DECLARE`, `FETCH`, `MOVE`, `CLOSE`.
//!
//! psycopg 3's named cursor (`conn.cursor(name="c")`) sends `DECLARE "c" CURSOR FOR query` over
//! the extended protocol (its parameters bound), describes the portal `"c"`, then `FETCH
//! FORWARD 100 FROM "c"` per `itersize` and `CLOSE "c"`; psycopg2's sends `DECLARE "c" CURSOR
//! WITHOUT HOLD FOR query` and `FETCH FORWARD 2000 FROM "c"` as simple queries; psql users type
//! `FETCH 5 FROM c`. [`crate::protocol::classify`] reads those statements into the types here;
//! [`crate::protocol::cursors`] runs them. The forms understood:
//!
//! - `DECLARE name [BINARY] [ASENSITIVE | INSENSITIVE] [NO SCROLL] CURSOR [WITH HOLD | WITHOUT
//!   HOLD] FOR query` (`SCROLL` is refused: a cursor reads its stream forward only);
//! - `FETCH` / `MOVE` `[NEXT | FORWARD | FORWARD n | FORWARD ALL | n | ALL] [FROM | IN] name`
//!   (backward and absolute positions are refused with Postgres' `cursor can only scan
//!   forward`);
//! - `CLOSE name | ALL`.
//!
//! A name is an identifier as Postgres reads it: folded to lower case unless double-quoted.

use pgwire::error::{ErrorInfo, PgWireError};

use jobsql_core::sql::Statement;

/// Why a cursor statement cannot run, with its SQLSTATE ([`CursorError::code`]).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CursorError {
    /// The statement does not parse.
    #[error("syntax error in {0}")]
    Syntax(String),
    /// A form jobsql does not run.
    #[error("{0}")]
    Unsupported(String),
    /// A backward or absolute move.
    #[error("cursor can only scan forward (jobsql cursors are NO SCROLL: FETCH [FORWARD] n | ALL | NEXT)")]
    Backward,
    /// No open cursor of that name.
    #[error("cursor \"{0}\" does not exist")]
    NotFound(String),
    /// A cursor of that name is open.
    #[error("cursor \"{0}\" already exists")]
    Exists(String),
    /// The connection holds the most cursors it may.
    #[error("too many open cursors: a connection may hold {0} (CLOSE one first)")]
    TooMany(usize),
    /// `DECLARE` without `WITH HOLD` outside `BEGIN` ... `COMMIT`.
    #[error("DECLARE CURSOR can only be used in transaction blocks (BEGIN first, or DECLARE ... CURSOR WITH HOLD)")]
    OutsideTransaction,
}

impl CursorError {
    /// The Postgres SQLSTATE of the error.
    pub fn code(&self) -> &'static str {
        match self {
            CursorError::Syntax(_) => "42601",
            CursorError::Unsupported(_) => "0A000",
            CursorError::Backward => "55000",
            CursorError::NotFound(_) => "34000",
            CursorError::Exists(_) => "42P03",
            CursorError::TooMany(_) => "53400",
            CursorError::OutsideTransaction => "25P01",
        }
    }
}

/// A cursor statement.
#[derive(Debug, Clone)]
pub enum CursorCommand {
    /// `DECLARE ... CURSOR ... FOR query`.
    Declare(Declare),
    /// `FETCH` or `MOVE`.
    Fetch(Fetch),
    /// `CLOSE name` (`None`: `CLOSE ALL`).
    Close(Option<String>),
}

/// `DECLARE name ... CURSOR ... FOR query`.
#[derive(Debug, Clone)]
pub struct Declare {
    /// The cursor's name.
    pub name: String,
    /// `BINARY`: rows fetched by the simple protocol are sent in binary format.
    pub binary: bool,
    /// `WITH HOLD`: the cursor outlives the transaction.
    pub hold: bool,
    /// The query, as parsed (one `SELECT`, `VALUES` or `WITH ... SELECT`).
    pub query: Statement,
}

/// `FETCH` / `MOVE` `count` rows of cursor `name`.
#[derive(Debug, Clone, PartialEq)]
pub struct Fetch {
    /// The cursor's name.
    pub name: String,
    /// How many rows (`None`: all that are left).
    pub count: Option<u64>,
    /// `MOVE`: the rows are skipped, not sent.
    pub skip: bool,
}

impl Fetch {
    /// The command tag's verb.
    pub fn verb(&self) -> &'static str {
        if self.skip {
            "MOVE"
        } else {
            "FETCH"
        }
    }
}

impl From<CursorError> for PgWireError {
    fn from(e: CursorError) -> Self {
        PgWireError::UserError(Box::new(ErrorInfo::new(
            "ERROR".to_string(),
            e.code().to_string(),
            e.to_string(),
        )))
    }
}
