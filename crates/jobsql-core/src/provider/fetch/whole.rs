//! One object fetched whole: a single-object method whose array properties come 100 at a time
//! (Jobs API 2.2 `runs/get` pages `tasks`, `job_clusters`, `job_parameters` and
//! `repair_history`; `jobs/get` pages `settings.tasks`, `settings.job_clusters`,
//! `settings.parameters` and `settings.environments`) is requested page after page until it has
//! no next-page token or marker (at the pagination's `next` path), and the arrays its `merge_arrays` names — top-level fields or dotted paths
//! into nested objects — are appended to the first page's object. Nothing the method spec names
//! is left cut; the pages are bounded like any listing's ([`PageTokens`]).

use std::collections::BTreeMap;

use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::spec::MethodSpec;
use crate::workspace::Workspace;

use super::super::ProviderError;
use super::{listing_budget, page_request, send, Fetch, PageTokens};
use crate::request::Cursor;

/// Fetch every page of a single object with `method` and append the paged arrays into the
/// first page's object; `None` when the API says it does not exist. The boolean fields of
/// `clear` (a listing's "more not shown" flags, which no longer hold) are set to `false`.
/// With `follow` false only the first page is fetched: for a query that reads none of the
/// paged arrays, whose other fields are all on the first page.
pub(super) async fn fetch_whole(
    fetch: &Fetch,
    method: &MethodSpec,
    workspace: &Workspace,
    params: &BTreeMap<String, String>,
    clear: &[&str],
    follow: bool,
) -> Result<Option<Box<RawValue>>, ProviderError> {
    let invalid = |message: String| ProviderError::InvalidResponse {
        table: fetch.resource.qualified_name(),
        message,
    };
    let mut merged: Option<Map<String, Value>> = None;
    let mut cursor: Option<Cursor> = None;
    // One object's pages are a listing of their own.
    let mut seen = PageTokens::new(listing_budget(fetch), None);
    // Only a cursor style names an object's next page (the loader allows `merge_arrays` with
    // no other); any other style's object is its first page.
    let paged = method
        .pagination
        .as_ref()
        .filter(|p| p.style.is_cursor())
        .and_then(|p| Some((p, p.next_path()?)));
    loop {
        let request = page_request(method, params, cursor.as_ref(), None);
        let first = cursor.is_none();
        if first {
            seen.first(fetch, &request)?;
        }
        let Some(reply) = send(fetch, method, workspace, &request, first).await? else {
            return Ok(None);
        };
        let page: Map<String, Value> = serde_json::from_slice(&reply.body)
            .map_err(|e| invalid(format!("not a JSON object: {e}")))?;
        let Some((pagination, next)) = &paged else {
            merged = Some(page);
            break;
        };
        cursor = string_at(&page, next)
            .filter(|t| !t.is_empty() && follow)
            .map(|t| Cursor::Param(t.to_string()));
        if let Some(next) = &cursor {
            seen.follow(fetch, method, &request, next)?;
        }
        match merged.as_mut() {
            None => merged = Some(page),
            Some(first) => {
                for path in &pagination.merge_arrays {
                    append(first, &page, path);
                }
            }
        }
        if cursor.is_none() {
            break;
        }
    }
    let mut object = merged.unwrap_or_default();
    if let Some((_, next)) = &paged {
        if let [key] = next.as_slice() {
            object.remove(key);
        }
    }
    for flag in clear {
        if let Some(value) = object.get_mut(*flag) {
            *value = Value::Bool(false);
        }
    }
    RawValue::from_string(Value::Object(object).to_string())
        .map(Some)
        .map_err(|e| invalid(e.to_string()))
}

/// The string at the path of fields `path` in `object`.
fn string_at<'a>(object: &'a Map<String, Value>, path: &[String]) -> Option<&'a str> {
    let (last, parents) = path.split_last()?;
    let mut at = object;
    for key in parents {
        at = at.get(key)?.as_object()?;
    }
    at.get(last)?.as_str()
}

/// Append the array at `path` (`tasks`, or `settings.tasks`) of `page` to the one of `first`,
/// creating it (and the objects on its way) when the first page had none.
fn append(first: &mut Map<String, Value>, page: &Map<String, Value>, path: &str) {
    let mut keys = path.split('.').peekable();
    let (mut into, mut from) = (first, page);
    while let Some(key) = keys.next() {
        if keys.peek().is_none() {
            let Some(Value::Array(more)) = from.get(key) else {
                return;
            };
            match into.get_mut(key) {
                Some(Value::Array(items)) => items.extend(more.iter().cloned()),
                _ => {
                    into.insert(key.to_string(), Value::Array(more.clone()));
                }
            }
            return;
        }
        let Some(Value::Object(next_from)) = from.get(key) else {
            return;
        };
        let slot = into
            .entry(key.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if !slot.is_object() {
            *slot = Value::Object(Map::new());
        }
        let Value::Object(next_into) = slot else {
            return;
        };
        (into, from) = (next_into, next_from);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn top_level_and_nested_arrays_are_appended() {
        let mut first = map(json!({"tasks": [1], "settings": {"name": "x", "tasks": [1, 2]}}));
        let page = map(json!({"tasks": [2], "settings": {"tasks": [3], "parameters": [9]}}));
        for path in [
            "tasks",
            "settings.tasks",
            "settings.parameters",
            "settings.nope",
        ] {
            append(&mut first, &page, path);
        }
        assert_eq!(
            Value::Object(first),
            json!({"tasks": [1, 2], "settings": {"name": "x", "tasks": [1, 2, 3], "parameters": [9]}})
        );
    }

    #[test]
    fn a_missing_parent_is_created() {
        let mut first = map(json!({"job_id": 1}));
        append(
            &mut first,
            &map(json!({"settings": {"tasks": [7]}})),
            "settings.tasks",
        );
        assert_eq!(
            Value::Object(first),
            json!({"job_id": 1, "settings": {"tasks": [7]}})
        );
    }
}
