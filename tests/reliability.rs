//! Reliability and security: the matrix of bad inputs and faults (listed in the book's
//! "Reliability" chapter, docs/src/reliability.md), each driven over real HTTP against the
//! emulator or a hand-rolled server on 127.0.0.1:0, asserting the exact error or behaviour and
//! the requests made.

#[path = "reliability/bounds.rs"]
mod bounds;
#[path = "reliability/caps.rs"]
mod caps;
#[path = "reliability/cli.rs"]
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
#[path = "reliability/deep.rs"]
mod deep;
#[path = "reliability/faults.rs"]
mod faults;
#[path = "reliability/fuzz.rs"]
mod fuzz;
#[path = "reliability/memory.rs"]
mod memory;
#[path = "reliability/messages.rs"]
mod messages;
#[path = "reliability/mutations.rs"]
mod mutations;
#[path = "reliability/props.rs"]
mod props;
#[path = "reliability/redaction.rs"]
mod redaction;
#[path = "reliability/redaction_props.rs"]
mod redaction_props;
#[path = "reliability/responses.rs"]
mod responses;
#[path = "reliability/retries.rs"]
mod retries;
#[path = "reliability/security.rs"]
mod security;
#[path = "reliability/sql_text.rs"]
mod sql_text;
#[path = "reliability/streaming.rs"]
mod streaming;
#[path = "reliability/throttle.rs"]
mod throttle;
#[path = "reliability/workspaces.rs"]
mod workspaces;
