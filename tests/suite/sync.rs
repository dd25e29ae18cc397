//! `jobsql sync` against the emulator over real HTTP: the first sync equals the live listing,
//! later syncs cost what they must and merge exactly once, a killed sync is completed by the
//! next, a second implementation (Python `deltalake`) reads the table, and bad input is one
//! clear line.

/// The shared support, as this area's tests name it.
mod common {
    pub use crate::support::emulator::{start, NOW};
    pub use crate::support::history::{
        assert_same_rows, history_rows, live_rows, run_ids, sync, table_dir,
    };
    pub use crate::support::session::on;
    pub use crate::support::LIST;

    /// The path of `runs/get`.
    pub const GET: &str = "/api/2.2/jobs/runs/get";

    /// A fresh directory for a history.
    pub fn history_dir(name: &str) -> std::path::PathBuf {
        crate::support::cli::temp_dir(&format!("sync-{name}"))
    }

    /// An emulator of `runs` runs (seed 42, 8 jobs) on a manual clock standing at [`NOW`]
    /// (nothing moves unless the test advances it), its new runs moving one step a second.
    pub async fn standing(
        runs: usize,
    ) -> (
        jobsql_emulator::EmulatorHandle,
        jobsql_emulator::ManualClock,
    ) {
        let clock = jobsql_emulator::ManualClock::new(NOW);
        let h = start(jobsql_emulator::EmulatorConfig {
            runs,
            seed: 42,
            jobs: 8,
            phase: std::time::Duration::from_secs(1),
            clock: Some(std::sync::Arc::new(clock.clone())),
            record_limit: 100_000,
            ..jobsql_emulator::EmulatorConfig::default()
        })
        .await;
        (h, clock)
    }
}

mod crash;
mod errors;
mod first;
mod hostile;
mod incremental;
mod python;
mod race;
mod kept;
mod lakesail;
mod task_runs;
mod values;
