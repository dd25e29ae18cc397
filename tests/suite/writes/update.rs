//! UPDATE → `jobs/update`, REPLACE → `jobs/reset`: the documented bodies, sent once per row the
//! same WHERE selects — never for a row it does not — in StackQL's form (`SET
//! data__new_settings = ...`) and SQL's (`SET name = ...`, `SET settings = ...`); refusals
//! before any call; dry runs; the write guard; and an UPDATE DataFusion plans itself.

use std::collections::BTreeSet;

use datafusion::prelude::SessionContext;
use jobsql_emulator::RecordedRequest;
use proptest::prelude::*;
use serde_json::{json, Value};

use super::common::*;

const JOBS: &str = "databricks_workspace.jobs.jobs";

/// The jobs of the emulator, by id.
async fn job_ids(env: &Env) -> Vec<i64> {
    let (rows, _) = env
        .run(&format!("SELECT job_id FROM {JOBS} ORDER BY job_id"))
        .await;
    ints(&rows, 0).into_iter().flatten().collect()
}

/// The bodies of the requests to `path`, in order.
fn bodies(requests: &[RecordedRequest], path: &str) -> Vec<Value> {
    to(requests, path)
        .iter()
        .map(|r| r.body.clone().unwrap_or(Value::Null))
        .collect()
}

/// A job's settings as jobs/get answers them.
async fn settings(env: &Env, job: i64) -> Value {
    let (rows, _) = env
        .run(&format!("SELECT settings FROM {JOBS} WHERE job_id = {job}"))
        .await;
    let text = strings(&rows, 0)[0].clone().expect("settings");
    serde_json::from_str(&text).expect("JSON settings")
}

#[tokio::test]
async fn update_sends_jobs_update_with_the_documented_body() {
    let env = env().await;
    let job = job_ids(&env).await[0];
    let before = settings(&env, job).await;

    // StackQL's form: the body parameter itself.
    let (rows, requests) = env
        .run(&format!(
            "UPDATE {JOBS} SET data__new_settings = '{{\"max_concurrent_runs\": 3}}' \
             WHERE job_id = {job}"
        ))
        .await;
    assert_eq!(count(&rows), 1);
    assert_eq!(
        bodies(&requests, "/jobs/update"),
        [json!({"job_id": job, "new_settings": {"max_concurrent_runs": 3}})]
    );
    assert_eq!(mutations(&requests).len(), 1, "{requests:?}");
    assert_eq!(to(&requests, "/jobs/get").len(), 1, "the row is read first");
    let after = settings(&env, job).await;
    assert_eq!(after["max_concurrent_runs"], 3);
    assert_eq!(
        after["tasks"], before["tasks"],
        "a partial update keeps the rest"
    );

    // SQL's form: a column read from a top-level field of settings.
    let (rows, requests) = env
        .run(&format!(
            "UPDATE {JOBS} SET name = 'renamed' WHERE job_id = {job}"
        ))
        .await;
    assert_eq!(count(&rows), 1);
    assert_eq!(
        bodies(&requests, "/jobs/update"),
        [json!({"job_id": job, "new_settings": {"name": "renamed"}})]
    );
    let (rows, _) = env
        .run(&format!("SELECT name FROM {JOBS} WHERE job_id = {job}"))
        .await;
    assert_eq!(strings(&rows, 0), [Some("renamed".to_string())]);

    // A typed column read from a top-level field: its value, typed.
    let (_, requests) = env
        .run(&format!(
            "UPDATE {JOBS} SET max_concurrent_runs = 4, timeout_seconds = 600 WHERE job_id = {job}"
        ))
        .await;
    assert_eq!(
        bodies(&requests, "/jobs/update"),
        [
            json!({"job_id": job, "new_settings": {"max_concurrent_runs": 4, "timeout_seconds": 600}})
        ]
    );
    let (rows, _) = env
        .run(&format!(
            "SELECT max_concurrent_runs FROM {JOBS} WHERE job_id = {job}"
        ))
        .await;
    assert_eq!(ints(&rows, 0), [Some(4)]);

    // = NULL removes the field (fields_to_remove), with no new_settings.
    let (_, requests) = env
        .run(&format!(
            "UPDATE {JOBS} SET data__fields_to_remove = '[\"max_concurrent_runs\"]' \
             WHERE job_id = {job}"
        ))
        .await;
    assert_eq!(
        bodies(&requests, "/jobs/update"),
        [json!({"job_id": job, "fields_to_remove": ["max_concurrent_runs"]})]
    );
    let (_, requests) = env
        .run(&format!(
            "UPDATE {JOBS} SET name = NULL WHERE job_id = {job}"
        ))
        .await;
    assert_eq!(
        bodies(&requests, "/jobs/update"),
        [json!({"job_id": job, "fields_to_remove": ["name"]})]
    );
}

