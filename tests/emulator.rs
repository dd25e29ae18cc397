//! The Jobs API emulator over real HTTP: every endpoint, filter, page token and error case,
//! life cycles on a manual clock the tests advance (and on the wall clock, the default), auth,
//! faults, latency, the request record, and its layering (read from its source); and the
//! LakeSail emulator beside it (`lakesail_list`, `lakesail_writes`, `lakesail_errors`, `lakesail_command`), layered and apart.

#[path = "emulator/clock.rs"]
mod clock;
/// The shared support, as this area's tests name it.
mod common {
    pub use crate::support::api::{assert_error, ids, is_active, life, wait_for, walk, Api};
    pub use crate::support::emulator::{clocked, fixed_clock as emu, start as emu_with, NOW};
}
#[path = "emulator/faults.rs"]
mod faults;
#[path = "emulator/get.rs"]
mod get;
#[path = "emulator/jobs.rs"]
mod jobs;
#[path = "emulator/jobs_write.rs"]
mod jobs_write;
#[path = "emulator/layering.rs"]
mod layering;
#[path = "emulator/layering_source.rs"]
mod layering_source;
#[path = "emulator/lakesail_command.rs"]
mod lakesail_command;
#[path = "emulator/lakesail_errors.rs"]
mod lakesail_errors;
#[path = "emulator/lakesail_list.rs"]
mod lakesail_list;
#[path = "emulator/lakesail_writes.rs"]
mod lakesail_writes;
#[path = "emulator/list.rs"]
mod list;
#[path = "emulator/misc.rs"]
mod misc;
#[path = "emulator/versions.rs"]
mod versions;
#[path = "emulator/writes.rs"]
mod writes;
