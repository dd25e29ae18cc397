//! Where things are in a response body: the objects (at a dotted path, the body itself as an
//! array, or the body as the one object) and what the body says about the next page (the
//! next token, marker or URL, and the total count, at their paths). Values are borrowed from
//! the body (`RawValue`), never built into `serde_json::Value`s.

use std::borrow::Cow;
use std::collections::HashMap;

use serde_json::value::RawValue;

use crate::request::PageMarks;

type Object<'a> = HashMap<Cow<'a, str>, &'a RawValue>;

/// Where a method's objects are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Objects {
    /// The body is the one object.
    Body,
    /// The array at this path of fields; no fields: the body is the array.
    At(Vec<String>),
}

impl Objects {
    /// From the spec's `response.objects`.
    pub(super) fn of(spec: Option<&str>) -> Self {
        match spec {
            None => Objects::Body,
            Some(path) => Objects::At(crate::spec::split_path(path)),
        }
    }
}

/// The raw value at `path` in `raw` (itself when `path` is empty); `None` when a field on the
/// way is absent or null.
pub(super) fn raw_at<'a>(
    raw: &'a RawValue,
    path: &[String],
) -> Result<Option<&'a RawValue>, String> {
    let mut at = raw;
    for (i, field) in path.iter().enumerate() {
        if at.get() == "null" {
            return Ok(None);
        }
        let object: Object<'a> = serde_json::from_str(at.get()).map_err(|e| {
            let within = if i == 0 {
                "the body".to_string()
            } else {
                format!("`{}`", path[..i].join("."))
            };
            format!("{within} is not a JSON object: {e}")
        })?;
        at = match object.get(field.as_str()) {
            Some(raw) => raw,
            None => return Ok(None),
        };
    }
    Ok(Some(at).filter(|r| r.get() != "null"))
}

/// The objects of a body.
pub(super) fn objects<'a>(body: &'a RawValue, at: &Objects) -> Result<Vec<&'a RawValue>, String> {
    match at {
        Objects::Body => Ok(vec![body]),
        Objects::At(path) => match raw_at(body, path)? {
            Some(raw) => serde_json::from_str(raw.get()).map_err(|e| {
                let name = if path.is_empty() {
                    "the body".to_string()
                } else {
                    format!("`{}`", path.join("."))
                };
                format!("{name} is not an array of objects: {e}")
            }),
            None => Ok(Vec::new()),
        },
    }
}

/// What `body` says about the next page: the string at `next` (empty: none), the number at
/// `total`.
pub(super) fn marks(
    body: &RawValue,
    next: Option<&[String]>,
    total: Option<&[String]>,
) -> Result<PageMarks, String> {
    let mut marks = PageMarks::default();
    if let Some(path) = next {
        if let Some(raw) = raw_at(body, path)? {
            let value: String = serde_json::from_str(raw.get())
                .map_err(|_| format!("`{}` is not a string", path.join(".")))?;
            marks.next = Some(value).filter(|v| !v.is_empty());
        }
    }
    if let Some(path) = total {
        if let Some(raw) = raw_at(body, path)? {
            let value: u64 = serde_json::from_str(raw.get())
                .map_err(|_| format!("`{}` is not a count of objects", path.join(".")))?;
            marks.total = Some(value);
        }
    }
    Ok(marks)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(text: &str) -> Box<RawValue> {
        RawValue::from_string(text.to_string()).unwrap()
    }

    fn path(p: &str) -> Vec<String> {
        crate::spec::split_path(p)
    }

    #[test]
    fn objects_at_a_nested_path_the_body_or_nowhere() {
        let body = raw(r#"{"data": {"items": [{"a": 1}, {"a": 2}]}, "n": null}"#);
        let at = |p: &str| objects(&body, &Objects::of(Some(p))).map(|v| v.len());
        assert_eq!(at("data.items"), Ok(2));
        assert_eq!(at("data.none"), Ok(0));
        assert_eq!(at("n"), Ok(0));
        assert!(at("data").unwrap_err().contains("`data` is not an array"));
        let array = raw(r#"[{"a": 1}]"#);
        assert_eq!(
            objects(&array, &Objects::of(Some("."))).map(|v| v.len()),
            Ok(1)
        );
        assert_eq!(objects(&array, &Objects::Body).map(|v| v.len()), Ok(1));
    }

    #[test]
    fn marks_at_paths_empty_is_none_and_wrong_types_are_named() {
        let body = raw(r#"{"meta": {"next": "m2", "total": 7}, "empty": ""}"#);
        let m = marks(&body, Some(&path("meta.next")), Some(&path("meta.total"))).unwrap();
        assert_eq!(m.next.as_deref(), Some("m2"));
        assert_eq!(m.total, Some(7));
        assert_eq!(marks(&body, Some(&path("empty")), None).unwrap().next, None);
        assert_eq!(
            marks(&body, Some(&path("meta.x")), None).unwrap().next,
            None
        );
        let e = marks(&body, Some(&path("meta.total")), None).unwrap_err();
        assert!(e.contains("`meta.total` is not a string"), "{e}");
        let e = marks(&body, None, Some(&path("meta.next"))).unwrap_err();
        assert!(e.contains("`meta.next` is not a count"), "{e}");
    }
}