#[tokio::test]
async fn replace_sends_jobs_reset_and_the_settings_are_the_new_ones_whole() {
    let env = env().await;
    let job = job_ids(&env).await[1];
    let new = json!({"name": "fresh", "max_concurrent_runs": 1});
    for form in ["data__new_settings", "settings"] {
        let (rows, requests) = env
            .run(&format!(
                "REPLACE {JOBS} SET {form} = '{new}' WHERE job_id = {job}"
            ))
            .await;
        assert_eq!(count(&rows), 1, "{form}");
        assert_eq!(
            bodies(&requests, "/jobs/reset"),
            [json!({"job_id": job, "new_settings": new})],
            "{form}"
        );
        assert!(to(&requests, "/jobs/update").is_empty());
        let after = settings(&env, job).await;
        assert_eq!(after["name"], "fresh");
        assert!(
            after.get("tasks").is_none_or(|t| t == &json!([])),
            "reset drops what it is not given: {after}"
        );
    }
    // UPDATE OR REPLACE is the same statement.
    let (_, requests) = env
        .run(&format!(
            "UPDATE OR REPLACE {JOBS} SET name = 'again' WHERE job_id = {job}"
        ))
        .await;
    assert_eq!(
        bodies(&requests, "/jobs/reset"),
        [json!({"job_id": job, "new_settings": {"name": "again"}})]
    );
}

#[tokio::test]
async fn refusals_come_before_any_request() {
    let env = env().await;
    let job = job_ids(&env).await[0];
    let cases = [
        (format!("UPDATE {JOBS} SET name = 'x'"), "without WHERE would update every row"),
        (
            format!("UPDATE {JOBS} SET name = 'x' WHERE deployment_name = 'emu'"),
            "names only the workspace",
        ),
        (format!("REPLACE {JOBS} SET name = 'x' WHERE true"), "names none of its columns"),
        (
            format!("UPDATE {JOBS} SET name = 'x' WHERE job_id > 0 LIMIT 1"),
            "LIMIT without ORDER BY",
        ),
        (
            format!("UPDATE {JOBS} SET job_id = 5 WHERE job_id = {job}"),
            "cannot set `job_id`: it names the row",
        ),
        (
            format!("UPDATE {JOBS} SET creator_user_name = 'x' WHERE job_id = {job}"),
            "cannot set `creator_user_name` (settable: data__fields_to_remove, data__new_settings, name, settings, description, tags,",
        ),
        (
            format!("UPDATE {JOBS} SET data__nope = 1 WHERE job_id = {job}"),
            "cannot set `data__nope`",
        ),
        (
            format!("UPDATE {JOBS} SET settings = '{{}}', name = 'x' WHERE job_id = {job}"),
            "the whole object (settings) and some of its fields are both set",
        ),
        (
            format!("UPDATE {JOBS} SET data__new_settings = 'not json' WHERE job_id = {job}"),
            "data__new_settings is not valid JSON",
        ),
        (
            format!("REPLACE {JOBS} SET data__new_settings = NULL WHERE job_id = {job}"),
            "missing required parameter `data__new_settings` (job_id",
        ),
        (
            format!("REPLACE {RUNS} SET run_name = 'x' WHERE run_id = 1"),
            "REPLACE is not supported by databricks_workspace.jobs.job_runs",
        ),
        (
            "REPLACE information_schema.tables SET table_name = 'x' WHERE true".to_string(),
            "is not an API table",
        ),
    ];
    for (sql, want) in cases {
        let (message, requests) = env.fail(&sql).await;
        assert!(message.contains(want), "{sql}: {message}");
        assert!(mutations(&requests).is_empty(), "{sql}: {requests:?}");
    }
}

