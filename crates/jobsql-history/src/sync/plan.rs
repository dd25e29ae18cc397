//! What a sync of one resource reads, as DataFusion plans on the session: the columns kept
//! (the data columns but the spec's `exclude`, then the `each` parameter column, then the
//! workspace column), the new runs and the runs still active at the last sync (`key IN
//! (...)`), each for one workspace. How "new" is asked depends on the spec's `incremental`:
//! `pushdown` adds `start >= mark`; `order` sorts by `start` descending (the API's order, so
//! no sort) and the sync stops reading below the mark; `full` lists everything. With `each`,
//! the parent values are read first ([`SyncPlan::parents`]) and the listing names them
//! (`clean_room_name IN (...)`). Every statement goes through the engine, so pushdown,
//! parallel slices, retries and throttling apply.
//!
//! No SQL text is built here: tables are named by [`TableReference`], columns by [`ident`]
//! (never parsed), and every value (the workspace, a mark, a key read back from the history,
//! a parent) is an [`Expr`] literal of a [`ScalarValue`]. A value read back from a Delta
//! table is data whatever bytes it holds; it cannot become a statement.

use datafusion::common::{DataFusionError, ScalarValue, TableReference};
use datafusion::error::Result;
use datafusion::logical_expr::Expr;
use datafusion::prelude::{ident, lit, DataFrame, SessionContext};

use jobsql_core::spec::{HistorySpec, Incremental, Resource};

/// The parent values of an `each` listing: a column of another table of the service.
#[derive(Debug, Clone)]
pub struct EachPlan {
    /// The parameter column of the resource the values go to (`clean_room_name`).
    pub column: String,
    /// The table the values are read from (`databricks_workspace.cleanrooms.clean_rooms`).
    pub from: TableReference,
    /// Its column holding them (`name`).
    pub from_column: String,
}

/// The plans of one resource's sync.
#[derive(Debug, Clone)]
pub struct SyncPlan {
    /// `provider.service.resource`, as messages name it.
    pub table: String,
    /// The same table, as the session resolves it (each part an identifier, never parsed).
    pub source: TableReference,
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
    /// The parameter listed once per parent value (`clean_room_name`), and where those values
    /// are read (`name` of `….clean_rooms`, per workspace).
    pub each: Option<EachPlan>,
}

/// Most keys in one `IN (...)` statement (each is one `get`; the statements run one after
/// another, each with the engine's concurrency).
pub const KEYS_PER_STATEMENT: usize = 500;

