//! Starting an emulator: [`EmulatorConfig`] (what to generate, the clock, faults, the
//! request record), [`start`] / [`start_local`] (check the configuration, build the state,
//! bind, serve the router on a task) and [`EmulatorError`]. Above every layer: it builds the
//! `state`, collects the `domain`'s notable runs, serves `routes` and hands back the
//! [`EmulatorHandle`].

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use super::domain::notable;
use super::handle::EmulatorHandle;
use super::routes::router;
use super::state::app::App;
use super::state::clock::{Clock, SystemClock};
use super::state::faults::AfterCommitFault;
use super::state::oauth::{OAuthConfig, OAuthState};
use super::state::rooms;
use super::state::store::Store;
use crate::shared::record::{open_log, Recorder};
use crate::shared::serving::{bind, Serving};

/// How to build and run an emulator.
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// The bearer token every request must carry.
    pub token: String,
    /// Seed of the generated data.
    pub seed: u64,
    /// Number of generated jobs.
    pub jobs: usize,
    /// Number of generated history runs.
    pub runs: usize,
    /// Extra latency added to every request.
    pub latency: Duration,
    /// Probability (0..=1) that a request is answered with a 429 or a 503 instead.
    pub fault_rate: f64,
    /// Append every request to this file as JSON lines.
    pub log_file: Option<PathBuf>,
    /// "Now" for the generated history (epoch ms); `None` = the wall clock at start (or the
    /// time of `clock`). Time then moves on with the wall clock.
    pub now_ms: Option<i64>,
    /// Where "now" comes from (run start times, the life cycle of created runs, request-log
    /// timestamps); `None` = the wall clock ([`SystemClock`], starting at `now_ms` if set).
    /// Setting both `clock` and `now_ms` is a configuration error.
    pub clock: Option<Arc<dyn Clock>>,
    /// Time per life-cycle step of runs created through the API.
    pub phase: Duration,
    /// Responses to lose after the request was processed (see
    /// [`EmulatorHandle::fail_after_commit`]); more can be armed on the handle.
    pub after_commit_faults: Vec<AfterCommitFault>,
    /// How many of the latest requests [`EmulatorHandle::requests`] keeps (older ones are
    /// dropped first); 0 keeps none. `--log FILE` records every request regardless.
    pub record_limit: usize,
    /// The service principal its OAuth token endpoint accepts, and the tokens' lifetime.
    pub oauth: OAuthConfig,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            token: "dev-emulator-token".to_string(),
            seed: 42,
            jobs: 20,
            runs: 2000,
            latency: Duration::ZERO,
            fault_rate: 0.0,
            log_file: None,
            now_ms: None,
            clock: None,
            phase: Duration::from_secs(2),
            after_commit_faults: Vec::new(),
            record_limit: 10_000,
            oauth: OAuthConfig::default(),
        }
    }
}

/// Why the emulator could not start or serve.
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
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
    #[error("invalid emulator configuration: {0}")]
    Config(String),
    /// Serving failed.
    #[error("emulator server error: {0}")]
    Serve(std::io::Error),
}

/// Start an emulator on `addr`.
pub async fn start(
    config: EmulatorConfig,
    addr: SocketAddr,
) -> Result<EmulatorHandle, EmulatorError> {
    if !(0.0..=1.0).contains(&config.fault_rate) {
        return Err(EmulatorError::Config(format!(
            "fault rate {} is not within 0..=1",
            config.fault_rate
        )));
    }
    if config.runs > u32::MAX as usize / 4 {
        return Err(EmulatorError::Config(format!(
            "{} runs is too many",
            config.runs
        )));
    }
    let log = match &config.log_file {
        Some(path) => Some(open_log(path).map_err(|source| EmulatorError::Log {
            path: path.clone(),
            source,
        })?),
        None => None,
    };
    let (listener, local) = bind(addr)
        .await
        .map_err(|source| EmulatorError::Bind { addr, source })?;
    let clock: Arc<dyn Clock> = match (&config.clock, config.now_ms) {
        (Some(_), Some(_)) => {
            return Err(EmulatorError::Config(
                "set either now_ms or clock, not both".to_string(),
            ))
        }
        (Some(clock), None) => clock.clone(),
        (None, Some(ms)) => Arc::new(SystemClock::starting_at(ms)),
        (None, None) => Arc::new(SystemClock::new()),
    };
    let now0 = clock.now_ms();
    let phase_ms = (config.phase.as_millis() as i64).max(1);
    let store = Store::new(config.seed, config.runs, config.jobs, now0, phase_ms);
    let rooms = rooms::generate(config.seed, now0);
    let notable = notable::collect(&store, &rooms);
    let app = Arc::new(App {
        store: RwLock::new(store),
        token: config.token.clone(),
        seed: config.seed,
        latency: config.latency,
        fault_rate: config.fault_rate,
        base_url: format!("http://{local}"),
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
        rooms,
        deleted_rooms: Default::default(),
        oauth: OAuthState::new(config.oauth.clone(), config.seed),
        started: std::time::Instant::now(),
    });
    let serving = Serving::spawn(listener, router(app.clone()));
    Ok(EmulatorHandle {
        app,
        notable: Arc::new(notable),
        serving,
    })
}

/// Start an emulator on `127.0.0.1:0` (a free port).
pub async fn start_local(config: EmulatorConfig) -> Result<EmulatorHandle, EmulatorError> {
    start(config, SocketAddr::from(([127, 0, 0, 1], 0))).await
}
