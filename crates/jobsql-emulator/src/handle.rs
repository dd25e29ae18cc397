//! [`EmulatorHandle`]: what a test (or `--demo`) holds on a running emulator: its address and
//! token, the requests it received, the ids tests can rely on, faults to arm while it runs,
//! and shutdown.

use std::sync::Arc;

use super::domain::notable::NotableRuns;
use super::state::app::{App, RecordedRequest};
use super::state::faults::{self, LostResponse};
use crate::shared::serving::Serving;

/// A running emulator.
#[derive(Clone)]
pub struct EmulatorHandle {
    pub(crate) app: Arc<App>,
    pub(crate) notable: Arc<NotableRuns>,
    pub(crate) serving: Serving,
}

impl std::fmt::Debug for EmulatorHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmulatorHandle")
            .field("base_url", &self.app.base_url)
            .finish()
    }
}

impl EmulatorHandle {
    /// `http://HOST:PORT`, no trailing slash.
    pub fn base_url(&self) -> String {
        self.app.base_url.clone()
    }

    /// The bearer token to use.
    pub fn token(&self) -> &str {
        &self.app.token
    }

    /// The requests received so far, oldest first (faulted ones too): the latest
    /// [`EmulatorConfig::record_limit`](super::server::EmulatorConfig::record_limit) of them.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.app.record.snapshot()
    }

    /// Forget the recorded requests.
    pub fn clear_requests(&self) {
        self.app.record.clear();
    }

    /// Ids tests can rely on.
    pub fn notable(&self) -> NotableRuns {
        (*self.notable).clone()
    }

    /// Process the next `times` successful requests whose path ends with `path_suffix` (at a
    /// `/` boundary, e.g. `"runs/submit"`), keep their effect, and answer each with a 503
    /// `TEMPORARILY_UNAVAILABLE` instead of the real response. Requests that fail (4xx) keep
    /// their real answer and do not count. Adds to faults already armed.
    pub fn fail_after_commit(&self, path_suffix: &str, times: u32) {
        faults::arm_for(
            &self.app.faults,
            path_suffix,
            times,
            LostResponse::Unavailable,
        );
    }

    /// Like [`fail_after_commit`](Self::fail_after_commit), but the connection is closed
    /// without any response (the request is recorded with status 0).
    pub fn drop_after_commit(&self, path_suffix: &str, times: u32) {
        faults::arm_for(&self.app.faults, path_suffix, times, LostResponse::Dropped);
    }

    /// Stop serving and wait for the server task to end.
    pub async fn shutdown(self) {
        self.serving.stop().await;
    }
}