/// The name of the column of parent values [`SyncPlan::parents`] answers.
pub const PARENT_COLUMN: &str = "parent";

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
            Some(EachPlan {
                column: each.column.clone(),
                from: TableReference::full(
                    resource.provider.as_str(),
                    resource.service.as_str(),
                    from,
                ),
                from_column: column.to_string(),
            })
        });
        if let Some(each) = &each {
            columns.push(each.column.clone());
        }
        columns.push(workspace.clone());
        SyncPlan {
            table: resource.qualified_name(),
            source: TableReference::full(
                resource.provider.as_str(),
                resource.service.as_str(),
                resource.name.as_str(),
            ),
            columns,
            workspace,
            key: history.key.clone(),
            start: history.start.clone(),
            active: history.active_while_null.clone(),
            incremental: history.incremental(),
            each,
        }
    }

    /// The parent values of `workspace`, distinct and sorted, as the one column
    /// [`PARENT_COLUMN`] (`None` without `each`).
    pub async fn parents(
        &self,
        ctx: &SessionContext,
        workspace: &str,
    ) -> Result<Option<DataFrame>> {
        let Some(each) = &self.each else {
            return Ok(None);
        };
        let df = ctx.table(each.from.clone()).await?;
        let filter = equals(&df, &self.workspace, ScalarValue::from(workspace))?;
        let df = df
            .filter(filter)?
            .select(vec![ident(&each.from_column).alias(PARENT_COLUMN)])?
            .distinct()?
            .sort(vec![ident(PARENT_COLUMN).sort(true, false)])?;
        Ok(Some(df))
    }

    /// The new rows of `workspace` as this plan's `incremental` asks for them: since
    /// `since_ms` (`pushdown`), newest first (`order`: the caller stops below the mark), or
    /// all (`full`); under `each`, of the `parents` only (none: no statement).
    pub async fn listing(
        &self,
        ctx: &SessionContext,
        workspace: &str,
        since_ms: Option<i64>,
        parents: Option<&[ScalarValue]>,
    ) -> Result<Option<DataFrame>> {
        let since = match self.incremental {
            Incremental::Pushdown => since_ms,
            Incremental::Order | Incremental::Full => None,
        };
        let mut filters = Vec::new();
        if let (Some(each), Some(parents)) = (&self.each, parents) {
            if parents.is_empty() {
                return Ok(None);
            }
            filters.push((each.column.as_str(), parents.to_vec()));
        }
        let df = self.rows(ctx, workspace, since, &filters).await?;
        match self.stop(since_ms) {
            Some((start, _)) => Ok(Some(df.sort(vec![ident(start).sort(false, true)])?)),
            None => Ok(Some(df)),
        }
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

    /// The rows of `workspace` that started at or after `since_ms` (every row without it).
    pub async fn new_rows(
        &self,
        ctx: &SessionContext,
        workspace: &str,
        since_ms: Option<i64>,
    ) -> Result<DataFrame> {
        self.rows(ctx, workspace, since_ms, &[]).await
    }

    /// The rows of `workspace` with these keys (each a value per key column, in key order),
    /// one plan per value of the key's leading columns (`job_id = 'J1' AND job_run_id IN
    /// (...)`), which the engine pushes as one get per key; a key of one column is one plan.
    pub async fn rows_by_key(
        &self,
        ctx: &SessionContext,
        workspace: &str,
        keys: &[Vec<ScalarValue>],
    ) -> Result<Vec<DataFrame>> {
        let mut out = Vec::new();
        for (lead, last) in group_by_lead(keys, self.key.len()) {
            let mut filters: Vec<(&str, Vec<ScalarValue>)> = self
                .key
                .iter()
                .zip(lead)
                .map(|(column, value)| (column.as_str(), vec![value]))
                .collect();
            if let Some(column) = self.key.last() {
                filters.push((column.as_str(), last));
            }
            out.push(self.rows(ctx, workspace, None, &filters).await?);
        }
        Ok(out)
    }

    /// The kept columns of the rows of `workspace`, started at or after `since_ms`, whose
    /// `column` is one of its values for each of `filters`.
    async fn rows(
        &self,
        ctx: &SessionContext,
        workspace: &str,
        since_ms: Option<i64>,
        filters: &[(&str, Vec<ScalarValue>)],
    ) -> Result<DataFrame> {
        let df = ctx.table(self.source.clone()).await?;
        let mut predicate = equals(&df, &self.workspace, ScalarValue::from(workspace))?;
        if let Some(ms) = since_ms {
            let mark = ScalarValue::TimestampMillisecond(Some(ms), Some("UTC".into()));
            predicate = predicate.and(ident(&self.start).gt_eq(typed(&df, &self.start, mark)?));
        }
        for (column, values) in filters {
            predicate = predicate.and(one_of(&df, column, values)?);
        }
        df.filter(predicate)?
            .select(self.columns.iter().map(ident).collect::<Vec<_>>())
    }
}

/// `keys` (each `width` values) grouped by their leading values, in the order first seen:
/// each group's leading values and its last values.
fn group_by_lead(
    keys: &[Vec<ScalarValue>],
    width: usize,
) -> Vec<(Vec<ScalarValue>, Vec<ScalarValue>)> {
    let lead = width.saturating_sub(1);
    let mut groups: Vec<(Vec<ScalarValue>, Vec<ScalarValue>)> = Vec::new();
    let mut index: std::collections::HashMap<&[ScalarValue], usize> = Default::default();
    for key in keys.iter().filter(|k| k.len() == width && width > 0) {
        let (head, last) = key.split_at(lead);
        let at = *index.entry(head).or_insert_with(|| {
            groups.push((head.to_vec(), Vec::new()));
            groups.len() - 1
        });
        groups[at].1.push(last[0].clone());
    }
    groups
}

