//! One request template → a stream of batches, one per page.
//!
//! Pagination follows the method's `pagination:` spec: the next-page token goes back as the token
//! parameter until the response has none (nothing is dropped: there is no page cap). With a
//! LIMIT, each page asks only for the rows still needed (`limit = min(max, remaining)`) and the
//! stream stops once they are there. Single-object methods with `merge_arrays` (runs/get pages
//! `tasks` 100 at a time) are fetched whole and merged into one row. An API error the spec marks
//! as not-found (a run that does not exist) on the *first* page of a request is zero rows; on a
//! later page it is an error (rows would otherwise be lost silently). A next-page token that
//! repeats one already followed is an error too, rather than an endless loop. Listed objects the
//! method's `complete:` rules name are fetched whole (`fetch/complete.rs`); long listings are
//! cut into concurrent slices ([`Slicing`]).

#[path = "fetch/complete.rs"]
mod complete;
#[path = "fetch/slices.rs"]
mod slices;

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use datafusion::arrow::record_batch::RecordBatch;
use futures::Stream;
use serde_json::value::RawValue;
use serde_json::Value;

use crate::client::{ApiError, ApiRequest};
use crate::spec::{MethodSpec, ParamLocation, Resource};
use crate::workspace::Workspace;

use super::decode::PageDecoder;
use super::pushdown::RequestTemplate;
use super::{ApiRuntime, ProviderError};

pub use complete::Completion;
pub use slices::{scan_stream, Slicing};

/// What every template of one scan shares.
#[derive(Debug)]
pub struct Fetch {
    /// The resource.
    pub resource: Arc<Resource>,
    /// Client and workspaces.
    pub runtime: Arc<ApiRuntime>,
    /// The chosen method.
    pub method: MethodSpec,
    /// Pages → batches.
    pub decoder: PageDecoder,
    /// Rows wanted, when the query has a LIMIT that could be pushed.
    pub limit: Option<usize>,
    /// When the method returns incomplete objects and a column they lack is read: the rules
    /// and the method that fetches an object whole.
    pub complete: Option<Completion>,
}

struct State {
    fetch: Arc<Fetch>,
    template: RequestTemplate,
    workspace: Option<Workspace>,
    token: Option<String>,
    remaining: Option<usize>,
    done: bool,
    seen: PageTokens,
}

/// The pages of one template, as batches.
pub fn template_stream(
    fetch: Arc<Fetch>,
    template: RequestTemplate,
) -> impl Stream<Item = Result<RecordBatch, ProviderError>> + Send {
    pages_from(fetch, template, None, None)
}

/// The pages of one template from `token` on (the first page when `None`), in `workspace`
/// (resolved from the template when `None`).
fn pages_from(
    fetch: Arc<Fetch>,
    template: RequestTemplate,
    workspace: Option<Workspace>,
    token: Option<String>,
) -> impl Stream<Item = Result<RecordBatch, ProviderError>> + Send {
    let mut seen = PageTokens::default();
    if let Some(t) = &token {
        seen.0.insert(t.clone());
    }
    let state = State {
        remaining: fetch.limit,
        fetch,
        template,
        workspace,
        token,
        done: false,
        seen,
    };
    futures::stream::try_unfold(state, |mut s| async move {
        if s.done || s.remaining == Some(0) {
            return Ok(None);
        }
        let fetch = s.fetch.clone();
        let workspace = match &s.workspace {
            Some(w) => w.clone(),
            None => {
                let w = resolve_workspace(&fetch, &mut s.template)?;
                s.workspace = Some(w.clone());
                w
            }
        };
        let merging = fetch
            .method
            .pagination
            .as_ref()
            .is_some_and(|p| !p.merge_arrays.is_empty());
        if merging {
            s.done = true;
            let Some(object) =
                fetch_whole(&fetch, &fetch.method, &workspace, &s.template.params).await?
            else {
                return Ok(None);
            };
            let batch = fetch
                .decoder
                .decode_objects(&[object.as_ref()], &s.template.params)?;
            return Ok(Some((batch, s)));
        }
        let request = build_request(
            &fetch.method,
            &s.template.sent_params(),
            s.token.as_deref(),
            s.remaining,
        );
        let first_page = s.token.is_none();
        let body = match send(&fetch, &fetch.method, &workspace, &request, first_page).await? {
            Some(body) => body,
            None => return Ok(None),
        };
        let page =
            complete::decode_completing(&fetch, &workspace, &body, &s.template.params).await?;
        if let Some(r) = s.remaining.as_mut() {
            *r = r.saturating_sub(page.batch.num_rows());
        }
        if let Some(p) = &fetch.runtime.progress {
            p.page(page.batch.num_rows());
        }
        if let Some(next) = &page.next_token {
            s.seen.follow(&fetch, &fetch.method, next)?;
        }
        s.done = page.next_token.is_none();
        s.token = page.next_token;
        Ok(Some((page.batch, s)))
    })
}

