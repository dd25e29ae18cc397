//! Reliability and security: the matrix of bad inputs and faults (listed in the book's
//! "Reliability" chapter, docs/src/reliability.md), each driven over real HTTP against the
//! emulator or a hand-rolled server on 127.0.0.1:0, asserting the exact error or behaviour and
//! the requests made.

mod bounds;
mod caps;
mod cli;
/// The shared support, as this area's tests name it.
mod common {
    pub use crate::support::batches::present_ints as ints;
    pub use crate::support::cli::{jobsql_env, text};
    pub use crate::support::client::{
        client, closed_port, emu_workspace, fast, fast_policy, logging, workspace, TOKEN,
    };
    pub use crate::support::emulator::start as emulator;
    pub use crate::support::raw::{Raw, RawServer};
    pub use crate::support::session::{context as session, error, query as rows, runtime};
    pub use crate::support::stub::{Reply, Seen, Stub};
    pub use crate::support::{LIST, RUNS};
}
mod deep;
mod faults;
mod fuzz;
mod memory;
mod messages;
mod mutations;
mod props;
mod redaction;
mod redaction_props;
mod responses;
mod retries;
mod security;
mod sql_text;
mod streaming;
mod throttle;
mod workspaces;
