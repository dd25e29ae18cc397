//! jobsql-history: the run history kept beyond the API's retention, one Delta Lake table per
//! resource, written by `jobsql sync` ([`sync`]) and read back as
//! `<catalog>.<schema>.<resource>_history` beside the live table.
//!
//! The reading side knows where the history lives ([`location`]), how the tables appear in a
//! session ([`schema`]; a [`HistoryRoot`] is the [`jobsql_core::provider::AddedTables`] the
//! engine's plugin registers) and how they read ([`log`], [`table`], [`prune`], [`exec`]) on
//! any store delta-rs opens: local, or the cloud stores of [`stores`]; it never calls an API.
//! [`sync`] sits above the engine's session: it reads the live tables and writes the history.

pub mod exec;
pub mod location;
pub mod log;
pub mod prune;
pub mod schema;
pub mod stores;
pub mod sync;
pub mod table;

pub use location::{HistoryRoot, PARTITION_COLUMN, SYNCED_AT_COLUMN};
pub use schema::register;
pub use table::HistoryTable;

/// What can go wrong finding or reading the history.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// The location given (flag or `JOBSQL_HISTORY`) is neither a path nor a usable URL.
    #[error("history location {given:?}: {why}")]
    Location {
        /// The text as the user gave it.
        given: String,
        /// Why it cannot be used.
        why: String,
    },
    /// No location was given and the user data directory is unknown (no `XDG_DATA_HOME`, no
    /// `HOME`).
    #[error("no history location: give --history DIR (or JOBSQL_HISTORY; `jobsql sync --to DIR`), or set HOME")]
    NoDataDir,
    /// A history table that cannot be read (its log, its schema, a feature jobsql does not
    /// apply).
    #[error("{table}: {why}")]
    Table {
        /// The table, `provider.service.resource_history`.
        table: String,
        /// What is wrong.
        why: String,
    },
}

/// The history under this root, registered beside the live tables: each resource's Delta table
/// is the table `<resource>_history` (see [`jobsql_core::JobsqlOptions::with_tables`]).
impl jobsql_core::provider::AddedTables for HistoryRoot {
    fn register(
        &self,
        schemas: &jobsql_core::provider::added::Schemas,
        specs: &jobsql_core::spec::SpecSet,
    ) {
        register(schemas, specs, self);
    }
}