#[tokio::test]
async fn the_rows_updated_are_the_rows_the_same_where_selects() {
    let env = env().await;
    let jobs = job_ids(&env).await;
    // A subquery: the jobs with a run in the listing's first page.
    let select = format!(
        "SELECT job_id FROM {JOBS} WHERE job_id IN \
         (SELECT job_id FROM {RUNS} WHERE job_id IS NOT NULL ORDER BY start_time DESC LIMIT 5)"
    );
    let (rows, _) = env.run(&select).await;
    let want: BTreeSet<i64> = ints(&rows, 0).into_iter().flatten().collect();
    assert!(
        !want.is_empty() && want.len() < jobs.len(),
        "{want:?} of {jobs:?}"
    );
    let (rows, requests) = env
        .run(&format!(
            "UPDATE {JOBS} SET data__new_settings = '{{\"max_concurrent_runs\": 7}}' \
             WHERE job_id IN (SELECT job_id FROM {RUNS} WHERE job_id IS NOT NULL \
             ORDER BY start_time DESC LIMIT 5)"
        ))
        .await;
    let sent: BTreeSet<i64> = bodies(&requests, "/jobs/update")
        .iter()
        .filter_map(|b| b["job_id"].as_i64())
        .collect();
    assert_eq!(sent, want);
    assert_eq!(count(&rows), want.len() as u64);

    // A job that does not exist is no row: nothing sent, nothing changed.
    let (rows, requests) = env
        .run(&format!(
            "UPDATE {JOBS} SET name = 'x' WHERE job_id = 987654321"
        ))
        .await;
    assert_eq!(count(&rows), 0);
    assert!(mutations(&requests).is_empty(), "{requests:?}");
}

#[tokio::test]
async fn a_dry_run_sends_nothing_and_the_guard_counts_rows() {
    let env = env().await;
    let jobs = job_ids(&env).await;
    let (ctx, log) = session(&env.emulator, true);
    env.emulator.clear_requests();
    let rows = query(
        &ctx,
        &format!(
            "REPLACE {JOBS} SET settings = '{{\"name\": \"n\"}}' WHERE job_id IN ({}, {})",
            jobs[0], jobs[1]
        ),
    )
    .await;
    assert_eq!(count(&rows), 2);
    assert!(mutations(&env.emulator.requests()).is_empty());
    let planned: Vec<String> = log
        .expect("log")
        .take()
        .iter()
        .map(|p| p.to_string())
        .collect();
    assert_eq!(planned.len(), 2, "{planned:?}");
    assert!(
        planned.iter().all(|p| p.contains("/api/2.2/jobs/reset {")),
        "{planned:?}"
    );

    let (ctx, _) = session_with(&env.emulator, false, Default::default(), |r| {
        r.with_max_writes(1)
    });
    env.emulator.clear_requests();
    let message = error(
        &ctx,
        &format!(
            "UPDATE {JOBS} SET name = 'n' WHERE job_id IN ({}, {})",
            jobs[0], jobs[1]
        ),
    )
    .await;
    assert!(
        message.contains("would change 2 rows, more than --max-writes 1"),
        "{message}"
    );
    assert!(mutations(&env.emulator.requests()).is_empty());
}

#[tokio::test]
async fn an_update_datafusion_plans_reaches_the_same_calls() {
    let env = env().await;
    let job = job_ids(&env).await[2];
    // DataFusion's own planner (no jobsql statement runner): the analyzer rule takes it.
    let ctx: &SessionContext = &env.ctx;
    env.emulator.clear_requests();
    let rows = ctx
        .sql(&format!(
            "UPDATE {JOBS} SET name = 'planned' WHERE job_id = {job}"
        ))
        .await
        .expect("planned")
        .collect()
        .await
        .expect("ran");
    assert_eq!(count(&rows), 1);
    let requests = env.emulator.requests();
    assert_eq!(
        bodies(&requests, "/jobs/update"),
        [json!({"job_id": job, "new_settings": {"name": "planned"}})]
    );
    let refused = match ctx.sql(&format!("UPDATE {JOBS} SET name = 'all'")).await {
        Ok(frame) => frame.collect().await.map(|_| ()),
        Err(e) => Err(e),
    };
    let message = refused.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(
        message.contains("without WHERE would update every row"),
        "{message}"
    );
}

