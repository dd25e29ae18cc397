//! What a user can tune in the client — retries, timeouts, concurrency, the largest response
//! accepted — and where its verbose log goes.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::RetryPolicy;

/// The client's settings (see [`ApiClient`](super::ApiClient)).
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// When and how long to retry.
    pub retry: RetryPolicy,
    /// Longest wait for a connection (TCP and TLS) to be set up.
    pub connect_timeout: Duration,
    /// Longest time one attempt may take, from sending to the last byte of the response.
    pub request_timeout: Duration,
    /// Most attempts in flight to one workspace at once (the AIMD limit starts here and never
    /// exceeds it).
    pub max_concurrency: usize,
    /// The largest response body accepted; a larger one is an error, not an out-of-memory.
    pub max_response_bytes: usize,
    /// Where one line per attempt goes (`--verbose`); `None`: nowhere.
    pub log: Option<LogSink>,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            retry: RetryPolicy::default(),
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            max_concurrency: 16,
            max_response_bytes: 64 * 1024 * 1024,
            log: None,
        }
    }
}

/// A destination for log lines (never given the token: lines are built from the method, the
/// path and query, the workspace name and the outcome, and pass [`crate::redact::outgoing`]).
#[derive(Clone)]
pub struct LogSink(Arc<dyn Fn(&str) + Send + Sync>);

impl LogSink {
    /// Lines to standard error, prefixed `jobsql: `.
    pub fn stderr() -> Self {
        LogSink(Arc::new(|line| eprintln!("jobsql: {line}")))
    }

    /// Lines to a function (e.g. a test's buffer).
    pub fn new(f: impl Fn(&str) + Send + Sync + 'static) -> Self {
        LogSink(Arc::new(f))
    }

    /// Write one line (through [`crate::redact::outgoing`]: secrets masked, control
    /// characters escaped).
    pub fn line(&self, text: &str) {
        (self.0)(&crate::redact::outgoing(text))
    }
}

impl fmt::Debug for LogSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LogSink")
    }
}
