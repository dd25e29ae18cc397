//! What a sync of one resource reads, as SQL on the session: the columns kept (the data
//! columns but the spec's `exclude`, then the `each` parameter column, then the workspace
//! column), the new runs and the runs still active at the last sync (`key IN (...)`), each
//! for one workspace. How "new" is asked depends on the spec's `incremental`: `pushdown`
//! adds `start >= mark`; `order` adds `ORDER BY start DESC` (the API's order, so no sort)
//! and the sync stops reading below the mark; `full` lists everything. With `each`, the
//! parent values are read first ([`SyncPlan::parents`]) and the listing names them
//! (`clean_room_name IN (...)`). Every statement goes through the engine, so pushdown,
//! parallel slices, retries and throttling apply.

use crate::spec::{HistorySpec, Incremental, Resource};

/// The queries of one resource's sync.
#[derive(Debug, Clone)]
pub struct SyncPlan {
    /// `provider.service.resource`.
    pub table: String,
    /// The columns kept, in order (data columns, then the workspace column).
    pub columns: Vec<String>,
    /// The workspace column (the provider's server variable, `deployment_name`).
    pub workspace: String,
    /// The key within a workspace (`run_id`).
    pub key: Vec<String>,
    /// The start column (`start_time`).
    pub start: String,
    /// The column NULL while a row is active (`end_time`).
    pub active: String,
    /// How a re-sync lists only what is new.
    pub incremental: Incremental,
    /// The parameter listed once per parent value (`clean_room_name`) and the query of those
    /// values (`SELECT name FROM ….clean_rooms`, per workspace).
    pub each: Option<(String, String)>,
}

/// Most keys in one `IN (...)` statement (each is one `get`; the statements run one after
/// another, each with the engine's concurrency).
pub const KEYS_PER_STATEMENT: usize = 500;

impl SyncPlan {
    /// The plan of `resource` and its `history`.
    pub fn new(resource: &Resource, history: &HistorySpec) -> Self {
        let workspace = resource.server.variable.clone();
        let mut columns: Vec<String> = resource
            .columns
            .iter()
            .filter(|c| !c.is_parameter && !history.exclude.contains(&c.name))
            .map(|c| c.name.clone())
            .collect();
        let each = history.each.as_ref().and_then(|each| {
            let (from, column) = each.source()?;
            let table = format!("{}.{}.{from}", resource.provider, resource.service);
            Some((
                each.column.clone(),
                format!("SELECT DISTINCT {} AS parent FROM {table}", quote(column)),
            ))
        });
        if let Some((column, _)) = &each {
            columns.push(column.clone());
        }
        columns.push(workspace.clone());
        SyncPlan {
            table: resource.qualified_name(),
            columns,
            workspace,
            key: history.key.clone(),
            start: history.start.clone(),
            active: history.active_while_null.clone(),
            incremental: history.incremental(),
            each,
        }
    }

    /// The query of the parent values of `workspace` (`None` without `each`).
    pub fn parents(&self, workspace: &str) -> Option<String> {
        self.each.as_ref().map(|(_, sql)| {
            format!(
                "{sql} WHERE {} = {} ORDER BY parent",
                quote(&self.workspace),
                literal(workspace)
            )
        })
    }

    /// The new rows of `workspace` as this plan's `incremental` asks for them: since
    /// `since_ms` (`pushdown`), newest first (`order`: the caller stops below the mark), or
    /// all (`full`); under `each`, of the `parents` only (none: no statement).
    pub fn listing(
        &self,
        workspace: &str,
        since_ms: Option<i64>,
        parents: Option<&[String]>,
    ) -> Option<String> {
        let since = match self.incremental {
            Incremental::Pushdown => since_ms,
            Incremental::Order | Incremental::Full => None,
        };
        let mut sql = self.new_rows(workspace, since);
        if let (Some((column, _)), Some(parents)) = (&self.each, parents) {
            if parents.is_empty() {
                return None;
            }
            let values: Vec<String> = parents.iter().map(|p| literal(p)).collect();
            sql.push_str(&format!(
                " AND {} IN ({})",
                quote(column),
                values.join(", ")
            ));
        }
        if self.stop(since_ms).is_some() {
            sql.push_str(&format!(" ORDER BY {} DESC", quote(&self.start)));
        }
        Some(sql)
    }