/// `value` as a literal of `column`'s type in `df` (so the predicate is on the column itself,
/// as the table's pushdown recognises it); a value that does not fit is an error naming it.
fn typed(df: &DataFrame, column: &str, value: ScalarValue) -> Result<Expr> {
    let field = df.schema().field_with_unqualified_name(column)?;
    let ty = field.data_type();
    if value.data_type() == *ty {
        return Ok(lit(value));
    }
    value.cast_to(ty).map(lit).map_err(|e| {
        DataFusionError::Plan(format!(
            "a value of {column} ({}) is not a {ty}: {e}",
            value.data_type()
        ))
    })
}

/// `column = value`.
fn equals(df: &DataFrame, column: &str, value: ScalarValue) -> Result<Expr> {
    Ok(ident(column).eq(typed(df, column, value)?))
}

/// `column IN (values)` (`column = value` for one).
fn one_of(df: &DataFrame, column: &str, values: &[ScalarValue]) -> Result<Expr> {
    if let [one] = values {
        return equals(df, column, one.clone());
    }
    let list = values
        .iter()
        .map(|v| typed(df, column, v.clone()))
        .collect::<Result<Vec<_>>>()?;
    Ok(ident(column).in_list(list, false))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::datatypes::{Field, Schema};
    use datafusion::datasource::MemTable;
    use datafusion::prelude::SessionConfig;

    use super::*;
    use jobsql_core::spec::load_embedded;

    fn plan_of(name: &str) -> (SyncPlan, Resource) {
        let set = load_embedded().unwrap();
        let r = set
            .resources
            .iter()
            .find(|r| r.qualified_name() == name)
            .unwrap();
        (
            SyncPlan::new(r, r.spec.history.as_ref().unwrap()),
            (**r).clone(),
        )
    }

    /// A session whose only table is an empty `resource` (its columns' Arrow types).
    fn session_of(resource: &Resource) -> SessionContext {
        let config = SessionConfig::new()
            .with_create_default_catalog_and_schema(true)
            .with_default_catalog_and_schema(&resource.provider, &resource.service);
        let ctx = SessionContext::new_with_config(config);
        let fields: Vec<Field> = resource
            .columns
            .iter()
            .map(|c| Field::new(&c.name, c.ty.to_arrow(), true))
            .collect();
        let table = MemTable::try_new(Arc::new(Schema::new(fields)), vec![vec![]]).unwrap();
        ctx.register_table(resource.name.as_str(), Arc::new(table))
            .unwrap();
        ctx
    }

    /// The plan as text, columns unqualified.
    fn shown(df: &DataFrame) -> String {
        let text = df.logical_plan().display_indent().to_string();
        [
            "databricks_workspace.jobs.job_runs.",
            "lakesail.jobs.job_runs.",
            "databricks_workspace.cleanrooms.task_runs.",
        ]
        .iter()
        .fold(text, |t, q| t.replace(q, ""))
    }

    #[tokio::test]
    async fn job_runs_reads_its_columns_per_workspace_and_since_a_mark() {
        let (plan, runs) = plan_of("databricks_workspace.jobs.job_runs");
        assert!(plan.columns.contains(&"tasks".to_string()));
        assert!(!plan.columns.contains(&"repair_history".to_string()));
        assert!(!plan.columns.contains(&"active_only".to_string()));
        assert_eq!(
            plan.columns.last().map(String::as_str),
            Some("deployment_name")
        );
        assert_eq!(plan.full_key(), ["deployment_name", "run_id"]);
        let ctx = session_of(&runs);
        let df = plan.new_rows(&ctx, "o'k", Some(5)).await.unwrap();
        let text = shown(&df);
        assert!(
            text.contains(r#"Filter: deployment_name = Utf8("o'k") AND start_time >= "#),
            "{text}"
        );
        let keys = [
            vec![ScalarValue::Int64(Some(1))],
            vec![ScalarValue::Int64(Some(2))],
        ];
        let by_key = plan.rows_by_key(&ctx, "w", &keys).await.unwrap();
        assert_eq!(by_key.len(), 1);
        let text = shown(&by_key[0]);
        assert!(
            text.contains(r#"deployment_name = Utf8("w") AND run_id IN ([Int64(1), Int64(2)])"#),
            "{text}"
        );
    }

    #[tokio::test]
    async fn a_value_is_a_literal_whatever_it_holds() {
        let (plan, runs) = plan_of("databricks_workspace.jobs.job_runs");
        let ctx = session_of(&runs);
        let hostile = "x'); DELETE FROM databricks_workspace.jobs.job_runs; --";
        let df = plan.new_rows(&ctx, hostile, None).await.unwrap();
        let text = shown(&df);
        assert_eq!(text.matches("Filter:").count(), 1, "{text}");
        assert!(!text.contains("Dml"), "{text}");
        // A key of the wrong type is refused by name, not pasted.
        let keys = [vec![ScalarValue::Binary(Some(b"1); DELETE".to_vec()))]];
        let e = plan.rows_by_key(&ctx, "w", &keys).await.unwrap_err();
        assert!(e.to_string().contains("a value of run_id"), "{e}");
    }

    #[tokio::test]
    async fn lakesail_lists_newest_first_and_task_runs_per_clean_room() {
        let (sail, resource) = plan_of("lakesail.jobs.job_runs");
        assert_eq!(sail.full_key(), ["endpoint", "job_id", "job_run_id"]);
        let ctx = session_of(&resource);
        let listing = sail.listing(&ctx, "e", Some(5), None).await.unwrap();
        let text = shown(&listing.unwrap());
        assert!(
            text.starts_with("Sort: created_at DESC NULLS FIRST"),
            "{text}"
        );
        let s = |v: &str| ScalarValue::from(v);
        let keys = [
            vec![s("J1"), s("R1")],
            vec![s("J2"), s("R3")],
            vec![s("J1"), s("R2")],
        ];
        let by_key = sail.rows_by_key(&ctx, "e", &keys).await.unwrap();
        assert_eq!(by_key.len(), 2);
        let text = shown(&by_key[0]);
        assert!(
            text.contains(r#"job_id = Utf8("J1") AND job_run_id IN ([Utf8("R1"), Utf8("R2")])"#),
            "{text}"
        );
        assert!(sail.fetches_active());

        let (rooms, resource) = plan_of("databricks_workspace.cleanrooms.task_runs");
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
        let each = rooms.each.as_ref().unwrap();
        assert_eq!(
            each.from.to_string(),
            "databricks_workspace.cleanrooms.clean_rooms"
        );
        let ctx = session_of(&resource);
        let listing = rooms
            .listing(&ctx, "w", Some(5), Some(&[s("a"), s("b")]))
            .await
            .unwrap();
        let text = shown(&listing.unwrap());
        assert!(
            text.contains(r#"clean_room_name IN ([Utf8("a"), Utf8("b")])"#),
            "{text}"
        );
        assert!(
            rooms
                .listing(&ctx, "w", None, Some(&[]))
                .await
                .unwrap()
                .is_none(),
            "no room: no listing"
        );
    }

    #[test]
    fn keys_group_by_their_leading_values_in_the_order_seen() {
        let i = |v: i64| ScalarValue::Int64(Some(v));
        let keys = [vec![i(2), i(1)], vec![i(1), i(5)], vec![i(2), i(3)]];
        let groups = group_by_lead(&keys, 2);
        assert_eq!(
            groups,
            [(vec![i(2)], vec![i(1), i(3)]), (vec![i(1)], vec![i(5)])]
        );
        assert_eq!(
            group_by_lead(&[vec![i(7)], vec![i(8)]], 1),
            [(vec![], vec![i(7), i(8)])]
        );
    }
}
