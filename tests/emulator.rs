//! The Jobs API emulator over real HTTP: every endpoint, filter, page token and error case,
//! life cycles on a short clock, auth, faults, latency and the request record.

#[path = "emulator/common.rs"]
mod common;
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
#[path = "emulator/list.rs"]
mod list;
#[path = "emulator/misc.rs"]
mod misc;
#[path = "emulator/versions.rs"]
mod versions;
#[path = "emulator/writes.rs"]
mod writes;
