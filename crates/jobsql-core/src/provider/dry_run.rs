//! `--dry-run`: mutating requests are recorded, with the workspace URL they would go to, and
//! never sent. Reads still run, so a dry-run DELETE lists exactly the runs it would delete —
//! and, for a delete the API cascades (a job), the rows it would take with it.

use std::sync::{Arc, Mutex};

use crate::client::ApiRequest;

/// One request a dry run did not send.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedRequest {
    /// The workspace's name.
    pub workspace: String,
    /// The full URL (base URL, path and query), without credentials.
    pub url: String,
    /// The request.
    pub request: ApiRequest,
    /// What the API deletes with it besides its own object (a job's runs: the spec's
    /// `delete.cascade`), one label each (`databricks_workspace.jobs.job_runs run_id 5`).
    pub with_it: Vec<String>,
}

impl std::fmt::Display for PlannedRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.request.method, self.url)?;
        if let Some(body) = &self.request.body {
            write!(f, " {body}")?;
        }
        write!(
            f,
            "  (workspace '{}', Authorization: Bearer ****)",
            self.workspace
        )
    }
}

/// The requests a dry run would have sent, in order. Cloning shares the log.
#[derive(Debug, Clone, Default)]
pub struct DryRunLog {
    planned: Arc<Mutex<Vec<PlannedRequest>>>,
}

impl DryRunLog {
    /// Record one request.
    pub fn record(&self, planned: PlannedRequest) {
        if let Ok(mut log) = self.planned.lock() {
            log.push(planned);
        }
    }

    /// Take the requests recorded so far.
    pub fn take(&self) -> Vec<PlannedRequest> {
        self.planned
            .lock()
            .map(|mut log| std::mem::take(&mut *log))
            .unwrap_or_default()
    }
}
