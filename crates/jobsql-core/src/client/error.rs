//! What can go wrong with an API call, worded for the user: the workspace, method and path are
//! always named, the API's `error_code` and `message` are kept, and the token never appears.

use crate::spec::ErrorSpec;

/// How much of a non-JSON error body is quoted.
const QUOTE_CHARS: usize = 200;

/// The HTTP client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// reqwest refused the configuration (e.g. no TLS backend).
    #[error("cannot build the HTTP client: {0}")]
    Build(#[from] reqwest::Error),
}

/// An API call that failed (after any retries).
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The API answered with a non-success status.
    #[error("{method} {path} on workspace '{workspace}' failed: HTTP {status}{}: {message}{}", code_suffix(error_code), attempts_suffix(*attempts))]
    Http {
        /// The HTTP status.
        status: u16,
        /// The API's `error_code` (e.g. `INVALID_PARAMETER_VALUE`), when the body had one.
        error_code: Option<String>,
        /// The API's `message`, or a quote of a body that was not the API's JSON.
        message: String,
        /// The HTTP method.
        method: String,
        /// The path and query.
        path: String,
        /// The workspace name.
        workspace: String,
        /// How many attempts were made.
        attempts: u32,
    },
    /// The request did not get a response (connection refused, DNS, TLS, timeout, ...).
    #[error("{method} {path} on workspace '{workspace}' failed: {message}{}", attempts_suffix(*attempts))]
    Transport {
        /// What went wrong, with its causes.
        message: String,
        /// The HTTP method.
        method: String,
        /// The path and query.
        path: String,
        /// The workspace name.
        workspace: String,
        /// How many attempts were made.
        attempts: u32,
    },
    /// A success status whose body is not JSON (e.g. a proxy's login page).
    #[error(
        "{method} {path} on workspace '{workspace}': invalid response (HTTP {status}): {message}"
    )]
    InvalidResponse {
        /// The HTTP status.
        status: u16,
        /// What is wrong.
        message: String,
        /// The HTTP method.
        method: String,
        /// The path and query.
        path: String,
        /// The workspace name.
        workspace: String,
    },
    /// The request was still unanswered at its deadline (`--timeout`).
    #[error("{method} {path} on workspace '{workspace}' stopped: not done within --timeout {limit} s{}", attempts_suffix(*attempts))]
    Deadline {
        /// The limit, in seconds as given.
        limit: String,
        /// The HTTP method.
        method: String,
        /// The path and query.
        path: String,
        /// The workspace name.
        workspace: String,
        /// How many attempts were made.
        attempts: u32,
    },
    /// No credentials could be had for the workspace: a token endpoint or command failed, or
    /// the token endpoint is not one the secret may be sent to.
    #[error("sign-in to workspace '{workspace}' ({method}) failed: {message}")]
    SignIn {
        /// The workspace name.
        workspace: String,
        /// The sign-in method (`oauth-m2m`).
        method: String,
        /// What went wrong (never a secret).
        message: String,
    },
    /// The request cannot be sent as built (e.g. a path that does not start with `/`).
    #[error("invalid request {request}: {message}")]
    InvalidRequest {
        /// What is wrong.
        message: String,
        /// The request, described.
        request: String,
    },
}

fn code_suffix(code: &Option<String>) -> String {
    code.as_deref().map(|c| format!(" {c}")).unwrap_or_default()
}

fn attempts_suffix(attempts: u32) -> String {
    if attempts > 1 {
        format!(" (after {attempts} attempts)")
    } else {
        String::new()
    }
}

