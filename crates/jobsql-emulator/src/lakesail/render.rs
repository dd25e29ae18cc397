//! The JSON the LakeSail API answers: a JobRun (`run`), a job (`job`) and their timestamps in
//! RFC 3339 UTC (`time`). Uses `state` and `domain` (a run is rendered with its status now).

pub(crate) mod job;
pub(crate) mod run;
pub(crate) mod time;

/// A list answer: `{"items": [...], "marker": "..."}`, without `marker` on the last page.
pub(crate) fn list(items: Vec<serde_json::Value>, marker: Option<String>) -> serde_json::Value {
    let mut body = serde_json::Map::new();
    body.insert("items".into(), serde_json::Value::Array(items));
    if let Some(m) = marker {
        body.insert("marker".into(), serde_json::Value::String(m));
    }
    serde_json::Value::Object(body)
}
