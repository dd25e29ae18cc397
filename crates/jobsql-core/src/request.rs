//! One request path, shared by SELECT, DELETE, INSERT and EXEC: a spec method and values become
//! an [`ApiRequest`].
//!
//! - [`build_call`] places each value where the method's spec says (path segment, query string
//!   or JSON body), percent-encoding path segments ([`encode_segment`]) so that a value from SQL
//!   cannot add `/`, `?` or `#` to the path; the verb is the spec's. Reads and writes alike.
//! - [`page_request`] is a listing's page: the same placement, then the method's page size and
//!   where the page is — a token, marker, offset or page number, or a URL the API named
//!   ([`paging`]: each pagination style and its stop rule; [`pages`] bounds how many pages a
//!   listing follows).
//! - [`is_not_found`] applies the method's `not_found` rules to an API error.
//! - [`args`] types values from SQL (EXEC parameters, INSERT cells, DELETE keys) as the API
//!   expects them.
//!
//! This layer sits on [`crate::client`] (which sends what it builds) and [`crate::spec`]; the
//! provider and the statements above use it.

pub mod args;
pub mod pages;
pub mod paging;

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::client::{ApiError, ApiRequest};
use crate::spec::{HttpVerb, MethodSpec, ParamLocation};

pub use pages::{PageBudget, PageLimitError, PageTokens};
pub use paging::{Cursor, PageMarks};

/// Where values the method does not list go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unlisted {
    /// Into the JSON body, as given (EXEC's `@@json`, INSERT columns the spec does not know).
    Body,
    /// Nowhere: a listing's template also holds the server variable and the parameter columns
    /// of other methods.
    Dropped,
}

/// The HTTP method of a spec verb.
pub fn http_method(verb: HttpVerb) -> reqwest::Method {
    match verb {
        HttpVerb::GET => reqwest::Method::GET,
        HttpVerb::POST => reqwest::Method::POST,
        HttpVerb::PUT => reqwest::Method::PUT,
        HttpVerb::PATCH => reqwest::Method::PATCH,
        HttpVerb::DELETE => reqwest::Method::DELETE,
    }
}

/// The request calling `method` with typed `values` (parameter name → value; a name the spec
/// does not list goes where `unlisted` says); `retry_safe` when the method is idempotent or
/// carries its idempotency token. A GET has no body (the spec check refuses `in: body` on a
/// GET), nor does a DELETE with no body parameter (a body has no meaning on a DELETE); every
/// other verb sends one, `{}` when empty.
pub fn build_call(
    method: &MethodSpec,
    values: &BTreeMap<String, Value>,
    unlisted: Unlisted,
) -> ApiRequest {
    let mut path = method.path.clone();
    let mut query = Vec::new();
    let mut body = Map::new();
    let verb = http_method(method.verb);
    let sends_body = method.verb != HttpVerb::GET;
    for (name, value) in values {
        let Some(param) = method.params.get(name) else {
            if sends_body && unlisted == Unlisted::Body {
                body.insert(name.clone(), value.clone());
            }
            continue;
        };
        match param.location {
            ParamLocation::Path => {
                path = path.replace(&format!("{{{name}}}"), &encode_segment(&text(value)))
            }
            ParamLocation::Query => query.push((name.clone(), text(value))),
            ParamLocation::Body => {
                body.insert(name.clone(), value.clone());
            }
        }
    }
    let has_token = method
        .idempotency_token
        .as_ref()
        .is_some_and(|t| values.contains_key(t));
    ApiRequest {
        method: verb,
        path,
        query,
        body: (sends_body && !(method.verb == HttpVerb::DELETE && body.is_empty()))
            .then_some(Value::Object(body)),
        retry_safe: method.idempotent || has_token,
    }
}

/// One page of a listing: `params` (as text, the way pushdown renders them) placed by
/// [`build_call`], then the page size ([`page_size`]) and where the page is: the paging
/// parameter's value (the `cursor`'s, or the style's first: an offset of 0, the first page
/// number), or the URL the previous page named (its path and query replace the template's;
/// the page size is set in it).
pub fn page_request(
    method: &MethodSpec,
    params: &BTreeMap<String, String>,
    cursor: Option<&Cursor>,
    remaining: Option<usize>,
) -> ApiRequest {
    let values: BTreeMap<String, Value> = params
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    let mut request = build_call(method, &values, Unlisted::Dropped);
    let Some(pagination) = &method.pagination else {
        return request;
    };
    if let Some(Cursor::Url { path, query }) = cursor {
        request.path = path.clone();
        request.query = query.clone();
    }
    if let (Some(size), Some(n)) = (&pagination.page_size, page_size(method, remaining)) {
        match request.query.iter_mut().find(|(k, _)| *k == size.param) {
            Some(pair) => pair.1 = n.to_string(),
            None => request.query.push((size.param.clone(), n.to_string())),
        }
    }
    let value = match cursor {
        Some(Cursor::Param(v)) => Some(v.clone()),
        Some(Cursor::Url { .. }) => None,
        None => paging::first_param(pagination),
    };
    if let (Some(param), Some(value)) = (&pagination.param, value) {
        request.query.push((param.clone(), value));
    }
    request
}

/// The page size a page asks for: the spec's `max`, fewer when only `remaining` rows are
/// still wanted — except with page numbers, whose pages must all be the same size (page 3
/// of 10 is not objects 21 to 30 of 25), which always ask the `max`. `None` without a
/// page-size parameter.
pub fn page_size(method: &MethodSpec, remaining: Option<usize>) -> Option<usize> {
    let pagination = method.pagination.as_ref()?;
    let max = pagination.page_size.as_ref()?.max as usize;
    if pagination.style == crate::spec::PaginationStyle::Page {
        return Some(max);
    }
    Some(remaining.map_or(max, |r| r.clamp(1, max)))
}

/// Whether `error` is the method's way of saying the object does not exist (its `not_found`
/// rules: status, and optionally error code and message text).
pub fn is_not_found(method: &MethodSpec, error: &ApiError) -> bool {
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

/// Percent-encode a path segment: a value from SQL cannot add `/`, `?` or `#` to the path.
pub fn encode_segment(value: &str) -> String {
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

/// A value as it goes into a path or query string.
fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
