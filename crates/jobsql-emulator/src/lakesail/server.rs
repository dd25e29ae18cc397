//! Starting a LakeSail emulator: [`LakeSailConfig`] (what to generate, the clock, the life
//! cycle's pace, faults, the request record), [`start`] / [`start_local`] (check the
//! configuration, generate the state, bind, serve the router on a task) and
//! [`LakeSailError`].

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use super::handle::LakeSailHandle;
use super::routes::{router, BASE};
use super::state::app::App;
use super::state::history;
use super::state::store::Store;
use crate::shared::record::{open_log, Recorder};
use crate::shared::serving::{bind, Serving};
use crate::state::clock::{Clock, SystemClock};
use crate::state::faults::AfterCommitFault;

/// The token of a default LakeSail emulator.
pub const DEFAULT_TOKEN: &str = "dev-ls-token-4e9a";

/// Most runs a history may have (they are held in memory, about 1 KB each).
const MAX_RUNS: usize = 250_000;

/// How to build and run a LakeSail emulator. Its `Debug` masks the token.
#[derive(Clone)]
pub struct LakeSailConfig {
    /// The bearer token every request must carry.
    pub token: String,
    /// Seed of the generated history (same seed and "now", same jobs, runs and ids).
    pub seed: u64,
    /// Number of generated jobs (at least 1).
    pub jobs: usize,
    /// Number of generated runs over the last 60 days (the first job gets about 60%).
    pub runs: usize,
    /// `createdBy` of the runs created through the API.
    pub user: String,
    /// Extra latency added to every request.
    pub latency: Duration,
    /// Probability (0..=1) that a request is answered with a 429 or a 503 instead.
    pub fault_rate: f64,
    /// Append every request to this file as JSON lines.
    pub log_file: Option<PathBuf>,
    /// Where "now" comes from (the history's end, created runs, the life cycle, log
    /// stamps); `None` = the wall clock.
    pub clock: Option<Arc<dyn Clock>>,
    /// Time per life-cycle step of a released run (`ready` → `starting` → ... → ended).
    pub phase: Duration,
    /// When set, a created run is dispatched (becomes `ready`) this long after it was
    /// created, as the scheduler would; `None` (the default): it stays `pending` until
    /// released with `ready`.
    pub auto_dispatch: Option<Duration>,
    /// Responses to lose after the request was processed (see
    /// [`LakeSailHandle::fail_after_commit`]).
    pub after_commit_faults: Vec<AfterCommitFault>,
    /// How many of the latest requests [`LakeSailHandle::requests`] keeps; 0 keeps none.
    pub record_limit: usize,
}

impl Default for LakeSailConfig {
    fn default() -> Self {
        LakeSailConfig {
            token: DEFAULT_TOKEN.to_string(),
            seed: 42,
            jobs: 6,
            runs: 700,
            user: "dev@lakesail.local".to_string(),
            latency: Duration::ZERO,
            fault_rate: 0.0,
            log_file: None,
            clock: None,
            phase: Duration::from_secs(2),
            auto_dispatch: None,
            after_commit_faults: Vec::new(),
            record_limit: 10_000,
        }
    }
}

impl std::fmt::Debug for LakeSailConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LakeSailConfig")
            .field("token", &"****")
            .field("seed", &self.seed)
            .field("jobs", &self.jobs)
            .field("runs", &self.runs)
            .field("user", &self.user)
            .field("latency", &self.latency)
            .field("fault_rate", &self.fault_rate)
            .field("log_file", &self.log_file)
            .field("clock", &self.clock)
            .field("phase", &self.phase)
            .field("auto_dispatch", &self.auto_dispatch)
            .field("after_commit_faults", &self.after_commit_faults)
            .field("record_limit", &self.record_limit)
            .finish()
    }
}

/// Why the LakeSail emulator could not start or serve.
#[derive(Debug, thiserror::Error)]
pub enum LakeSailError {
    /// The listening socket could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
    /// The request log could not be opened.
    #[error("cannot open the request log {path}: {source}")]
    Log {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A configuration value is out of range.
    #[error("invalid LakeSail emulator configuration: {0}")]
    Config(String),
    /// Serving failed.
    #[error("LakeSail emulator server error: {0}")]
    Serve(std::io::Error),
}

fn check(config: &LakeSailConfig) -> Result<(), LakeSailError> {
    let bad = |m: String| Err(LakeSailError::Config(m));
    if !(0.0..=1.0).contains(&config.fault_rate) {
        return bad(format!(
            "fault rate {} is not within 0..=1",
            config.fault_rate
        ));
    }
    if config.jobs == 0 {
        return bad("jobs must be at least 1".to_string());
    }
    if config.runs > MAX_RUNS {
        return bad(format!("{} runs is more than {MAX_RUNS}", config.runs));
    }
    if config.auto_dispatch.is_some_and(|d| d.is_zero()) {
        return bad("auto-dispatch must wait at least 1 ms (a created run is pending)".to_string());
    }
    if config.token.is_empty() {
        return bad("the token is empty".to_string());
    }
    Ok(())
}

/// Start a LakeSail emulator on `addr`.
pub async fn start(
    config: LakeSailConfig,
    addr: SocketAddr,
) -> Result<LakeSailHandle, LakeSailError> {
    check(&config)?;
    let log = match &config.log_file {
        Some(path) => Some(open_log(path).map_err(|source| LakeSailError::Log {
            path: path.clone(),
            source,
        })?),
        None => None,
    };
    let (listener, local) = bind(addr)
        .await
        .map_err(|source| LakeSailError::Bind { addr, source })?;
    let clock: Arc<dyn Clock> = match &config.clock {
        Some(c) => c.clone(),
        None => Arc::new(SystemClock::new()),
    };
    let (jobs, runs, rng) =
        history::generate(config.seed, config.jobs, config.runs, clock.now_ms());
    let millis = |d: Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
    let app = Arc::new(App {
        store: RwLock::new(Store::new(jobs, runs, rng)),
        token: config.token.clone(),
        seed: config.seed,
        user: config.user.clone(),
        latency: config.latency,
        fault_rate: config.fault_rate,
        phase_ms: millis(config.phase).max(1),
        dispatch_ms: config.auto_dispatch.map(millis),
        base_url: format!("http://{local}{BASE}"),
        clock,
        record: Recorder::new(config.record_limit, log),
        faults: Mutex::new(
            config
                .after_commit_faults
                .iter()
                .filter(|f| f.times > 0)
                .cloned()
                .collect(),
        ),
        counter: std::sync::atomic::AtomicU64::new(0),
    });
    let serving = Serving::spawn(listener, router(app.clone()));
    Ok(LakeSailHandle { app, serving })
}

/// Start a LakeSail emulator on `127.0.0.1:0` (a free port).
pub async fn start_local(config: LakeSailConfig) -> Result<LakeSailHandle, LakeSailError> {
    start(config, SocketAddr::from(([127, 0, 0, 1], 0))).await
}
