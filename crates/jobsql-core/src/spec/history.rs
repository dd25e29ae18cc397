//! `history:` of a resource: what `jobsql sync` keeps of it beyond the API's retention (the
//! Delta table written by `crate::sync`, read back as `<resource>_history`).
//!
//! ```yaml
//! history:
//!   key: [run_id]                  # with the workspace column (the server variable), a run's identity
//!   start: start_time              # high-water mark, and the partition date (start_date)
//!   active_while_null: end_time    # a row is still active (re-fetched next sync) while NULL
//!   exclude: [repair_history]      # columns not kept (each would cost a request per run)
//!   incremental: pushdown          # how a re-sync lists only what is new (below)
//!   each: { column: clean_room_name, from: clean_rooms.name }   # a listing per parent
//! ```
//!
//! Resources unlike job_runs say two more things:
//! - `incremental` ([`Incremental`]): `pushdown` (the default) sends `start >= mark − overlap`
//!   to the API (job_runs' `start_time_from`); `order` reads a listing the API sorts newest
//!   first by `start` (its method's `order:`) and stops at the first row below the mark
//!   (LakeSail's runs: no time filter, but `createdAt` descending); `full` lists the whole
//!   resource on every sync (clean-room task runs: no time filter, no documented order), which
//!   also re-reads every active row, so no row is fetched by key.
//! - `each` ([`EachSpec`]): the listing needs a parameter (`clean_room_name`), whose values
//!   are a column of another resource of the same service (`clean_rooms.name`): the sync
//!   lists that resource first, then this one once per value, and keeps the parameter column.
//!
//! A key may be a nested value flattened into a column by a `path:` column (task runs:
//! `collaborator_job_run_info.collaborator_task_run_id`).
//!
//! [`check_history`] checks every name against the resource's columns, methods and pushdown
//! rules; the loader adds the file to the finding.

use serde::Deserialize;

use std::collections::BTreeMap;

use super::error::Finding;
use super::model::{OrderDirection, PushdownOp, ResourceSpec};
use super::resource::Column;
use super::types::ColumnType;

/// How a re-sync lists only what is new.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Incremental {
    /// `WHERE start >= mark − overlap`, pushed into the API (a `range` pushdown on `start`).
    #[default]
    Pushdown,
    /// The listing is sorted newest first by `start` (a select method's `order:`): read until
    /// the first row below the mark, then stop.
    Order,
    /// The whole resource on every sync (the API offers no handle on what is new).
    Full,
}

/// A listing per parent: the parameter the listing needs, and the column of another resource
/// of the same service that holds its values.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EachSpec {
    /// The parameter column of this resource (`clean_room_name`), pushed as `IN (...)`.
    pub column: String,
    /// `resource.column` of the same service (`clean_rooms.name`).
    pub from: String,
}

impl HistorySpec {
    /// How a re-sync lists (`pushdown` when unset).
    pub fn incremental(&self) -> Incremental {
        self.incremental.unwrap_or_default()
    }
}

impl EachSpec {
    /// `from` as (resource, column).
    pub fn source(&self) -> Option<(&str, &str)> {
        let (resource, column) = self.from.split_once('.')?;
        (!resource.is_empty() && !column.is_empty() && !column.contains('.'))
            .then_some((resource, column))
    }
}

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
    /// How a re-sync lists only what is new. Unset: `pushdown` as far as the engine can (the
    /// `WHERE` goes through it either way; written out, the loader checks the pushdown exists).
    #[serde(default)]
    pub incremental: Option<Incremental>,
    /// A listing per parent value (clean-room task runs: per clean room).
    #[serde(default)]
    pub each: Option<EachSpec>,
}

/// Check `history` (at `at`) against the resource's resolved `columns`, its `spec` (methods,
/// pushdown) and the other resources of its service (`each.from`).
pub(super) fn check_history(
    at: &str,
    history: &HistorySpec,
    columns: &[Column],
    spec: &ResourceSpec,
    service: &BTreeMap<String, ResourceSpec>,
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
    check_incremental(at, history, spec)?;
    if let Some(each) = &history.each {
        check_each(&format!("{at}.each"), each, columns, spec, service)?;
    }
    Ok(())
}

/// `incremental` needs what it uses: a range pushdown on `start`, or a listing sorted newest
/// first by it.
fn check_incremental(at: &str, history: &HistorySpec, spec: &ResourceSpec) -> Result<(), Finding> {
    let start = &history.start;
    let Some(incremental) = history.incremental else {
        return Ok(());
    };
    let ok = match incremental {
        Incremental::Full => true,
        Incremental::Pushdown => spec
            .pushdown
            .iter()
            .any(|p| &p.column == start && p.ops.contains(&PushdownOp::Range)),
        Incremental::Order => spec.select.iter().any(|m| {
            spec.methods
                .get(m)
                .and_then(|m| m.order.as_ref())
                .is_some_and(|o| &o.column == start && o.direction == OrderDirection::Desc)
        }),
    };
    if ok {
        return Ok(());
    }
    let why = match incremental {
        Incremental::Pushdown => format!(
            "`pushdown` needs a `range` pushdown on `{start}` (else say `order` or `full`)"
        ),
        _ => format!(
            "`order` needs a select method with `order: {{ column: {start}, direction: desc }}` (else say `full`)"
        ),
    };
    Err(Finding::new(format!("{at}.incremental"), why))
}

/// `each`: a parameter column of this resource pushed as `IN`, and `from` a column of another
/// resource of the same service.
fn check_each(
    at: &str,
    each: &EachSpec,
    columns: &[Column],
    spec: &ResourceSpec,
    service: &BTreeMap<String, ResourceSpec>,
) -> Result<(), Finding> {
    let is_parameter = columns
        .iter()
        .any(|c| c.name == each.column && c.is_parameter);
    let pushed = spec
        .pushdown
        .iter()
        .any(|p| p.column == each.column && p.ops.contains(&PushdownOp::In));
    if !is_parameter || !pushed {
        return Err(Finding::new(
            format!("{at}.column"),
            format!(
                "`{}` must be a parameter column with an `in` pushdown",
                each.column
            ),
        ));
    }
    let Some((resource, column)) = each.source() else {
        return Err(Finding::new(
            format!("{at}.from"),
            format!("`{}` is not `resource.column`", each.from),
        ));
    };
    let found = service
        .get(resource)
        .is_some_and(|r| r.columns.iter().any(|c| c.name == column));
    if !found {
        return Err(Finding::new(
            format!("{at}.from"),
            format!("no resource `{resource}` with a column `{column}` in this service"),
        ));
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
    fn incremental_and_each_name_what_they_use() {
        let base = "{ key: [run_id], start: start_time, active_while_null: end_time";
        assert_eq!(load(&format!("{base}, incremental: full }}")), Ok(()));
        for (extra, place, message) in [
            (
                "incremental: pushdown",
                "resources.runs.history.incremental",
                "needs a `range` pushdown on `start_time`",
            ),
            (
                "incremental: order",
                "resources.runs.history.incremental",
                "needs a select method with `order:",
            ),
            ("incremental: later", "acme.yaml", "unknown variant `later`"),
            (
                "each: { column: notes, from: rooms.name }",
                "resources.runs.history.each.column",
                "must be a parameter column",
            ),
        ] {
            let e = load(&format!("{base}, {extra} }}")).expect_err(message);
            assert!(e.contains(place) && e.contains(message), "{e}");
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
