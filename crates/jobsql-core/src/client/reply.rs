//! A 2xx answer: its body, and what a listing needs of its headers (the `Link` header, for
//! APIs that name the next page there, RFC 8288).

use bytes::Bytes;
use reqwest::header::{HeaderMap, LINK};

/// The body of a 2xx response and its `Link` header.
#[derive(Debug, Clone, Default)]
pub struct Reply {
    /// The body (checked to be JSON).
    pub body: Bytes,
    /// Every `Link` header's value, joined with `, ` (one list, as RFC 9110 allows).
    pub link: Option<String>,
}

/// The `Link` headers of a response as one value.
pub(super) fn links(headers: &HeaderMap) -> Option<String> {
    let values: Vec<&str> = headers
        .get_all(LINK)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    (!values.is_empty()).then(|| values.join(", "))
}
