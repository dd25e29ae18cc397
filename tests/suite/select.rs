//! The read path, end to end: SQL → pushdown → HTTP to the emulator → Arrow rows.
//! Every test asserts the rows and the API requests made.

/// The shared support, as this area's tests name it.
mod common {
    pub use crate::support::api::all_runs_raw;
    pub use crate::support::batches::{assert_same, ints, pairs, rows, strings};
    pub use crate::support::emulator::history as emulator;
    pub use crate::support::requests::to;
    pub use crate::support::rng::Rng;
    pub use crate::support::session::{history_env as env, on as session, query, Env};
    pub use crate::support::RUNS;
}
mod compliance;
mod describe;
mod equivalence;
mod in_lists;
mod job_settings;
mod join_props;
mod join_keys;
mod keys;
mod names;
mod newest;
mod pages;
mod parallel;
mod permissions;
mod plan_props;
mod params;
mod pushdown;
mod short_names;
mod robustness;
mod run_output;
mod room_equivalence;
mod schema;
mod slices;
mod task_runs;
mod unnest;