/// Any set of job ids, some that do not exist, named in WHERE: one planned jobs/update per
/// existing job named, none for the others (a dry run, so the jobs stay as they are).
#[test]
fn any_set_of_keys_updates_exactly_the_existing_ones() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let env = runtime.block_on(env());
    let jobs = runtime.block_on(job_ids(&env));
    let (ctx, log) = session(&env.emulator, true);
    let log = log.expect("log");
    let mut config = ProptestConfig::with_cases(24);
    config.failure_persistence = None;
    let ids = jobs.clone();
    proptest!(config, |(picked in proptest::collection::vec(0usize..jobs.len() + 4, 1..6))| {
        let named: Vec<i64> = picked
            .iter()
            .map(|&i| ids.get(i).copied().unwrap_or(900_000 + i as i64))
            .collect();
        let list = named.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
        let sql = format!("UPDATE {JOBS} SET data__new_settings = '{{\"max_concurrent_runs\": 2}}' WHERE job_id IN ({list})");
        let rows = runtime.block_on(query(&ctx, &sql));
        let planned: BTreeSet<i64> = log
            .take()
            .iter()
            .filter_map(|p| p.request.body.as_ref().and_then(|b| b["job_id"].as_i64()))
            .collect();
        let want: BTreeSet<i64> = named.iter().copied().filter(|j| ids.contains(j)).collect();
        prop_assert_eq!(&planned, &want);
        prop_assert_eq!(count(&rows), want.len() as u64);
    });
}

/// `job_permissions`: UPDATE → PATCH, REPLACE → PUT of `/api/2.0/permissions/jobs/{job_id}`,
/// one call per job however many of its principals' rows the WHERE selects; the new entry is
/// then what SELECT reads.
#[tokio::test]
async fn permissions_update_patches_and_replace_puts_once_per_job() {
    let env = env().await;
    let job = job_ids(&env).await[0];
    let permissions = "databricks_workspace.jobs.job_permissions";
    let (rows, _) = env
        .run(&format!(
            "SELECT count(*) FROM {permissions} WHERE job_id = {job}"
        ))
        .await;
    let principals = crate::support::batches::ints(&rows, 0)[0].expect("a count");
    assert!(principals > 1, "several principals: {principals}");
    let grant = json!([{"group_name": "data-eng", "permission_level": "CAN_MANAGE_RUN"}]);
    let (rows, requests) = env
        .run(&format!(
            "UPDATE {permissions} SET data__access_control_list = '{grant}' WHERE job_id = {job}"
        ))
        .await;
    assert_eq!(count(&rows), 1, "one job changed");
    let sent: Vec<&RecordedRequest> = requests.iter().filter(|r| r.method == "PATCH").collect();
    assert_eq!(sent.len(), 1, "{requests:?}");
    assert_eq!(sent[0].path, format!("/api/2.0/permissions/jobs/{job}"));
    assert_eq!(sent[0].body, Some(json!({"access_control_list": grant})));
    let (rows, _) = env
        .run(&format!(
            "SELECT group_name FROM {permissions} WHERE job_id = {job} AND group_name = 'data-eng'"
        ))
        .await;
    assert_eq!(strings(&rows, 0), [Some("data-eng".to_string())]);

    // REPLACE: the direct entries are the ones given (with the owner, which PUT requires).
    let (rows, _) = env
        .run(&format!(
            "SELECT user_name FROM (SELECT user_name, unnest(all_permissions) AS p \
             FROM {permissions} WHERE job_id = {job}) WHERE p['permission_level'] = 'IS_OWNER'"
        ))
        .await;
    let owner = strings(&rows, 0)[0].clone().expect("an owner");
    let acl = json!([{"user_name": owner, "permission_level": "IS_OWNER"}]);
    let (_, requests) = env
        .run(&format!(
            "REPLACE {permissions} SET data__access_control_list = '{acl}' WHERE job_id = {job}"
        ))
        .await;
    let sent: Vec<&RecordedRequest> = requests.iter().filter(|r| r.method == "PUT").collect();
    assert_eq!(sent.len(), 1, "{requests:?}");
    assert_eq!(sent[0].body, Some(json!({"access_control_list": acl})));
    let (rows, _) = env
        .run(&format!(
            "SELECT count(*) FROM {permissions} WHERE job_id = {job} AND group_name = 'data-eng'"
        ))
        .await;
    assert_eq!(
        crate::support::batches::ints(&rows, 0),
        [Some(0)],
        "the PATCHed entry is gone"
    );
}
