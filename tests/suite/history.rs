//! The run history read back: Delta tables under a history root appear as
//! `<resource>_history` beside the live tables, in the library, `jobsql query` and `serve`,
//! with partition pruning, the newest version per statement, and clear errors. The tables
//! here are written with delta-rs itself (a second implementation of the format, not jobsql's
//! sync), so the reader is checked against what any Delta writer makes.

/// The shared support, as this area's tests name it.
mod common {
    pub use crate::support::batches::{ints, strings};
    pub use crate::support::cli::{jobsql_env, stderr, stdout};
    pub use crate::support::emulator::history as emulator;
    pub use crate::support::session::{error, query, runtime};
}
mod cloud;
mod delta;
mod read;
mod servers;
