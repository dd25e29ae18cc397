//! The read path, end to end: SQL → pushdown → HTTP to the emulator → Arrow rows.
//! Every test asserts the rows and the API requests made.

#[path = "select/common.rs"]
mod common;
#[path = "select/equivalence.rs"]
mod equivalence;
#[path = "select/newest.rs"]
mod newest;
#[path = "select/pages.rs"]
mod pages;
#[path = "select/parallel.rs"]
mod parallel;
#[path = "select/params.rs"]
mod params;
#[path = "select/pushdown.rs"]
mod pushdown;
#[path = "select/robustness.rs"]
mod robustness;
#[path = "select/room_equivalence.rs"]
mod room_equivalence;
#[path = "select/schema.rs"]
mod schema;
