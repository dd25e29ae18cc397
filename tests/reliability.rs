//! Reliability and security: the matrix of bad inputs and faults (listed in the README's
//! "Reliability" section), each driven over real HTTP against the emulator or a hand-rolled
//! server on 127.0.0.1:0, asserting the exact error or behaviour and the requests made.

#[path = "reliability/bounds.rs"]
mod bounds;
#[path = "reliability/caps.rs"]
mod caps;
#[path = "reliability/cli.rs"]
mod cli;
#[path = "reliability/common.rs"]
mod common;
#[path = "reliability/faults.rs"]
mod faults;
#[path = "reliability/messages.rs"]
mod messages;
#[path = "reliability/mutations.rs"]
mod mutations;
#[path = "reliability/props.rs"]
mod props;
#[path = "reliability/redaction.rs"]
mod redaction;
#[path = "reliability/responses.rs"]
mod responses;
#[path = "reliability/retries.rs"]
mod retries;
#[path = "reliability/security.rs"]
mod security;
#[path = "reliability/streaming.rs"]
mod streaming;
#[path = "reliability/throttle.rs"]
mod throttle;
#[path = "reliability/workspaces.rs"]
mod workspaces;
