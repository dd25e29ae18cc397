//! In-process emulators on 127.0.0.1:0: the standard deterministic histories the areas start
//! from, and a fixed or fast clock.

use std::time::Duration;

use jobsql::emulator::{start_local, EmulatorConfig, EmulatorHandle};

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

/// An emulator whose new runs move one life-cycle step every `phase_ms`.
pub async fn fast_clock(phase_ms: u64) -> EmulatorHandle {
    start(EmulatorConfig {
        runs: 300,
        jobs: 6,
        phase: Duration::from_millis(phase_ms),
        ..EmulatorConfig::default()
    })
    .await
}
