//! Sending one mutating request, or recording it in a dry run. A failure is either a refusal
//! ([`SendError::Api`]: nothing was done) or an unknown outcome ([`SendError::Unknown`]: the
//! request may have been done — its answer was lost), never one mistaken for the other.

use bytes::Bytes;

use crate::client::{ApiError, ApiRequest};
use crate::provider::ApiRuntime;
use crate::spec::Resource;
use crate::workspace::WorkspaceError;

use crate::provider::dry_run::PlannedRequest;

/// Why a mutating call failed.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The workspace could not be resolved.
    #[error(transparent)]
    Workspace(#[from] WorkspaceError),
    /// The API refused the call (after any retries): nothing was done.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// The call may have been done, but its answer was lost (a 5xx, a connection closed after
    /// the request was sent, a timeout): its outcome is unknown.
    #[error("{0}")]
    Unknown(ApiError),
}

impl SendError {
    /// Whether the call may have been done although it failed.
    pub fn outcome_unknown(&self) -> bool {
        matches!(self, SendError::Unknown(_))
    }
}

/// Send `request` to `resource`'s workspace named `workspace` (or the default), returning the response
/// body; in a dry run, record it and return `None` without sending anything.
pub async fn send_mutation(
    runtime: &ApiRuntime,
    resource: &Resource,
    workspace: Option<&str>,
    request: &ApiRequest,
) -> Result<Option<Bytes>, SendError> {
    send_mutation_taking(runtime, resource, workspace, request, &[]).await
}

/// [`send_mutation`] of a request the API also deletes `with_it` with (their labels, shown by
/// a dry run under the request).
pub async fn send_mutation_taking(
    runtime: &ApiRuntime,
    resource: &Resource,
    workspace: Option<&str>,
    request: &ApiRequest,
    with_it: &[String],
) -> Result<Option<Bytes>, SendError> {
    let ws = runtime.workspaces.resolve(&resource.profile, workspace)?;
    if let Some(log) = &runtime.dry_run {
        let mut base = ws.base_url().clone();
        // Credentials never reach output, even when a host was written with userinfo.
        let _ = base.set_username("");
        let _ = base.set_password(None);
        let url = format!(
            "{}{}",
            base.as_str().trim_end_matches('/'),
            request.path_and_query()
        );
        log.record(PlannedRequest {
            workspace: ws.name.clone(),
            url,
            request: request.clone(),
            with_it: with_it.to_vec(),
        });
        return Ok(None);
    }
    match runtime.client.send_mutation(&ws, request).await {
        Ok(body) => Ok(Some(body)),
        Err(f) if f.outcome_unknown => Err(SendError::Unknown(f.error)),
        Err(f) => Err(SendError::Api(f.error)),
    }
}
