//! The Jobs API emulator over real HTTP: every endpoint, filter, page token and error case,
//! life cycles on a manual clock the tests advance (and on the wall clock, the default), auth,
//! faults, latency, the request record; and the LakeSail emulator beside it (`lakesail_list`,
//! `lakesail_writes`, `lakesail_errors`, `lakesail_command`).

mod clock;
/// The shared support, as this area's tests name it.
mod common {
    pub use crate::support::api::{assert_error, ids, is_active, life, wait_for, walk, Api};
    pub use crate::support::emulator::{clocked, fixed_clock as emu, start as emu_with, NOW};
}
mod faults;
mod get;
mod jobs;
mod jobs_write;
mod lakesail_command;
mod lakesail_errors;
mod lakesail_list;
mod lakesail_writes;
mod list;
mod misc;
mod permissions;
mod sdk;
mod versions;
mod writes;