    /// Where an `order` listing stops being read: at rows of `start` below `since_ms` (the
    /// listing is then sorted newest first); `None` for the others, or with no mark yet.
    pub fn stop(&self, since_ms: Option<i64>) -> Option<(&str, i64)> {
        match self.incremental {
            Incremental::Order => since_ms.map(|ms| (self.start.as_str(), ms)),
            Incremental::Pushdown | Incremental::Full => None,
        }
    }

    /// Whether a re-sync fetches the rows still active at the last sync by key (not with
    /// `full`: its listing has them all; nor with `each`, whose keys hold no parent).
    pub fn fetches_active(&self) -> bool {
        self.incremental != Incremental::Full && self.each.is_none()
    }

    /// The key columns with the workspace column first: a row's identity in the history.
    pub fn full_key(&self) -> Vec<String> {
        let mut key = vec![self.workspace.clone()];
        key.extend(self.key.iter().cloned());
        key
    }

    fn select(&self) -> String {
        let columns: Vec<String> = self.columns.iter().map(|c| quote(c)).collect();
        format!("SELECT {} FROM {}", columns.join(", "), self.table)
    }

    /// The rows of `workspace` that started at or after `since_ms` (every row without it).
    pub fn new_rows(&self, workspace: &str, since_ms: Option<i64>) -> String {
        let mut sql = format!(
            "{} WHERE {} = {}",
            self.select(),
            quote(&self.workspace),
            literal(workspace)
        );
        if let Some(ms) = since_ms {
            sql.push_str(&format!(
                " AND {} >= to_timestamp_millis({ms})",
                quote(&self.start)
            ));
        }
        sql
    }

    /// The rows of `workspace` with these keys (each a list of SQL literals, in key order).
    pub fn rows_by_key(&self, workspace: &str, keys: &[Vec<String>]) -> String {
        let filter = if self.key.len() == 1 {
            let values: Vec<&str> = keys.iter().map(|k| k[0].as_str()).collect();
            format!("{} IN ({})", quote(&self.key[0]), values.join(", "))
        } else {
            let each: Vec<String> = keys
                .iter()
                .map(|k| {
                    let parts: Vec<String> = self
                        .key
                        .iter()
                        .zip(k)
                        .map(|(c, v)| format!("{} = {v}", quote(c)))
                        .collect();
                    format!("({})", parts.join(" AND "))
                })
                .collect();
            format!("({})", each.join(" OR "))
        };
        self.by_key_filter(workspace, &filter)
    }

    /// The rows of `workspace` with these keys, one statement per value of the key's leading
    /// columns (`job_id = 'J1' AND job_run_id IN (...)`), which the engine pushes as one get
    /// per key; a key of one column is [`SyncPlan::rows_by_key`]'s one statement.
    pub fn rows_by_key_grouped(&self, workspace: &str, keys: &[Vec<String>]) -> Vec<String> {
        if self.key.len() == 1 {
            return vec![self.rows_by_key(workspace, keys)];
        }
        let last = self.key.len() - 1;
        let mut groups: std::collections::BTreeMap<&[String], Vec<&str>> = Default::default();
        for k in keys {
            groups.entry(&k[..last]).or_default().push(k[last].as_str());
        }
        groups
            .into_iter()
            .map(|(lead, values)| {
                let mut parts: Vec<String> = self.key[..last]
                    .iter()
                    .zip(lead)
                    .map(|(c, v)| format!("{} = {v}", quote(c)))
                    .collect();
                parts.push(format!(
                    "{} IN ({})",
                    quote(&self.key[last]),
                    values.join(", ")
                ));
                self.by_key_filter(workspace, &parts.join(" AND "))
            })
            .collect()
    }