/// The workspace of `template`; its parameter column is set to the workspace actually used.
fn resolve_workspace(
    fetch: &Fetch,
    template: &mut RequestTemplate,
) -> Result<Workspace, ProviderError> {
    let variable = &fetch.resource.server.variable;
    let w = fetch
        .runtime
        .workspaces
        .resolve(template.params.get(variable).map(String::as_str))?;
    template.params.insert(variable.clone(), w.name.clone());
    Ok(w)
}

/// The next-page tokens a request has followed: one coming back means the API would page
/// forever.
#[derive(Debug, Default)]
struct PageTokens(HashSet<String>);

impl PageTokens {
    fn follow(
        &mut self,
        fetch: &Fetch,
        method: &MethodSpec,
        token: &str,
    ) -> Result<(), ProviderError> {
        if self.0.insert(token.to_string()) {
            return Ok(());
        }
        let key = method
            .pagination
            .as_ref()
            .map_or("next-page token", |p| p.next_token.as_str());
        Err(ProviderError::InvalidResponse {
            table: fetch.resource.qualified_name(),
            message: format!(
                "page {} returned a `{key}` already followed: the pages would repeat forever, \
                 so the query stops here",
                self.0.len() + 1
            ),
        })
    }
}

/// Send one request; `None` when the API says the object does not exist, which only the first
/// page of a request can say (later, the object existed a moment ago: rows would be lost).
async fn send(
    fetch: &Fetch,
    method: &MethodSpec,
    workspace: &Workspace,
    request: &ApiRequest,
    first_page: bool,
) -> Result<Option<bytes::Bytes>, ProviderError> {
    match fetch.runtime.client.send(workspace, request).await {
        Ok(body) => Ok(Some(body)),
        Err(e) if first_page && is_not_found(method, &e) => Ok(None),
        // --keep-going: a workspace that fails is skipped with a warning.
        Err(source)
            if fetch.runtime.skip_failed_workspace(
                &fetch.resource.qualified_name(),
                workspace,
                &source,
            ) =>
        {
            Ok(None)
        }
        Err(source) => Err(ProviderError::Api {
            table: fetch.resource.qualified_name(),
            source: Box::new(source),
        }),
    }
}

pub(crate) fn is_not_found(method: &MethodSpec, error: &ApiError) -> bool {
    method.response.not_found.iter().any(|nf| {
        error.status() == Some(nf.status)
            && nf
                .error_code
                .as_deref()
                .is_none_or(|c| error.error_code() == Some(c))
            && nf
                .message_contains
                .as_deref()
                .is_none_or(|m| error.message().contains(m))
    })
}

