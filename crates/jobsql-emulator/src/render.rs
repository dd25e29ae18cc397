//! JSON rendering: a run as the API's `Run` object (`run`, with the serde shapes of `model`),
//! its task runs (`tasks`) and the ids and links they share (`ids`), a job and its settings
//! (`jobs`), one task run as a `Run` (`task_run`) and its runs/get-output body (`output`), a
//! job's permissions and permission levels (`permissions`). Uses `state` and `domain`, never
//! `routes`.

pub(crate) mod ids;
pub(crate) mod jobs;
pub(crate) mod model;
pub(crate) mod output;
pub(crate) mod permissions;
pub(crate) mod run;
pub(crate) mod task_run;
pub(crate) mod tasks;

/// How many tasks, job clusters, parameters (and repair history entries) one page of a run
/// or a job shows under 2.2.
pub(crate) const LIST_PAGE: usize = 100;
