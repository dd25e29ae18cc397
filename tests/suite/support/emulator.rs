//! In-process emulators on 127.0.0.1:0: the standard deterministic histories the areas start
//! from, on a fixed "now" or a manual clock the test advances.

use std::sync::Arc;
use std::time::Duration;

use jobsql_emulator::{start_local, EmulatorConfig, EmulatorHandle, ManualClock};

/// A fixed "now" so generated data is identical from run to run.
pub const NOW: i64 = 1_790_000_000_000;

/// Start an emulator with `config`.
pub async fn start(config: EmulatorConfig) -> EmulatorHandle {
    start_local(config).await.expect("emulator starts")
}

/// The standard history: `runs` runs over 8 jobs, generated from `seed`.
pub fn history_config(runs: usize, seed: u64) -> EmulatorConfig {
    EmulatorConfig {
        runs,
        seed,
        jobs: 8,
        ..EmulatorConfig::default()
    }
}

/// An emulator holding the standard history of `runs` runs from `seed`.
pub async fn history(runs: usize, seed: u64) -> EmulatorHandle {
    start(history_config(runs, seed)).await
}

/// The standard history of 300 runs (seed 42).
pub async fn standard() -> EmulatorHandle {
    standard_with_latency(Duration::ZERO).await
}

/// The standard history of 300 runs, answering every request after `latency`.
pub async fn standard_with_latency(latency: Duration) -> EmulatorHandle {
    start(EmulatorConfig {
        latency,
        ..history_config(300, 42)
    })
    .await
}

/// `runs` runs over `jobs` jobs on the fixed clock [`NOW`].
pub async fn fixed_clock(runs: usize, jobs: usize) -> EmulatorHandle {
    start(EmulatorConfig {
        runs,
        jobs,
        now_ms: Some(NOW),
        ..EmulatorConfig::default()
    })
    .await
}

/// An emulator on a [`ManualClock`] standing at [`NOW`] (it moves only when the test
/// advances it), whose new runs move one life-cycle step per `phase_ms` of that clock; and
/// the clock.
pub async fn clocked(phase_ms: u64) -> (EmulatorHandle, ManualClock) {
    let clock = ManualClock::new(NOW);
    let h = start(EmulatorConfig {
        runs: 300,
        jobs: 6,
        phase: Duration::from_millis(phase_ms),
        clock: Some(Arc::new(clock.clone())),
        ..EmulatorConfig::default()
    })
    .await;
    (h, clock)
}
