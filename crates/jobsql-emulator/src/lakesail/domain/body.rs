//! Request bodies: create takes `{"parameters": {...}}`, retry `{"hold": bool}`, ready
//! nothing (or `{}`); each body is optional. A body that is not JSON, not an object, has a
//! field of the wrong type or a field the endpoint does not take is a 400 naming it.

use serde_json::{Map, Value};

use super::errors::ApiError;

/// The fields of the JSON object `bytes` (none for an empty body), each one of `allowed`.
fn object(bytes: &[u8], allowed: &[&str]) -> Result<Map<String, Value>, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| ApiError::bad_request(format!("the request body is not valid JSON: {e}")))?;
    let Value::Object(map) = value else {
        return Err(ApiError::bad_request(
            "the request body must be a JSON object",
        ));
    };
    if let Some(k) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
        let takes = if allowed.is_empty() {
            "no fields".to_string()
        } else {
            allowed.join(", ")
        };
        return Err(ApiError::bad_request(format!(
            "unknown field '{k}' in the request body (it takes {takes})"
        )));
    }
    Ok(map)
}

/// The `parameters` of a create body (empty when absent or null).
pub(crate) fn create(bytes: &[u8]) -> Result<Map<String, Value>, ApiError> {
    match object(bytes, &["parameters"])?.remove("parameters") {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(p)) => Ok(p),
        Some(_) => Err(ApiError::bad_request("'parameters' must be a JSON object")),
    }
}

/// The `hold` of a retry body (false when absent or null).
pub(crate) fn retry(bytes: &[u8]) -> Result<bool, ApiError> {
    match object(bytes, &["hold"])?.remove("hold") {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(b),
        Some(_) => Err(ApiError::bad_request("'hold' must be true or false")),
    }
}

/// A ready body: nothing, or an empty object.
pub(crate) fn ready(bytes: &[u8]) -> Result<(), ApiError> {
    object(bytes, &[]).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_optional_typed_and_closed() {
        assert!(create(b"").expect("empty").is_empty());
        assert_eq!(create(br#"{"parameters": {"a": 1}}"#).expect("ok")["a"], 1);
        assert!(create(br#"{"parameters": [1]}"#).is_err());
        assert!(create(br#"{"params": {}}"#).is_err());
        assert!(create(b"not json").is_err());
        assert!(create(b"[1]").is_err());
        assert!(retry(br#"{"hold": true}"#).expect("ok"));
        assert!(!retry(b"{}").expect("ok"));
        assert!(retry(br#"{"hold": "yes"}"#).is_err());
        assert!(ready(b"{}").is_ok());
        assert!(ready(br#"{"x": 1}"#).is_err());
    }
}
