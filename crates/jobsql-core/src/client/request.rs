//! One API call as data: method, path, query and JSON body — built by the provider, sent by
//! [`ApiClient`](super::ApiClient), shown by `EXPLAIN`.

use reqwest::Method;
use url::form_urlencoded;

/// How much of a path, query or body an error line quotes: a request built from a huge value
/// still gives a short message.
pub const ERROR_QUOTE_BYTES: usize = 300;

/// An API request, independent of the workspace it is sent to.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiRequest {
    /// The HTTP method.
    pub method: Method,
    /// The path, already percent-encoded, starting with `/` (e.g. `/api/2.2/jobs/runs/list`).
    pub path: String,
    /// Query parameters, in order; values are encoded when sent.
    pub query: Vec<(String, String)>,
    /// The JSON body, if any.
    pub body: Option<serde_json::Value>,
    /// Whether repeating this request cannot do its work twice even though its method has side
    /// effects (a submit carrying an idempotency token, a cancel): then it is retried after
    /// transport errors like a GET.
    pub retry_safe: bool,
}

impl ApiRequest {
    /// A GET of `path` with query parameters.
    pub fn get(path: impl Into<String>, query: Vec<(String, String)>) -> Self {
        ApiRequest {
            method: Method::GET,
            path: path.into(),
            query,
            body: None,
            retry_safe: false,
        }
    }

    /// A POST of a JSON body to `path`.
    pub fn post(path: impl Into<String>, body: serde_json::Value) -> Self {
        ApiRequest {
            method: Method::POST,
            path: path.into(),
            query: Vec::new(),
            body: Some(body),
            retry_safe: false,
        }
    }

    /// The path with its encoded query string, e.g. `/api/2.2/jobs/runs/list?limit=25&job_id=3`.
    pub fn path_and_query(&self) -> String {
        if self.query.is_empty() {
            return self.path.clone();
        }
        let query = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(self.query.iter())
            .finish();
        format!("{}?{query}", self.path)
    }

    /// One line for EXPLAIN and errors: `GET /api/2.2/jobs/runs/list?limit=25&job_id=3`, with
    /// the JSON body appended for requests that have one.
    pub fn describe(&self) -> String {
        match &self.body {
            Some(body) => format!("{} {} {body}", self.method, self.path_and_query()),
            None => format!("{} {}", self.method, self.path_and_query()),
        }
    }

    /// [`path_and_query`](Self::path_and_query) for an error line: at most
    /// [`ERROR_QUOTE_BYTES`] bytes, cut with `...`.
    pub fn path_for_errors(&self) -> String {
        bounded(self.path_and_query())
    }

    /// [`describe`](Self::describe) for an error line, bounded the same way.
    pub fn describe_bounded(&self) -> String {
        bounded(self.describe())
    }

    /// Whether a failed attempt may be repeated after a transport error (the request may have
    /// reached the server): only for methods without side effects, or marked `retry_safe`.
    pub fn is_idempotent(&self) -> bool {
        self.retry_safe || matches!(self.method, Method::GET | Method::HEAD | Method::OPTIONS)
    }
}

/// `text` cut to at most [`ERROR_QUOTE_BYTES`] bytes (at a character boundary), marked `...`.
fn bounded(mut text: String) -> String {
    if text.len() <= ERROR_QUOTE_BYTES {
        return text;
    }
    let mut end = ERROR_QUOTE_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    text.push_str("...");
    text
}
