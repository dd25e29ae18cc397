//! Error answers as the LakeSail API sends them: an HTTP status and `{"message": "..."}`.
//! Every handler fails with an [`ApiError`], so no route answers an error in another shape.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// One API error: a status and a message.
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    pub status: StatusCode,
    pub message: String,
    /// `Retry-After` seconds (429 only).
    pub retry_after: Option<u64>,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
            retry_after: None,
        }
    }

    /// 400: a malformed parameter or body.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// 401: no valid credentials.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, message)
    }

    /// 404: no such job or run.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    /// 404: no such endpoint.
    pub fn no_endpoint(method: &str, path: &str) -> Self {
        Self::not_found(format!("no such endpoint: {method} {path}"))
    }

    /// 405: the path exists, the method does not.
    pub fn method_not_allowed(method: &str, path: &str) -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("method {method} is not allowed on {path}"),
        )
    }

    /// 409: the run is in the wrong status.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, message)
    }

    /// 429 with `Retry-After`.
    pub fn rate_limited(retry_after: u64) -> Self {
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too many requests, try again later",
        );
        e.retry_after = Some(retry_after);
        e
    }

    /// 503.
    pub fn unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "the service is temporarily unavailable, try again later",
        )
    }
}

impl From<axum::extract::rejection::PathRejection> for ApiError {
    /// A path whose ids cannot be read (not UTF-8 once decoded): a 400.
    fn from(e: axum::extract::rejection::PathRejection) -> Self {
        Self::bad_request(format!("invalid path: {}", e.body_text()))
    }
}

impl From<axum::extract::rejection::BytesRejection> for ApiError {
    /// A body that cannot be read (too large, cut short): a 400.
    fn from(e: axum::extract::rejection::BytesRejection) -> Self {
        Self::bad_request(format!(
            "the request body cannot be read: {}",
            e.body_text()
        ))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "message": self.message });
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}
