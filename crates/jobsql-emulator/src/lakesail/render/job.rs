//! A job as `GET /workloads/jobs` lists it: `id`, `jobKey`, `version`, `status` (`active` or
//! `paused`), `description`, `createdAt` (RFC 3339 UTC).

use serde_json::{json, Value};

use super::time::rfc3339;
use crate::lakesail::state::model::Job;

/// `job` as JSON.
pub(crate) fn render(job: &Job) -> Value {
    json!({
        "id": job.id,
        "jobKey": job.key,
        "version": job.version,
        "status": job.status,
        "description": job.description,
        "createdAt": rfc3339(job.created_ms),
    })
}
