//! jobsql: SQL over cloud job APIs, on Apache DataFusion.
//!
//! Resources (Databricks job runs, clean-room task runs, ...) are described by YAML specs
//! (`provider-spec/`, loaded by [`spec`]); [`provider`] turns each resource into a DataFusion
//! table that pushes WHERE predicates down into API parameters; [`client`] does the HTTP
//! (auth, retries, pagination) against workspaces resolved by [`workspace`]; [`emulator`] is an
//! in-process stand-in for the Databricks Jobs API; [`session`] builds a ready SQL session; [`cli`]
//! and [`output`] are the `jobsql` command; [`write`](mod@write) is INSERT, DELETE and EXEC.
//!
//! [`redact`] is the one point every outgoing text passes: secrets masked, control characters
//! escaped.
//!
//! [`serve`] is the Postgres wire-protocol server, [`shell`] the interactive shell.
//!
//! To add the tables to your own DataFusion `SessionContext`, call [`register`] (see [`plugin`]).
//!
//! Features: `emulator` (the emulator, with axum) and `cli` (the command, with the emulator for
//! `--demo`) are on by default; the engine builds without either
//! (`default-features = false`).

#[cfg(feature = "cli")]
pub mod cli;
pub mod client;
#[cfg(feature = "emulator")]
pub mod emulator;
pub mod hints;
pub mod output;
pub mod plugin;
pub mod provider;
pub mod redact;
pub mod serve;
pub mod session;
pub mod shell;
pub mod spec;
pub mod sql;
pub mod workspace;
pub mod write;

pub use plugin::{register, JobsqlOptions, Registration};
