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
#[path = "select/describe.rs"]
mod describe;
#[path = "select/equivalence.rs"]
mod equivalence;
#[path = "select/in_lists.rs"]
mod in_lists;
#[path = "select/join_props.rs"]
mod join_props;
#[path = "select/join_keys.rs"]
mod join_keys;
#[path = "select/keys.rs"]
mod keys;
#[path = "select/names.rs"]
mod names;
#[path = "select/newest.rs"]
mod newest;
#[path = "select/pages.rs"]
mod pages;
#[path = "select/parallel.rs"]
mod parallel;
#[path = "select/plan_props.rs"]
mod plan_props;
#[path = "select/params.rs"]
mod params;
#[path = "select/pushdown.rs"]
mod pushdown;
#[path = "select/short_names.rs"]
mod short_names;
#[path = "select/robustness.rs"]
mod robustness;
#[path = "select/room_equivalence.rs"]
mod room_equivalence;
#[path = "select/schema.rs"]
mod schema;
#[path = "select/slices.rs"]
mod slices;
#[path = "select/unnest.rs"]
mod unnest;
