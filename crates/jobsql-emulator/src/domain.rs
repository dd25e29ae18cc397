//! The rules of the Jobs API over the state: life cycles of runs (`lifecycle`), job settings
//! and their partial updates (`job_settings`), the run write rules shared by the run and job
//! endpoints (`runs`: task validation, idempotency tokens, cancellation, repair selection),
//! the notable runs of the history (`notable`), request parameters and page tokens
//! (`params`), the API's error answers (`errors`), job permissions (`permissions`) and cluster
//! policies and jobs' compliance with them (`policies`). Uses only `state`.

pub(crate) mod errors;
pub(crate) mod job_settings;
pub(crate) mod lifecycle;
pub(crate) mod notable;
pub(crate) mod params;
pub(crate) mod permissions;
pub(crate) mod policies;
pub(crate) mod runs;
