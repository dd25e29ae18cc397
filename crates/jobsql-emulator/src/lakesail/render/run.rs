//! A JobRun as JSON: `id`, `jobId`, `jobKey`, `version`, `status`, `statusMessage`, `trigger`,
//! `parameters`, `createdAt`, `startedAt`, `finishedAt` (RFC 3339 UTC, null until set),
//! `createdBy`, `attempt`; the status and times as they are at `now`.

use serde_json::{json, Value};

use super::time::rfc3339;
use crate::lakesail::domain::lifecycle::{message, view};
use crate::lakesail::state::model::Run;

/// `run` at `now_ms`.
pub(crate) fn render(run: &Run, now_ms: i64, phase_ms: i64) -> Value {
    let v = view(run, now_ms, phase_ms);
    json!({
        "id": run.id,
        "jobId": run.job_id,
        "jobKey": run.job_key,
        "version": run.version,
        "status": v.status.as_str(),
        "statusMessage": message(v.status),
        "trigger": run.trigger.as_str(),
        "parameters": run.parameters,
        "createdAt": rfc3339(run.created_ms),
        "startedAt": v.started_ms.map(rfc3339),
        "finishedAt": v.finished_ms.map(rfc3339),
        "createdBy": run.created_by,
        "attempt": run.attempt,
    })
}