impl ApiError {
    /// The HTTP status, for errors that have one.
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Http { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The API's `error_code`, when it sent one.
    pub fn error_code(&self) -> Option<&str> {
        match self {
            ApiError::Http { error_code, .. } => error_code.as_deref(),
            _ => None,
        }
    }

    /// How many attempts were made (1 for errors raised before sending).
    pub fn attempts(&self) -> u32 {
        match self {
            ApiError::Http { attempts, .. }
            | ApiError::Transport { attempts, .. }
            | ApiError::Deadline { attempts, .. } => *attempts,
            _ => 1,
        }
    }

    /// Whether the failure is the workspace's rather than the request's: it could not be
    /// reached or did not answer in time, refused the credentials (401, 403), failed (5xx),
    /// kept throttling (429), or answered with something that is not the API (a proxy's page,
    /// a redirect). A 400 or 404 is the query's: every workspace would say the same.
    pub fn is_workspace_failure(&self) -> bool {
        match self {
            ApiError::Transport { .. }
            | ApiError::InvalidResponse { .. }
            | ApiError::SignIn { .. } => true,
            ApiError::Http { status, .. } => matches!(status, 300..=399 | 401 | 403 | 429 | 500..),
            ApiError::InvalidRequest { .. } | ApiError::Deadline { .. } => false,
        }
    }

    /// The message alone (the API's `message` for HTTP errors).
    pub fn message(&self) -> &str {
        match self {
            ApiError::Http { message, .. }
            | ApiError::Transport { message, .. }
            | ApiError::InvalidResponse { message, .. }
            | ApiError::InvalidRequest { message, .. }
            | ApiError::SignIn { message, .. } => message,
            ApiError::Deadline { .. } => "not done within --timeout",
        }
    }
}

/// The code and message of an error body: at the paths of the provider's `errors:` profile
/// (Databricks: `{"error_code": "...", "message": "..."}`), else at `message`, `error` (a
/// string) or `error.message`; else a quote of the body's start.
pub fn parse_error_body(
    body: &[u8],
    status: u16,
    location: Option<&str>,
    errors: &ErrorSpec,
) -> (Option<String>, String) {
    if let Ok(top @ serde_json::Value::Object(_)) =
        serde_json::from_slice::<serde_json::Value>(body)
    {
        let text = |path: &str| match path.split('.').try_fold(&top, |v, k| v.get(k)) {
            Some(serde_json::Value::String(s)) => Some(s.clone()),
            Some(n @ serde_json::Value::Number(_)) => Some(n.to_string()),
            _ => None,
        };
        let code = errors.code.as_deref().and_then(text);
        let message = [errors.message.as_str(), "message", "error", "error.message"]
            .into_iter()
            .find_map(text);
        if let Some(message) = message {
            return (code, message);
        }
        if code.is_some() {
            return (code, "(no message)".to_string());
        }
    }
    if let Some(location) = location {
        return (
            None,
            format!("redirected to {location}; check the workspace host"),
        );
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return (None, format!("empty response body (status {status})"));
    }
    (
        None,
        format!("the response is not the API's JSON error: {}", quote(body)),
    )
}

/// The start of a body, whitespace collapsed, in quotes. Secrets are masked before the cut
/// (so none is cut into an unrecognisable piece) and after it.
pub fn quote(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let collapsed: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let collapsed = crate::redact::redact(&collapsed).into_owned();
    let mut quote: String = collapsed.chars().take(QUOTE_CHARS).collect();
    if quote.len() < collapsed.len() {
        quote.push_str("...");
    }
    format!("\"{}\"", crate::redact::outgoing(&quote))
}

/// An error and its causes, as one line.
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn databricks() -> ErrorSpec {
        ErrorSpec {
            code: Some("error_code".into()),
            message: "message".into(),
        }
    }

    #[test]
    fn codes_and_messages_at_the_profile_paths() {
        let nested = ErrorSpec {
            code: Some("error.code".into()),
            message: "error.message".into(),
        };
        let body = br#"{"error":{"code":"NOT_FOUND","message":"no such run"}}"#;
        let (code, msg) = parse_error_body(body, 404, None, &nested);
        assert_eq!(
            (code.as_deref(), msg.as_str()),
            (Some("NOT_FOUND"), "no such run")
        );
        // A numeric code is kept as text; a bare message is found without a code path.
        let (code, msg) = parse_error_body(
            br#"{"error_code":403,"message":"no"}"#,
            403,
            None,
            &databricks(),
        );
        assert_eq!((code.as_deref(), msg.as_str()), (Some("403"), "no"));
        let (code, msg) = parse_error_body(
            br#"{"message":"conflict"}"#,
            409,
            None,
            &ErrorSpec::default(),
        );
        assert_eq!((code, msg.as_str()), (None, "conflict"));
        // A profile path that misses falls back to the common places.
        let (_, msg) = parse_error_body(br#"{"error":"bad token"}"#, 401, None, &nested);
        assert_eq!(msg, "bad token");
    }

    #[test]
    fn json_html_and_empty_bodies() {
        let (code, msg) = parse_error_body(
            br#"{"error_code":"RESOURCE_DOES_NOT_EXIST","message":"Run 1 does not exist."}"#,
            400,
            None,
            &databricks(),
        );
        assert_eq!(code.as_deref(), Some("RESOURCE_DOES_NOT_EXIST"));
        assert_eq!(msg, "Run 1 does not exist.");
        let html = format!("<html>\n<body>{}</body></html>", "x".repeat(500));
        let (code, msg) = parse_error_body(html.as_bytes(), 502, None, &databricks());
        assert!(code.is_none());
        assert!(
            msg.contains("<html> <body>xxx") && msg.ends_with("...\""),
            "{msg}"
        );
        assert!(msg.len() < 300);
        assert!(parse_error_body(b"", 503, None, &databricks())
            .1
            .contains("empty"));
        assert!(
            parse_error_body(b"", 302, Some("https://login"), &databricks())
                .1
                .contains("https://login")
        );
    }

    #[test]
    fn redaction() {
        // Every workspace's token is registered when the workspace is made.
        crate::redact::register("dapiSECRET");
        assert_eq!(crate::redact::outgoing("a dapiSECRET b"), "a *** b");
    }
}
