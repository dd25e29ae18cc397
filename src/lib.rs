//! jobsql: SQL over cloud job APIs, on Apache DataFusion.
//!
//! Resources (Databricks job runs, clean-room task runs, ...) are described by YAML specs; the
//! engine turns each into a DataFusion table that pushes WHERE predicates down into API
//! parameters, and runs INSERT, DELETE and EXEC as API calls. To add the tables to your own
//! `SessionContext`, call [`register`] (see [`plugin`]).
//!
//! The modules are layers, one way down: each uses only those listed before it (a test checks
//! this, and that there is no import cycle).
//!
//! 1. [`redact`]: the one point every outgoing text passes (secrets masked, control characters
//!    escaped).
//! 2. [`spec`]: the YAML specs (`provider-spec/`), loaded and checked.
//! 3. [`sql`]: DataFusion's parser, extended with StackQL's `EXEC`; SQL values.
//! 4. [`memory`]: every byte a statement makes counted in its memory pool (functions too).
//! 5. [`workspace`]: the workspaces to call, and their credentials.
//! 6. [`client`]: HTTP: auth, retries, throttle, deadlines.
//! 7. [`request`]: one request path (parameter placement, pages, not-found rules) for SELECT,
//!    DELETE, INSERT and EXEC alike.
//! 8. [`provider`]: the tables: scans, pushdown, newest-N, INSERT and DELETE, the dry-run log.
//! 9. [`hints`]: the messages users read.
//! 10. [`write`](mod@write): the statements DataFusion does not plan: EXEC, INSERT ... RETURNING.
//! 11. `history` (feature `history`): where the run history lives and its Delta tables, read
//!     back beside the live ones.
//! 12. [`plugin`]: registering all of it in a `SessionContext`.
//! 13. [`session`]: a ready session; running a statement.
//! 14. [`output`], `sync` (`jobsql sync`, feature `history`), [`shell`], [`serve`] (the Postgres wire protocol), `mcp` (the MCP server
//!     for AI assistants; feature `mcp`) and [`cli`]: the front ends.
//!
//! [`emulator`] stands apart: an in-process stand-in for the Databricks Jobs API that uses no
//! engine module.
//!
//! Features: `emulator` (the emulator, with axum), `mcp` (the MCP server, with rmcp), `history`
//! (the Delta Lake run history, with delta-rs) and `cli` (the command, with all three: the
//! emulator for `--demo`) are on by default; the engine builds
//! without any of them (`default-features = false`).

pub mod redact;
pub mod spec;
pub mod sql;
pub mod memory;
pub mod workspace;
pub mod client;
pub mod request;
pub mod provider;
pub mod hints;
pub mod write;
#[cfg(feature = "history")]
pub mod history;
pub mod plugin;
pub mod session;
pub mod output;
#[cfg(feature = "history")]
pub mod sync;
pub mod shell;
pub mod serve;
#[cfg(feature = "mcp")]
pub mod mcp;
#[cfg(feature = "cli")]
pub mod cli;

#[cfg(feature = "emulator")]
pub mod emulator;

#[cfg(test)]
mod layering;

pub use plugin::{register, JobsqlOptions, Registration};
