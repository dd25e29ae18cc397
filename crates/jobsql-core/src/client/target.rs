//! Where a request goes: the workspace's base URL (its base path kept) followed by the
//! request's path, refused before sending when a segment would climb out of the path (empty,
//! `.`, `..`, also percent-encoded, or a backslash) or the URL would be longer than
//! [`MAX_URL_BYTES`] (naming its longest value).

use url::Url;

use super::{ApiError, ApiRequest, MAX_URL_BYTES};
use crate::workspace::Workspace;

/// The workspace's base URL (its base path kept) followed by the request's path.
pub(super) fn request_url(ws: &Workspace, req: &ApiRequest) -> Result<Url, ApiError> {
    if !req.path.starts_with('/') {
        return Err(ApiError::InvalidRequest {
            message: "the path must start with '/'".into(),
            request: req.describe_bounded(),
        });
    }
    if let Some(bad) = req.path[1..].split('/').find(|s| is_climbing_segment(s)) {
        return Err(ApiError::InvalidRequest {
            message: format!(
                "the path segment '{bad}' would change the path (a value must be one segment)"
            ),
            request: req.describe_bounded(),
        });
    }
    check_length(ws, req)?;
    let mut url = ws.base_url().clone();
    let path = format!("{}{}", url.path().trim_end_matches('/'), req.path);
    url.set_path(&path);
    url.set_query(None);
    url.set_fragment(None);
    Ok(url)
}

/// A URL longer than [`MAX_URL_BYTES`] is refused, naming its longest value: a path segment,
/// or a query parameter.
fn check_length(ws: &Workspace, req: &ApiRequest) -> Result<(), ApiError> {
    let len = ws.base_url().as_str().len() + req.path_and_query().len();
    if len <= MAX_URL_BYTES {
        return Ok(());
    }
    let segment = req.path.split('/').map(str::len).max().unwrap_or(0);
    let param = req.query.iter().max_by_key(|(_, v)| v.len());
    let culprit = match param {
        Some((name, value)) if value.len() >= segment => {
            format!("the value of `{name}` is {} bytes", value.len())
        }
        _ => format!("a path segment is {segment} bytes (encoded)"),
    };
    Err(ApiError::InvalidRequest {
        message: format!(
            "the URL would be {len} bytes, more than the {MAX_URL_BYTES} jobsql sends: {culprit}"
        ),
        request: req.describe_bounded(),
    })
}

/// A segment that is empty or that URL parsers resolve against its parent (`.`, `..`, also
/// percent-encoded), or a backslash (a separator to them, in http URLs).
fn is_climbing_segment(segment: &str) -> bool {
    let lower = segment.to_ascii_lowercase().replace("%2e", ".");
    segment.is_empty() || lower == "." || lower == ".." || segment.contains('\\')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_empty_and_backslash_segments_are_refused() {
        let ws = Workspace::new("w", "https://h.example.com", "tok").expect("ws");
        for bad in [
            "/api/2.0/clean-rooms/../runs",
            "/api/2.0/clean-rooms/%2E%2e/runs",
            "/api/2.0/clean-rooms/.%2e/runs",
            "/api/2.0/clean-rooms/./runs",
            "/api/2.0/clean-rooms//runs",
            "/api/2.0/clean-rooms/a\\b/runs",
        ] {
            let e = request_url(&ws, &ApiRequest::get(bad, vec![])).expect_err(bad);
            assert!(e.to_string().contains("would change the path"), "{e}");
        }
        for ok in ["/api/2.0/clean-rooms/..%2Fx%3Fy%23z/runs", "/api/a.b/c..d"] {
            assert!(
                request_url(&ws, &ApiRequest::get(ok, vec![])).is_ok(),
                "{ok}"
            );
        }
    }

    #[test]
    fn urls_keep_the_base_path_and_cannot_gain_a_query() {
        let ws = Workspace::new("w", "https://h.example.com/base/", "tok").expect("ws");
        let req = ApiRequest::get("/api/2.2/jobs/runs/get", vec![]);
        assert_eq!(
            request_url(&ws, &req).expect("url").as_str(),
            "https://h.example.com/base/api/2.2/jobs/runs/get"
        );
        let sneaky = ApiRequest::get("/api/x?y=1#z", vec![]);
        let url = request_url(&ws, &sneaky).expect("url");
        assert_eq!(url.query(), None);
        assert!(url.path().ends_with("/api/x%3Fy=1%23z"), "{url}");
        assert!(request_url(&ws, &ApiRequest::get("api", vec![])).is_err());
    }
}
