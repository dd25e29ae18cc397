//! `history:` of a resource: what `jobsql sync` keeps of it beyond the API's retention (the
//! Delta table written by `crate::sync`, read back as `<resource>_history`).
//!
//! ```yaml
//! history:
//!   key: [run_id]                  # with the workspace column (the server variable), a run's identity
//!   start: start_time              # high-water mark, and the partition date (start_date)
//!   active_while_null: end_time    # a row is still active (re-fetched next sync) while NULL
//!   exclude: [repair_history]      # columns not kept (each would cost a request per run)
//! ```
//!
//! [`check_history`] checks every name against the resource's columns; the loader adds the
//! file to the finding.

use serde::Deserialize;

use super::error::Finding;
use super::resource::Column;
use super::types::ColumnType;

/// What a sync keeps of a resource.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistorySpec {
    /// The columns identifying a row within a workspace (the workspace column, the provider's
    /// server variable, is always part of the key too).
    pub key: Vec<String>,
    /// The timestamp column a row starts at: the high-water mark of a sync, and the date the
    /// table is partitioned by. It never changes for a row.
    pub start: String,
    /// The column that is NULL while a row can still change (a run's `end_time`): such rows are
    /// fetched again by the next sync.
    pub active_while_null: String,
    /// Data columns not kept (e.g. those that cost one more request per row).
    #[serde(default)]
    pub exclude: Vec<String>,
}

/// Check `history` (at `at`) against the resource's resolved `columns`.
pub(super) fn check_history(
    at: &str,
    history: &HistorySpec,
    columns: &[Column],
) -> Result<(), Finding> {
    let find = |name: &str| columns.iter().find(|c| c.name == name);
    let missing = |place: String, name: &str| {
        Finding::new(place, format!("no column named `{name}` in this resource"))
    };
    if history.key.is_empty() {
        return Err(Finding::new(
            format!("{at}.key"),
            "lists no column (a row needs a key to be merged)",
        ));
    }
    for (i, name) in history.key.iter().enumerate() {
        let column = find(name).ok_or_else(|| missing(format!("{at}.key[{i}]"), name))?;
        if !matches!(column.ty, ColumnType::Integer | ColumnType::String) {
            return Err(Finding::new(
                format!("{at}.key[{i}]"),
                format!("`{name}` must be an integer or string column to be a key"),
            ));
        }
    }
    let start =
        find(&history.start).ok_or_else(|| missing(format!("{at}.start"), &history.start))?;
    if !matches!(start.ty, ColumnType::Timestamp(_)) || start.is_parameter {
        return Err(Finding::new(
            format!("{at}.start"),
            format!("`{}` must be a timestamp data column", history.start),
        ));
    }
    find(&history.active_while_null).ok_or_else(|| {
        missing(
            format!("{at}.active_while_null"),
            &history.active_while_null,
        )
    })?;
    for (i, name) in history.exclude.iter().enumerate() {
        let place = format!("{at}.exclude[{i}]");
        let column = find(name).ok_or_else(|| missing(place.clone(), name))?;
        let needed = history.key.contains(name)
            || name == &history.start
            || name == &history.active_while_null;
        if column.is_parameter || needed {
            return Err(Finding::new(
                place,
                format!("`{name}` cannot be excluded: it is a parameter column, a key, the start or the active column"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::spec::{load_embedded, load_sources};

    const PROFILE: &str = r#"
provider: acme
server: { url: "https://{deployment_name}.example.com", variable: deployment_name }
sign_in:
  settings: { token: { env: ACME_TOKEN, secret: true } }
  methods: [ { name: pat, needs: [token], scheme: { bearer: { token: "{token}" } } } ]
"#;

    fn service(history: &str) -> String {
        format!(
            r#"
provider: acme
service: jobs
resources:
  runs:
    methods:
      list: {{ verb: GET, path: /runs, response: {{ objects: runs }} }}
    select: [list]
    history: {history}
    columns:
      - {{ name: run_id, type: integer }}
      - {{ name: start_time, type: timestamp_ms }}
      - {{ name: end_time, type: timestamp_ms }}
      - {{ name: notes, type: json }}
"#
        )
    }

    fn load(history: &str) -> Result<(), String> {
        load_sources([
            ("acme/provider.yaml".to_string(), PROFILE.to_string()),
            ("acme.yaml".to_string(), service(history)),
        ])
        .map(|_| ())
        .map_err(|e| e.to_string())
    }

    #[test]
    fn the_history_section_names_columns_that_exist() {
        let good =
            "{ key: [run_id], start: start_time, active_while_null: end_time, exclude: [notes] }";
        assert_eq!(load(good), Ok(()));
        let cases = [
            (
                good.replace("[run_id]", "[run]"),
                "resources.runs.history.key[0]",
                "no column named `run`",
            ),
            (
                good.replace("[run_id]", "[]"),
                "resources.runs.history.key",
                "lists no column",
            ),
            (
                good.replace("start: start_time", "start: started"),
                "resources.runs.history.start",
                "no column named `started`",
            ),
            (
                good.replace("start: start_time", "start: run_id"),
                "resources.runs.history.start",
                "must be a timestamp",
            ),
            (
                good.replace("null: end_time", "null: ended"),
                "resources.runs.history.active_while_null",
                "no column named `ended`",
            ),
            (
                good.replace("[notes]", "[note]"),
                "resources.runs.history.exclude[0]",
                "no column named `note`",
            ),
            (
                good.replace("[notes]", "[run_id]"),
                "resources.runs.history.exclude[0]",
                "cannot be excluded",
            ),
            (
                good.replace("key:", "keys:"),
                "acme.yaml",
                "unknown field `keys`",
            ),
        ];
        for (text, place, message) in cases {
            let e = load(&text).expect_err(message);
            assert!(
                e.contains("acme.yaml") && e.contains(place) && e.contains(message),
                "{e}"
            );
        }
    }

    #[test]
    fn job_runs_keeps_history_on_run_id() {
        let set = load_embedded().expect("embedded specs");
        let runs = set
            .resources
            .iter()
            .find(|r| r.qualified_name() == "databricks_workspace.jobs.job_runs")
            .expect("job_runs");
        let history = runs.spec.history.as_ref().expect("job_runs has history");
        assert_eq!(history.key, ["run_id"]);
        assert_eq!(history.start, "start_time");
    }
}