    fn by_key_filter(&self, workspace: &str, filter: &str) -> String {
        format!(
            "{} WHERE {} = {} AND {filter}",
            self.select(),
            quote(&self.workspace),
            literal(workspace)
        )
    }
}

/// A SQL identifier, quoted.
pub fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A SQL string literal.
pub fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::load_embedded;

    #[test]
    fn job_runs_reads_its_columns_per_workspace_and_since_a_mark() {
        let set = load_embedded().unwrap();
        let runs = set
            .resources
            .iter()
            .find(|r| {
                r.name == "job_runs" && r.service == "jobs" && r.provider.starts_with("databricks")
            })
            .unwrap();
        let plan = SyncPlan::new(runs, runs.spec.history.as_ref().unwrap());
        assert!(plan.columns.contains(&"tasks".to_string()));
        assert!(!plan.columns.contains(&"repair_history".to_string()));
        assert!(!plan.columns.contains(&"active_only".to_string()));
        assert_eq!(
            plan.columns.last().map(String::as_str),
            Some("deployment_name")
        );
        assert_eq!(plan.full_key(), ["deployment_name", "run_id"]);
        let sql = plan.new_rows("o'k", Some(5));
        assert!(
            sql.ends_with("FROM databricks_workspace.jobs.job_runs WHERE \"deployment_name\" = 'o''k' AND \"start_time\" >= to_timestamp_millis(5)"),
            "{sql}"
        );
        let sql = plan.rows_by_key("w", &[vec!["1".into()], vec!["2".into()]]);
        assert!(sql.ends_with("= 'w' AND \"run_id\" IN (1, 2)"), "{sql}");
    }

    fn plan_of(name: &str) -> SyncPlan {
        let set = load_embedded().unwrap();
        let r = set
            .resources
            .iter()
            .find(|r| r.qualified_name() == name)
            .unwrap();
        SyncPlan::new(r, r.spec.history.as_ref().unwrap())
    }

    #[test]
    fn lakesail_lists_newest_first_and_task_runs_per_clean_room() {
        let sail = plan_of("lakesail.jobs.job_runs");
        assert_eq!(sail.full_key(), ["endpoint", "job_id", "job_run_id"]);
        let sql = sail.listing("e", Some(5), None).unwrap();
        assert!(
            sql.ends_with("WHERE \"endpoint\" = 'e' ORDER BY \"created_at\" DESC"),
            "{sql}"
        );
        let keys = [
            vec!["'J1'".to_string(), "'R1'".to_string()],
            vec!["'J1'".to_string(), "'R2'".to_string()],
            vec!["'J2'".to_string(), "'R3'".to_string()],
        ];
        let by_key = sail.rows_by_key_grouped("e", &keys);
        assert_eq!(by_key.len(), 2);
        assert!(
            by_key[0].ends_with("\"job_id\" = 'J1' AND \"job_run_id\" IN ('R1', 'R2')"),
            "{by_key:?}"
        );
        assert!(sail.fetches_active());

        let rooms = plan_of("databricks_workspace.cleanrooms.task_runs");
        assert_eq!(
            rooms.full_key(),
            [
                "deployment_name",
                "collaborator_workspace_id",
                "collaborator_task_run_id"
            ]
        );
        assert!(rooms.columns.contains(&"clean_room_name".to_string()));
        assert!(!rooms.fetches_active());
        let parents = rooms.parents("w").unwrap();
        assert!(
            parents.contains("FROM databricks_workspace.cleanrooms.clean_rooms WHERE"),
            "{parents}"
        );
        let sql = rooms
            .listing("w", Some(5), Some(&["a".into(), "b".into()]))
            .unwrap();
        assert!(
            sql.ends_with("WHERE \"deployment_name\" = 'w' AND \"clean_room_name\" IN ('a', 'b')"),
            "{sql}"
        );
        assert!(
            rooms.listing("w", None, Some(&[])).is_none(),
            "no room: no listing"
        );
    }
}
