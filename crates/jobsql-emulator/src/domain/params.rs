//! Request parsing shared by the routes: query strings (integers and booleans validated the
//! way the service does, with a 400 naming the parameter), JSON bodies, and opaque page
//! tokens. A token is hex of `(kind, cursor, fingerprint, checksum)`: the fingerprint ties it
//! to the filters it was issued for, so a token replayed with other filters, or garbage, is
//! a 400 `INVALID_PARAMETER_VALUE` rather than a silently wrong page.

use std::hash::{Hash, Hasher};

use serde_json::{Map, Value};

use crate::state::data::mix;

use super::errors::ApiError;

/// Token kinds.
pub(crate) const TOKEN_NEXT: u8 = 1;
pub(crate) const TOKEN_PREV: u8 = 2;
pub(crate) const TOKEN_GET: u8 = 3;
pub(crate) const TOKEN_JOBS: u8 = 4;
pub(crate) const TOKEN_ROOM: u8 = 5;
pub(crate) const TOKEN_COMPLIANCE: u8 = 6;

/// The API version a request was sent to (its `/api/2.x/` prefix). They differ in paging:
/// 2.2 pages the lists of a run or job (`tasks`, `job_clusters`, ...) 100 at a time with
/// `next_page_token`, 2.1 and 2.0 return them whole; 2.0's `runs/list` takes `limit` up to
/// 1000, pages by `offset` only and answers no page tokens, and its `jobs/list` lists every
/// job with its full settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Version {
    V20,
    V21,
    V22,
}

impl Version {
    /// The version of a request path (2.2 unless it starts with `/api/2.0/` or `/api/2.1/`).
    pub fn of(path: &str) -> Version {
        if path.starts_with("/api/2.0/") {
            Version::V20
        } else if path.starts_with("/api/2.1/") {
            Version::V21
        } else {
            Version::V22
        }
    }

    /// Are a run's or a job's lists paged (100 elements, `next_page_token`)?
    pub fn pages_lists(self) -> bool {
        self == Version::V22
    }
}

/// A parsed query string.
#[derive(Debug, Default)]
pub(crate) struct Query(Vec<(String, String)>);

impl Query {
    pub fn parse(raw: Option<&str>) -> Query {
        Query(
            raw.map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .into_owned()
                    .collect()
            })
            .unwrap_or_default(),
        )
    }

    /// All pairs, in order.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// An integer parameter.
    pub fn int(&self, name: &str) -> Result<Option<i64>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => v.trim().parse::<i64>().map(Some).map_err(|_| {
                ApiError::invalid(format!(
                    "Invalid value for parameter {name}: '{v}' is not a valid integer"
                ))
            }),
        }
    }

    /// A non-negative integer parameter.
    pub fn non_negative(&self, name: &str) -> Result<Option<i64>, ApiError> {
        match self.int(name)? {
            Some(v) if v < 0 => Err(ApiError::invalid(format!(
                "Invalid value for parameter {name}: {v} must not be negative"
            ))),
            v => Ok(v),
        }
    }

    /// A boolean parameter (`true` / `false`), false when absent.
    pub fn bool(&self, name: &str) -> Result<bool, ApiError> {
        match self.get(name) {
            None => Ok(false),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
            Some(v) => Err(ApiError::invalid(format!("Invalid value for parameter {name}: '{v}' is not a valid boolean (expected true or false)"))),
        }
    }

    /// A required integer.
    pub fn required_int(&self, name: &str) -> Result<i64, ApiError> {
        self.int(name)?
            .ok_or_else(|| ApiError::invalid(format!("Missing required parameter: {name}")))
    }

    /// A non-empty page token.
    pub fn token(&self) -> Option<&str> {
        self.get("page_token").filter(|t| !t.is_empty())
    }
}

/// Parse a JSON object body.
pub(crate) fn body_object(bytes: &[u8]) -> Result<Map<String, Value>, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(ApiError::malformed(
            "The request body must be a JSON object",
        )),
        Err(e) => Err(ApiError::malformed(format!(
            "Invalid JSON in the request body: {e}"
        ))),
    }
}

/// An integer field of a body (`None` when absent).
pub(crate) fn body_int(body: &Map<String, Value>, name: &str) -> Result<Option<i64>, ApiError> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(|| {
            ApiError::invalid(format!(
                "Invalid value for field {name}: expected an integer"
            ))
        }),
        Some(Value::String(s)) => s.parse().map(Some).map_err(|_| {
            ApiError::invalid(format!(
                "Invalid value for field {name}: '{s}' is not a valid integer"
            ))
        }),
        Some(_) => Err(ApiError::invalid(format!(
            "Invalid value for field {name}: expected an integer"
        ))),
    }
}

/// A boolean field of a body (false when absent).
pub(crate) fn body_bool(body: &Map<String, Value>, name: &str) -> Result<bool, ApiError> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(Value::String(s)) if s == "true" || s == "false" => Ok(s == "true"),
        Some(_) => Err(ApiError::invalid(format!(
            "Invalid value for field {name}: expected a boolean"
        ))),
    }
}

/// A stable fingerprint of anything hashable (for tying tokens to filters).
pub(crate) fn fingerprint<T: Hash>(value: &T) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    value.hash(&mut h);
    h.finish()
}

fn check(kind: u8, a: u64, b: u64) -> u32 {
    (mix(mix(kind as u64 ^ 0x7071) ^ a.rotate_left(17) ^ mix(b)) >> 16) as u32
}

/// Encode a page token.
pub(crate) fn encode_token(kind: u8, cursor: u64, fp: u64) -> String {
    format!(
        "{kind:02x}{cursor:016x}{fp:016x}{:08x}",
        check(kind, cursor, fp)
    )
}

/// Decode a token of one of `kinds` issued for fingerprint `fp`: `(kind, cursor)`.
pub(crate) fn decode_token(token: &str, kinds: &[u8], fp: u64) -> Result<(u8, u64), ApiError> {
    let bad = || ApiError::invalid(format!("Invalid page_token: '{token}'"));
    if token.len() != 42 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad());
    }
    let kind = u8::from_str_radix(&token[0..2], 16).map_err(|_| bad())?;
    let cursor = u64::from_str_radix(&token[2..18], 16).map_err(|_| bad())?;
    let tfp = u64::from_str_radix(&token[18..34], 16).map_err(|_| bad())?;
    let sum = u32::from_str_radix(&token[34..42], 16).map_err(|_| bad())?;
    if sum != check(kind, cursor, tfp) || !kinds.contains(&kind) {
        return Err(bad());
    }
    if tfp != fp {
        return Err(ApiError::invalid(
            "Invalid page_token: it was issued for a request with different parameters",
        ));
    }
    Ok((kind, cursor))
}
