//! [`LakeSailHandle`]: what a test (or `--demo`) holds on a running LakeSail emulator: its
//! base URL and token, the jobs, the requests it received, faults to arm while it runs, and
//! shutdown. Its `Debug` shows the base URL only (never the token).

use std::sync::Arc;

use super::state::app::{App, RecordedRequest};
use crate::shared::serving::Serving;
use crate::state::faults::{self, LostResponse};

/// A running LakeSail emulator.
#[derive(Clone)]
pub struct LakeSailHandle {
    pub(crate) app: Arc<App>,
    pub(crate) serving: Serving,
}

impl std::fmt::Debug for LakeSailHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LakeSailHandle")
            .field("base_url", &self.app.base_url)
            .finish()
    }
}

impl LakeSailHandle {
    /// `http://HOST:PORT/api/v1`, no trailing slash: `LAKESAIL_API_URL`.
    pub fn base_url(&self) -> String {
        self.app.base_url.clone()
    }

    /// The bearer token to use: `LAKESAIL_TOKEN`.
    pub fn token(&self) -> &str {
        &self.app.token
    }

    /// The job ids, in the order they were generated: the first has the most runs.
    pub fn jobs(&self) -> Vec<String> {
        self.app
            .read()
            .jobs()
            .iter()
            .map(|j| j.id.clone())
            .collect()
    }

    /// How many runs exist now (all jobs).
    pub fn run_count(&self) -> usize {
        self.app.read().len()
    }

    /// The requests received so far, oldest first (faulted ones too): the latest
    /// [`LakeSailConfig::record_limit`](super::server::LakeSailConfig::record_limit).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.app.record.snapshot()
    }

    /// Forget the recorded requests.
    pub fn clear_requests(&self) {
        self.app.record.clear();
    }

    /// Process the next `times` successful requests whose path ends with `path_suffix` (at a
    /// `/` boundary, e.g. `"runs"` for a create, `"retry"`), keep their effect, and answer
    /// each with a 503 instead.
    pub fn fail_after_commit(&self, path_suffix: &str, times: u32) {
        faults::arm_for(
            &self.app.faults,
            path_suffix,
            times,
            LostResponse::Unavailable,
        );
    }

    /// Like [`fail_after_commit`](Self::fail_after_commit), but close the connection without
    /// any response (recorded with status 0).
    pub fn drop_after_commit(&self, path_suffix: &str, times: u32) {
        faults::arm_for(&self.app.faults, path_suffix, times, LostResponse::Dropped);
    }

    /// Stop serving and wait for the server task to end.
    pub async fn shutdown(self) {
        self.serving.stop().await;
    }
}
