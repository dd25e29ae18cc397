//! Arguments of a call: values from SQL (EXEC parameters, INSERT cells, DELETE keys) checked
//! against a method's parameters and typed as the API expects; idempotency tokens; required
//! parameters a call lacks. [`super::build_call`] places them.

use std::collections::BTreeMap;

use serde_json::{Number, Value};

use crate::spec::{MethodSpec, ParamSpec, ParamType};

pub use crate::sql::SqlValue;

/// The typed JSON value of `value` for parameter `name`, or `None` for NULL. The error says
/// what the parameter expects and what it got.
pub fn typed_value(
    name: &str,
    spec: &ParamSpec,
    value: &SqlValue,
) -> Result<Option<Value>, String> {
    let wrong = |expected: &str| format!("{name} expects {expected}, got {}", value.quoted());
    let typed = match (spec.kind, value) {
        (_, SqlValue::Null) => return Ok(None),
        (ParamType::Integer, SqlValue::Int(i)) => Value::from(*i),
        (ParamType::Integer, SqlValue::Text(s)) => {
            Value::from(s.trim().parse::<i64>().map_err(|_| wrong("an integer"))?)
        }
        (ParamType::Integer, SqlValue::Float(f)) if f.fract() == 0.0 && f.abs() < 9.0e15 => {
            Value::from(*f as i64)
        }
        (ParamType::Integer, _) => return Err(wrong("an integer")),
        (ParamType::Boolean, SqlValue::Bool(b)) => Value::Bool(*b),
        (ParamType::Boolean, SqlValue::Text(s)) => match s.trim().to_ascii_lowercase().as_str() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => return Err(wrong("true or false")),
        },
        (ParamType::Boolean, _) => return Err(wrong("true or false")),
        (ParamType::String, SqlValue::Text(s)) => Value::String(s.clone()),
        (ParamType::String, SqlValue::Int(i)) => Value::String(i.to_string()),
        (ParamType::String, SqlValue::Float(f)) => Value::String(f.to_string()),
        (ParamType::String, SqlValue::Bool(b)) => Value::String(b.to_string()),
        (ParamType::Json, SqlValue::Text(s)) => serde_json::from_str(s)
            .map_err(|e| format!("{name} is not valid JSON ({e}): {}", value.quoted()))?,
        (ParamType::Json, SqlValue::Int(i)) => Value::from(*i),
        (ParamType::Json, SqlValue::Float(f)) => Number::from_f64(*f)
            .map(Value::Number)
            .ok_or_else(|| wrong("a finite number"))?,
        (ParamType::Json, SqlValue::Bool(b)) => Value::Bool(*b),
    };
    if let (false, Value::String(s)) = (spec.allowed.is_empty(), &typed) {
        if !spec.allowed.contains(s) {
            return Err(format!(
                "{name} must be one of {}, got '{s}'",
                spec.allowed.join(", ")
            ));
        }
    }
    Ok(Some(typed))
}

/// Give the call an idempotency token when its method takes one and the caller gave none, so
/// the call may be retried safely (each call its own token, reused by its retries).
pub fn fill_idempotency_token(method: &MethodSpec, values: &mut BTreeMap<String, Value>) {
    if let Some(token) = &method.idempotency_token {
        values
            .entry(token.clone())
            .or_insert_with(|| Value::String(new_idempotency_token()));
    }
}

/// Required parameters of `method` that `values` lacks, in spec order.
pub fn missing_required(method: &MethodSpec, values: &BTreeMap<String, Value>) -> Vec<String> {
    method
        .params
        .iter()
        .filter(|(name, p)| p.required && !values.contains_key(*name))
        .map(|(name, _)| name.clone())
        .collect()
}

/// A fresh idempotency token: 32 hex digits from the process's random hasher keys, the time
/// and a counter (unique per call; at most 64 characters as the API requires).
pub fn new_idempotency_token() -> String {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or_default();
    let half = |salt: u64| {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(n);
        h.write_u64(nanos);
        h.write_u64(salt);
        h.write_u32(std::process::id());
        h.finish()
    };
    format!("jobsql-{:016x}{:016x}", half(1), half(2))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::ParamLocation;

    fn spec(kind: ParamType) -> ParamSpec {
        ParamSpec {
            location: ParamLocation::Body,
            kind,
            required: false,
            allowed: Vec::new(),
            description: String::new(),
        }
    }

    #[test]
    fn values_are_typed_or_named_in_the_error() {
        let int = spec(ParamType::Integer);
        assert_eq!(
            typed_value("run_id", &int, &SqlValue::Text(" 42 ".into())),
            Ok(Some(Value::from(42)))
        );
        assert_eq!(
            typed_value("run_id", &int, &SqlValue::Text("x".into())).unwrap_err(),
            "run_id expects an integer, got 'x'"
        );
        let json = spec(ParamType::Json);
        let err = typed_value("tasks", &json, &SqlValue::Text("[{".into())).unwrap_err();
        assert!(err.starts_with("tasks is not valid JSON"), "{err}");
        assert_eq!(typed_value("tasks", &json, &SqlValue::Null), Ok(None));
        let mut views = spec(ParamType::String);
        views.allowed = vec!["CODE".into(), "ALL".into()];
        assert_eq!(
            typed_value("views_to_export", &views, &SqlValue::Text("X".into())).unwrap_err(),
            "views_to_export must be one of CODE, ALL, got 'X'"
        );
    }

    #[test]
    fn tokens_differ_and_fit_the_api_limit() {
        let (a, b) = (new_idempotency_token(), new_idempotency_token());
        assert_ne!(a, b);
        assert!(a.len() <= 64);
    }
}