/// Fetch every page of a single object with `method` and append the paged arrays into the
/// first page's object; `None` when the API says it does not exist.
async fn fetch_whole(
    fetch: &Fetch,
    method: &MethodSpec,
    workspace: &Workspace,
    params: &BTreeMap<String, String>,
) -> Result<Option<Box<RawValue>>, ProviderError> {
    let invalid = |message: String| ProviderError::InvalidResponse {
        table: fetch.resource.qualified_name(),
        message,
    };
    let mut merged: Option<serde_json::Map<String, Value>> = None;
    let mut token: Option<String> = None;
    let mut seen = PageTokens::default();
    loop {
        let request = build_request(method, params, token.as_deref(), None);
        let Some(body) = send(fetch, method, workspace, &request, token.is_none()).await? else {
            return Ok(None);
        };
        let page: serde_json::Map<String, Value> = serde_json::from_slice(&body)
            .map_err(|e| invalid(format!("not a JSON object: {e}")))?;
        let Some(pagination) = method.pagination.as_ref() else {
            merged = Some(page);
            break;
        };
        token = page
            .get(&pagination.next_token)
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .map(str::to_string);
        if let Some(next) = &token {
            seen.follow(fetch, method, next)?;
        }
        match merged.as_mut() {
            None => merged = Some(page),
            Some(first) => {
                for field in &pagination.merge_arrays {
                    if let Some(Value::Array(more)) = page.get(field) {
                        match first.get_mut(field) {
                            Some(Value::Array(items)) => items.extend(more.iter().cloned()),
                            _ => {
                                first.insert(field.clone(), Value::Array(more.clone()));
                            }
                        }
                    }
                }
            }
        }
        if token.is_none() {
            break;
        }
    }
    let mut object = merged.unwrap_or_default();
    if let Some(pagination) = &method.pagination {
        object.remove(&pagination.next_token);
    }
    // Whole now: a listing's "more not shown" flag no longer holds.
    if let Some(flag) = object.get_mut("has_more") {
        *flag = Value::Bool(false);
    }
    RawValue::from_string(Value::Object(object).to_string())
        .map(Some)
        .map_err(|e| invalid(e.to_string()))
}

/// The HTTP request for a template's page.
pub fn build_request(
    method: &MethodSpec,
    params: &BTreeMap<String, String>,
    token: Option<&str>,
    remaining: Option<usize>,
) -> ApiRequest {
    let mut path = method.path.clone();
    let mut query = Vec::new();
    let mut body = serde_json::Map::new();
    for (name, value) in params {
        let Some(param) = method.params.get(name) else {
            continue; // the server variable, or a parameter of another method
        };
        match param.location {
            ParamLocation::Query => query.push((name.clone(), value.clone())),
            ParamLocation::Path => {
                path = path.replace(&format!("{{{name}}}"), &encode_segment(value))
            }
            ParamLocation::Body => {
                body.insert(name.clone(), Value::String(value.clone()));
            }
        }
    }
    if let Some(pagination) = &method.pagination {
        if let Some(size) = &pagination.page_size {
            let max = size.max as usize;
            let n = remaining.map_or(max, |r| r.clamp(1, max));
            query.push((size.param.clone(), n.to_string()));
        }
        if let Some(token) = token {
            query.push((pagination.token_param.clone(), token.to_string()));
        }
    }
    ApiRequest {
        method: reqwest::Method::from_bytes(method.verb.as_str().as_bytes())
            .unwrap_or(reqwest::Method::GET),
        path,
        query,
        body: (!body.is_empty()).then_some(Value::Object(body)),
        retry_safe: false,
    }
}

/// A template's first request as text (for EXPLAIN).
pub fn describe_template(fetch: &Fetch, template: &RequestTemplate) -> String {
    let request = build_request(&fetch.method, &template.params, None, fetch.limit);
    match template.params.get(&fetch.resource.server.variable) {
        Some(ws) => format!("{} @ {ws}", request.describe()),
        None => request.describe(),
    }
}

/// Percent-encode a path segment: a value from SQL cannot add `/`, `?` or `#` to the path.
pub(crate) fn encode_segment(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
