//! The write path: SQL statements that change things through the API.
//!
//! - `INSERT INTO <resource> (data__field, ...) VALUES|SELECT ...` → the resource's `insert`
//!   method, one request per row ([`insert`]).
//! - `DELETE FROM <resource> WHERE ...` → the resource's `delete` method, one request per
//!   matching object, through the table's `delete_from` ([`delete`]).
//! - `EXEC <resource>.<method> @param='value' ... [@@json='{...}']` → one request of any method
//!   the spec lists under `exec` ([`exec`]).
//!
//! All of them build requests with [`args`] (typed values from SQL checked against the method's
//! parameters) and send them with [`send_mutation`], which in a dry run records them in the
//! runtime's [`DryRunLog`] instead.

pub mod args;
pub mod dry_run;
pub mod send;

pub use dry_run::{DryRunLog, PlannedRequest};
pub use send::{send_mutation, SendError};
