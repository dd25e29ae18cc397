//! A faithful, deterministic stand-in for a Databricks workspace's Jobs API, on axum + tokio.
//!
//! Start it in-process with [`start`] / [`start_local`] (tests, `--demo`) or as the
//! `jobsql emulator` command ([`run_command`]). It serves, under `/api/2.2/jobs/` (and the
//! `/api/2.1/` and `/api/2.0/` prefixes): `runs/list`, `runs/get`, `runs/submit`,
//! `runs/delete`, `runs/cancel`, `runs/cancel-all`, `runs/repair`, `runs/export`,
//! `runs/get-output`, `list`, `get`, `create`, `reset`, `update`, `delete`, `run-now`; and
//! `GET /api/2.0/clean-rooms`, `GET /api/2.0/clean-rooms/{name}/runs` and
//! `DELETE /api/2.0/clean-rooms/{name}`. Every request needs `Authorization: Bearer <token>`:
//! the configured token (a PAT) or one its OAuth endpoints issued and that has not expired on
//! its clock (`GET /oidc/.well-known/oauth-authorization-server`, `POST /oidc/v1/token`:
//! client credentials, [`OAuthConfig`]).
//!
//! It is apart from the engine: nothing here imports a jobsql module outside `emulator`
//! (the engine builds without it: the `emulator` cargo feature, which `cli` turns on). Inside,
//! four layers, each using only the ones below it (checked by `tests/suite/emulator/layering.rs`):
//! - `state`: the history generated from the seed on demand (`data`, `history`, `jobgen`,
//!   `rooms`), the write overlays (`store`), the [`Clock`], armed after-commit faults
//!   (`faults`) and the shared `App`;
//! - `domain`: the API's rules over the state: run life cycles on the clock (`lifecycle`),
//!   job settings, run write rules, parameters and page tokens, error answers;
//! - `render`: the JSON objects (`Run`, job, task run);
//! - `routes`: the router, the middleware (auth, random 429/503 faults before a request is
//!   processed, lost responses after it was, the request record) and one handler module per
//!   group of endpoints, none using another.
//!
//! On top: `server` ([`EmulatorConfig`], [`start`]), [`EmulatorHandle`] and `command`. Time
//! comes from the configured [`Clock`]: the wall clock by default ([`SystemClock`], as in
//! `jobsql emulator` and `--demo`), or a [`ManualClock`] that a test advances to move created
//! runs through their life cycle without waiting.
//!
//! [`lakesail`] is a second emulator beside this one (the LakeSail job-runs API, under
//! `/api/v1`): it uses only the generic clock and after-commit faults of this one, and this one
//! uses nothing of it. What both need is written once in `shared` (the request record, the
//! middleware's generic pieces, serving and shutdown, the commands' common flags
//! [`ServeKnobs`]), below every layer of either.
//!
//! Choices where the references disagree or are silent:
//! - `runs/list` `limit`: 1..=25, default 20; `0` means the maximum (25), as the reference says;
//!   anything else (26, negative, not a number) is a 400 `INVALID_PARAMETER_VALUE`.
//! - A missing or wrong token is a 401 `UNAUTHENTICATED` (real workspaces have also been seen
//!   answering a wrong token with a 403 whose `error_code` is the number 403).
//! - A `job_id` that names no job is a 400 `INVALID_PARAMETER_VALUE` "Job N does not exist.",
//!   also for a deleted job, whose runs are gone with it (see `jobs_write`).
//! - `runs/get` of a task run id answers the task run as a `Run` (the same object as the
//!   `metadata` of `runs/get-output`), with `job_run_id` naming its job run.

mod command;
mod domain;
mod handle;
pub mod lakesail;
mod render;
mod routes;
mod server;
mod shared;
mod state;

pub use command::{run_command, EmulatorArgs};
pub use domain::notable::NotableRuns;
pub use handle::EmulatorHandle;
pub use server::{start, start_local, EmulatorConfig, EmulatorError};
pub use shared::knobs::ServeKnobs;
pub use state::app::RecordedRequest;
pub use state::clock::{Clock, ManualClock, SystemClock};
pub use state::faults::{AfterCommitFault, FaultSpecError, LostResponse};
pub use state::oauth::OAuthConfig;
