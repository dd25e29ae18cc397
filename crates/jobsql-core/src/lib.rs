//! jobsql-core: SQL over cloud job APIs, on Apache DataFusion — the engine.
//!
//! Resources (Databricks job runs, clean-room task runs, LakeSail jobs, ...) are described by
//! YAML specs; the engine turns each into a DataFusion table that pushes WHERE predicates down
//! into API parameters, and runs INSERT, DELETE and EXEC as API calls. To add the tables to your
//! own `SessionContext`, call [`register`] (see [`plugin`]).
//!
//! The modules are layers, one way down: each uses only those listed before it (a test checks
//! this, and that there is no import cycle).
//!
//! 1. [`redact`]: the one point every outgoing text passes (secrets masked, control characters
//!    escaped).
//! 2. [`spec`]: the YAML specs (`provider-spec/`), loaded and checked.
//! 3. [`sql`]: DataFusion's parser, extended with StackQL's `EXEC`; SQL values; the one place
//!    the engine makes SQL of its own ([`sql::build`]).
//! 4. [`memory`]: every byte a statement makes counted in its memory pool (functions too).
//! 5. [`workspace`]: the workspaces to call, and their credentials.
//! 6. [`client`]: HTTP: auth, retries, throttle, deadlines.
//! 7. [`request`]: one request path (parameter placement, pages, not-found rules) for SELECT,
//!    DELETE, INSERT and EXEC alike.
//! 8. [`provider`]: the tables: scans, pushdown, newest-N, INSERT and DELETE, the dry-run log,
//!    and [`provider::AddedTables`], the hook through which other crates (the run history) add
//!    tables beside them.
//! 9. [`hints`]: the messages users read.
//! 10. [`write`](mod@write): the statements DataFusion does not plan: EXEC, INSERT ... RETURNING.
//! 11. [`plugin`]: registering all of it in a `SessionContext`.
//! 12. [`session`]: a ready session; running a statement.
//! 13. [`output`]: results printed as a table, JSON or CSV.
//! 14. [`frontend`]: what every front end that runs other people's SQL shares (`serve`, `mcp`):
//!     sessions made per connection, a runtime that never spills to disk nor opens a file outside
//!     `--allow-files`, and the check of `SET` and DDL plans.
//!
//! The front ends are crates of their own over this one: `jobsql-pgwire` (the Postgres server),
//! `jobsql-mcp` (the MCP server), `jobsql-history` (`jobsql sync` and the history tables) and
//! `jobsql` (the command and its shell). See ARCHITECTURE.md.

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
pub mod plugin;
pub mod session;
pub mod output;
pub mod frontend;

#[cfg(test)]
mod layering;

pub use plugin::{register, JobsqlOptions, Registration};
