//! The bottom layer of the LakeSail emulator: what it knows. The model (`model`: jobs, runs,
//! statuses, a run's recorded or live life cycle), the seeded generator (`rng`), the history
//! generated from the seed (`history`), the store holding jobs and runs in listing order
//! (`store`) and the shared [`app::App`]. Nothing here imports a layer above (domain, render,
//! routes); of the Databricks emulator it uses only the generic clock and after-commit faults.

pub(crate) mod app;
pub(crate) mod history;
pub(crate) mod model;
pub(crate) mod rng;
pub(crate) mod store;
