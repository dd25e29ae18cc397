//! LakeSail job runs as tables, end to end: SQL over the LakeSail emulator (127.0.0.1:0) with
//! the spec written in YAML only (`provider-spec/lakesail/`). Every test asserts the rows and
//! the requests made (paths, `limit` / `marker`, bodies).

/// The shared support, as this area's tests name it.
mod common {
    pub use crate::support::batches::{count, ints, rows, strings};
    pub use crate::support::lakesail::{ids, sail_session, start, status, Sail, ENDED, SAIL_RUNS};
    pub use crate::support::session::{error, query};
}
mod read;
mod writes;
mod scoping;
