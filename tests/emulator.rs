//! The Jobs API emulator over real HTTP: every endpoint, filter, page token and error case,
//! life cycles on a short clock, auth, faults, latency and the request record.

/// The shared support, as this area's tests name it.
mod common {
    pub use crate::support::api::{assert_error, ids, is_active, life, wait_for, walk, Api};
    pub use crate::support::emulator::{
        fast_clock as fast, fixed_clock as emu, start as emu_with, NOW,
    };
}
#[path = "emulator/faults.rs"]
mod faults;
#[path = "emulator/get.rs"]
mod get;
#[path = "emulator/jobs.rs"]
mod jobs;
#[path = "emulator/jobs_write.rs"]
mod jobs_write;
#[path = "emulator/list.rs"]
mod list;
#[path = "emulator/misc.rs"]
mod misc;
#[path = "emulator/versions.rs"]
mod versions;
#[path = "emulator/writes.rs"]
mod writes;
