//! The one support module of the test suite: everything a test needs besides the code under
//! test, written once and used by every area (`cli`, `client`, `emulator`, `interfaces`,
//! `reliability`, `select`, `writes`).
//!
//! By concern:
//! - [`emulator`]: in-process emulators on 127.0.0.1:0 with the suite's standard histories.
//! - [`history`]: `jobsql sync` in-process, a history table's rows read back, compared.
//! - [`lakesail`]: the LakeSail emulator in-process and its API called directly, marker walks.
//! - [`session`]: sessions (runtimes, workspaces) over an emulator or a stub, running SQL, and
//!   [`session::Env`] (an emulator with a session on it).
//! - [`client`]: the secret token, fast retry policies, clients and workspaces for stubs.
//! - [`stub`]: a scriptable HTTP server (axum) recording every request it answers.
//! - [`raw`]: TCP servers for what HTTP servers will not do (resets, cut bodies, silence), and
//!   a plain-thread server that echoes the `Authorization` header.
//! - [`api`]: the emulator's API called directly (reqwest), page walks, run states.
//! - [`base64`]: base64 written and read independently of the code under test.
//! - [`batches`]: reading Arrow results (ints, strings, counts, row pairs).
//! - [`reports`]: a partial write's row-by-row report, asserted.
//! - [`requests`]: filters over the emulator's request log.
//! - [`cli`]: the `jobsql` binary run as a user runs it, and `jobsql emulator` as a process.
//! - [`clients`]: real clients (Python packages, `psql`) run against `jobsql serve` or `mcp`.
//! - [`process`]: `jobsql serve` and `jobsql mcp` as child processes (the built binary): their
//!   peak memory, whether the server is alive (no abort), clients logged in to it.
//! - [`alloc`]: the suite's allocator, which tells a thread its largest allocation.
//! - [`rng`]: a small deterministic generator for the property tests.
//!
//! Each area names what it uses in a `mod common` facade in its root (`tests/suite/select.rs`, ...),
//! under the names its files have always used, so they import `super::common::*`; `tests/suite/cli.rs`
//! (an area of one file) imports from here directly.

pub mod alloc;
pub mod api;
pub mod base64;
pub mod batches;
pub mod cli;
pub mod client;
pub mod clients;
pub mod emulator;
pub mod history;
pub mod lakesail;
pub mod process;
pub mod raw;
pub mod reports;
pub mod requests;
pub mod rng;
pub mod session;
pub mod shapes;
pub mod stub;

/// The job runs table, fully qualified.
pub const RUNS: &str = "databricks_workspace.jobs.job_runs";
/// The path of `runs/list`.
pub const LIST: &str = "/api/2.2/jobs/runs/list";
