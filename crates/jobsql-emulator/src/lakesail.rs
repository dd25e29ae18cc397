//! A deterministic stand-in for the LakeSail platform's job-runs API, on axum + tokio, apart
//! from the Databricks emulator beside it as both are apart from the engine.
//!
//! Start it in-process with [`start`] / [`start_local`] (tests, `--demo`) or as
//! `jobsql emulator lakesail` ([`run_command`]). Under `/api/v1` ([`LakeSailHandle::base_url`]
//! ends with it) it serves `GET /me/jobs/runs` (every job's runs merged), `GET|POST
//! /workloads/jobs/{job}/runs`, `GET|DELETE /workloads/jobs/{job}/runs/{jobRun}`,
//! `POST .../{jobRun}/ready`, `POST .../{jobRun}/retry` and `GET /workloads/jobs`. Every
//! request needs `Authorization: Bearer <token>` (default `dev-ls-token-4e9a`; else 401).
//!
//! Layers as in the Databricks emulator, each using only the ones below it (checked by
//! `tests/suite/emulator/layering.rs`): `state` (model, seeded history, store, `App`) → `domain`
//! (errors, life cycle, paging, bodies, write rules) → `render` (JobRun, job, RFC 3339) →
//! `routes` (router, middleware, one handler module per group); on top `server`, `handle`,
//! `command`. Of the Databricks emulator it uses only the generic [`Clock`](crate::Clock)
//! and after-commit faults (`state::faults`), plus what both emulators share (`shared`: the
//! request record, the middleware's generic pieces, serving, the commands' common flags); the
//! Databricks emulator uses nothing of it.
//!
//! The contract is issue 15's; where the reference is silent, this emulator chooses:
//! - Lists (`limit` 0–100, 0 or absent = 100, else 400; any other query parameter is a 400)
//!   are newest first by `createdAt` (ties by id, descending); `marker` is opaque
//!   (base64url of the last item's `createdAt` and id) and the next page continues strictly
//!   after that item, so runs created or deleted during a walk never cause a duplicate or a
//!   gap; it is absent on the last page; a marker that does not decode is a 400.
//! - `GET /workloads/jobs` lists `{id, jobKey, version, status, description, createdAt}`
//!   newest first and pages like the run lists (the reference shows `limit` only); `/me/...`
//!   lists every job's runs (no teams or permissions are emulated).
//! - Create answers 201 with the run, `pending`, trigger `api`, attempt 1. It stays `pending`
//!   until released (`ready`), unless [`LakeSailConfig::auto_dispatch`] (`--dispatch-ms`) is
//!   set: then it becomes `ready` that long after creation. Released, a run moves one step
//!   per [`LakeSailConfig::phase`]: `ready` → `starting` → `creating_sail` →
//!   `waiting_for_sail` → `creating_runner` → `running` → `succeeded` (or, on its first
//!   attempt, the terminal status its `outcome` parameter names: `failed`, `timeout`,
//!   `cancelled`). `startedAt` is set on entering `starting`, `finishedAt` on ending.
//! - Retry (200, same id, `attempt` + 1, `startedAt`/`finishedAt` cleared) goes to `ready`,
//!   or `pending` with `{"hold": true}` (a held run is never auto-dispatched), and then
//!   succeeds. Delete answers 204 with no body, for `succeeded`, `failed`, `cancelled` and
//!   `timeout` runs. Other statuses are a 409 `{"message"}`.
//! - 404 for an unknown job, an unknown run or a run of another job; 400 for a body that is
//!   not a JSON object, a field of the wrong type or an unknown field; 405 for a known path's
//!   other methods.
//! - The generated history stands still (so every status stays present); only runs created,
//!   released or retried through the API move on the clock.

mod command;
mod domain;
mod handle;
mod render;
mod routes;
mod server;
mod state;

pub use command::{run_command, LakeSailArgs};
pub use handle::LakeSailHandle;
pub use server::{start, start_local, LakeSailConfig, LakeSailError, DEFAULT_TOKEN};
pub use state::app::RecordedRequest;
