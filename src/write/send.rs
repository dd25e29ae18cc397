//! Sending one mutating request, or recording it in a dry run.

use bytes::Bytes;

use crate::client::{ApiError, ApiRequest};
use crate::provider::ApiRuntime;
use crate::workspace::WorkspaceError;

use super::dry_run::PlannedRequest;

/// Why a mutating call failed.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The workspace could not be resolved.
    #[error(transparent)]
    Workspace(#[from] WorkspaceError),
    /// The API refused the call (after any retries).
    #[error(transparent)]
    Api(#[from] ApiError),
}

/// Send `request` to the workspace named `workspace` (or the default), returning the response
/// body; in a dry run, record it and return `None` without sending anything.
pub async fn send_mutation(
    runtime: &ApiRuntime,
    workspace: Option<&str>,
    request: &ApiRequest,
) -> Result<Option<Bytes>, SendError> {
    let ws = runtime.workspaces.resolve(workspace)?;
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
        });
        return Ok(None);
    }
    Ok(Some(runtime.client.send(&ws, request).await?))
}
