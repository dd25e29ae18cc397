//! The statements of a logged-in client: what each query string is, and its answer, over the
//! simple and the extended query protocols. Statements run on DataFusion with their rows
//! streamed as they are produced.
//!
//! Lowest first (each file uses only those before it):
//!
//! - [`errors`]: DataFusion's errors as Postgres `ErrorResponse`s (SQLSTATE by kind).
//! - [`session_commands`], [`cursor_statements`], [`copy_out`], [`query_statement`]: what a
//!   classified statement is (a session command answered by the server, `DECLARE` / `FETCH` /
//!   `MOVE` / `CLOSE`, `COPY (query) TO STDOUT`).
//! - [`classify`]: THE statement classifier — the one place client text is parsed here, once,
//!   into sqlparser's tree (the token stream only for the forms sqlparser does not read), and
//!   the engine's statements parsed by [`jobsql_core::sql::parse_script`].
//! - [`command_tag`]: the tag a statement is answered with, read off its tree.
//! - [`placeholders`]: the types of a prepared statement's `$n`.
//! - [`respond`]: a started statement's rows (or tag) as a Postgres response.
//! - [`cursors`]: a connection's open cursors, each holding its running stream.
//! - [`prepare`]: `Parse`: statements planned for the extended protocol.
//! - [`connection`]: the one connection type and every inherent method of it.
//! - [`simple`], [`extended`]: the two protocols, trait implementations on the connection.

pub mod errors;
pub mod session_commands;
pub mod cursor_statements;
pub mod copy_out;
pub mod query_statement;
pub mod classify;
pub mod command_tag;
pub mod placeholders;
pub mod respond;
pub mod cursors;
pub mod prepare;
pub mod connection;
pub mod simple;
pub mod extended;
