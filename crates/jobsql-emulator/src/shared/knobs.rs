//! [`ServeKnobs`]: the command-line knobs both `jobsql emulator` and `jobsql emulator lakesail`
//! take, with the same flags and meaning: latency, the random fault rate, the request log and
//! the after-commit faults (`--fault-after-commit`, `--drop-after-commit`). Each command
//! flattens them into its own arguments and maps them onto its configuration.

use std::path::PathBuf;
use std::time::Duration;

use crate::state::faults::{AfterCommitFault, LostResponse};

/// The knobs both emulator commands share.
#[derive(clap::Args, Debug, Clone)]
pub struct ServeKnobs {
    /// Latency added to every request, in milliseconds.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Probability (0..=1) of answering a request with a 429 or 503.
    #[arg(long, default_value_t = 0.0)]
    pub fault_rate: f64,
    /// Append every request to this file as JSON lines.
    #[arg(long)]
    pub log: Option<PathBuf>,
    /// Process the next TIMES (default 1) successful requests whose path ends with SUFFIX,
    /// then answer 503 instead of the real response (a lost response); repeatable.
    #[arg(long, value_name = "SUFFIX[:TIMES]")]
    pub fault_after_commit: Vec<AfterCommitFault>,
    /// Like --fault-after-commit, but close the connection without any response.
    #[arg(long, value_name = "SUFFIX[:TIMES]")]
    pub drop_after_commit: Vec<AfterCommitFault>,
}

impl ServeKnobs {
    /// The latency to add to every request.
    pub fn latency(&self) -> Duration {
        Duration::from_millis(self.latency_ms)
    }

    /// The after-commit faults to arm at start: the 503 ones, then the dropped ones.
    pub fn after_commit_faults(&self) -> Vec<AfterCommitFault> {
        self.fault_after_commit
            .iter()
            .cloned()
            .chain(self.drop_after_commit.iter().map(|f| AfterCommitFault {
                mode: LostResponse::Dropped,
                ..f.clone()
            }))
            .collect()
    }
}
