//! EXEC → cancel, cancel_all, repair, export, get_output (methods from the spec).

use super::common::*;
use super::delete::finished_runs;

#[tokio::test]
async fn exec_cancel_turns_a_running_run_canceled() {
    let env = env().await;
    let (rows, _) = env
        .run(&format!(
            "SELECT run_id FROM {RUNS} WHERE active_only = true AND status['state'] = 'RUNNING' LIMIT 1"
        ))
        .await;
    let run = ints(&rows, 0)[0].expect("a running run");
    // StackQL's form: the body in @@json, a comment, no commas.
    let sql = format!(
        "EXEC {RUNS}.cancel @deployment_name='emu' --required\n@@json='{{\"run_id\": {run}}}'"
    );
    let (batches, requests) = env.run(&sql).await;
    // The API answers {}: one row naming the run (its declared column, from_param).
    assert_eq!(
        ints(&batches, 0),
        [Some(run)],
        "one row: the run whose cancel was requested"
    );
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].path, "/api/2.2/jobs/runs/cancel");
    assert_eq!(
        requests[0].body.as_ref().expect("body")["run_id"].as_i64(),
        Some(run)
    );
    env.wait_for(run, "state['result_state']", "CANCELED").await;
}

#[tokio::test]
async fn exec_cancel_all_coerces_template_strings_to_the_spec_types() {
    let env = env().await;
    let job = env.emulator.notable().job_ids[0];
    let sql = format!(
        "EXEC {RUNS}.cancel_all @@json='{{\"job_id\": \"{job}\", \"all_queued_runs\": \"false\"}}'"
    );
    let (batches, requests) = env.run(&sql).await;
    assert_eq!(ints(&batches, 0), [Some(job)], "the job asked for");
    let body = requests[0].body.as_ref().expect("body");
    assert_eq!(body["job_id"].as_i64(), Some(job), "{body}");
    assert_eq!(body["all_queued_runs"].as_bool(), Some(false), "{body}");
    let (rows, _) = env
        .run(&format!(
            "SELECT count(*) FROM {RUNS} WHERE job_id = {job} AND active_only = true"
        ))
        .await;
    assert_eq!(ints(&rows, 0), [Some(0)], "no active run left");
}

#[tokio::test]
async fn exec_repair_adds_to_repair_history() {
    let env = env().await;
    let tasks =
        r#"[{"task_key":"load"},{"task_key":"will_fail","depends_on":[{"task_key":"load"}]}]"#;
    let (batches, _) = env
        .run(&format!(
            "INSERT INTO {RUNS} (data__run_name, data__tasks) VALUES ('to-repair', '{tasks}') RETURNING run_id"
        ))
        .await;
    let run = ints(&batches, 0)[0].expect("run id");
    env.wait_for(run, "state['result_state']", "FAILED").await;
    let (batches, requests) = env
        .run(&format!(
            "EXEC {RUNS}.repair @run_id={run}, @rerun_tasks='[\"will_fail\"]'"
        ))
        .await;
    let repair_id = ints(&batches, 0)[0].expect("the result column repair_id");
    let body = requests[0].body.as_ref().expect("body");
    assert_eq!(body["run_id"].as_i64(), Some(run));
    assert_eq!(
        body["rerun_tasks"],
        serde_json::json!(["will_fail"]),
        "JSON text sent as JSON"
    );
    let (rows, _) = env
        .run(&format!(
            "SELECT h['type'], h['id'] FROM (SELECT unnest(repair_history) AS h FROM {RUNS} WHERE run_id = {run})"
        ))
        .await;
    assert_eq!(
        strings(&rows, 0),
        [Some("ORIGINAL".into()), Some("REPAIR".into())]
    );
    assert_eq!(ints(&rows, 1)[1], Some(repair_id));
}

#[tokio::test]
async fn exec_export_returns_one_row_per_view() {
    let env = env().await;
    let run = finished_runs(&env, &["to-export"]).await[0];
    let sql = format!(
        "EXEC {RUNS}.export\n@run_id='{run}' --required,\n@deployment_name='emu' --required,\n@views_to_export='ALL'\n;"
    );
    let (batches, requests) = env.run(&sql).await;
    assert_eq!(
        strings(&batches, 0),
        [Some("main".into()), Some("main dashboard".into())]
    );
    assert_eq!(
        strings(&batches, 1),
        [Some("NOTEBOOK".into()), Some("DASHBOARD".into())]
    );
    assert!(strings(&batches, 2)[0]
        .as_deref()
        .unwrap_or("")
        .contains("<html>"));
    assert_eq!(requests[0].method, "GET");
    assert!(requests[0]
        .query
        .contains(&("views_to_export".into(), "ALL".into())));
}

#[tokio::test]
async fn exec_get_output_returns_the_output_as_a_row() {
    let env = env().await;
    let run = finished_runs(&env, &["with-output"]).await[0];
    let (batches, _) = env
        .run(&format!("EXEC {RUNS}.get_output @run_id = {run}"))
        .await;
    let schema = batches[0].schema();
    let i = schema.index_of("metadata").expect("metadata column");
    let metadata = strings(&batches, i)[0].clone().expect("metadata");
    assert!(metadata.contains(&run.to_string()), "{metadata}");
}

#[tokio::test]
async fn exec_mistakes_are_named_and_send_nothing() {
    let env = env().await;
    let cases = [
        (
            format!("EXEC {RUNS}.restart @run_id=1"),
            "has no method `restart` (methods: cancel, cancel_all, repair, export, get_output)",
        ),
        (
            format!("EXEC {RUNS}.cancel @deployment_name='emu'"),
            "missing required parameter `@run_id`",
        ),
        (
            format!("EXEC {RUNS}.cancel @run=1"),
            "unknown parameter `@run` (valid: @run_id, @deployment_name, @@json)",
        ),
        (
            format!("EXEC {RUNS}.cancel @run_id='seven'"),
            "run_id expects an integer, got 'seven'",
        ),
        (
            format!("EXEC {RUNS}.export @run_id=1 @views_to_export='PDF'"),
            "views_to_export must be one of CODE, DASHBOARDS, ALL",
        ),
        (
            format!("EXEC {RUNS}.repair @@json='[1]'"),
            "@@json is not a JSON object",
        ),
        (
            "EXEC databricks_workspace.jobs.nope.cancel @run_id=1".to_string(),
            "not an API table",
        ),
        (
            format!("EXEC {RUNS}.cancel @run_id 1"),
            "expected '=' after @run_id",
        ),
    ];
    for (sql, expected) in cases {
        let (message, requests) = env.fail(&sql).await;
        assert!(message.contains(expected), "{sql}\n→ {message}");
        assert!(requests.is_empty(), "{sql} sent {requests:?}");
    }
}

#[tokio::test]
async fn exec_runs_in_a_script_between_other_statements() {
    let env = env().await;
    let run = finished_runs(&env, &["scripted"]).await[0];
    let script = format!(
        "SELECT 1;\nEXEC {RUNS}.export @run_id = {run};\nSELECT run_name FROM {RUNS} WHERE run_id = {run};"
    );
    let results = jobsql_core::session::run_sql(&env.ctx, &script)
        .await
        .expect("script runs");
    assert_eq!(results.len(), 3);
    assert_eq!(strings(&results[1].batches, 1), [Some("NOTEBOOK".into())]);
    assert_eq!(strings(&results[2].batches, 0), [Some("scripted".into())]);
}

/// Every EXEC method of every built-in spec declares its result columns (EXEC's answer is
/// columns, never the body as one JSON cell), and an EXEC's result has exactly them.
#[tokio::test]
async fn every_exec_method_declares_its_result_columns() {
    let specs = jobsql_core::spec::load_embedded().expect("the built-in specs load");
    let mut checked = 0;
    for resource in &specs.resources {
        for method in &resource.spec.exec {
            let columns = resource
                .method_columns
                .get(method)
                .cloned()
                .unwrap_or_default();
            assert!(
                !columns.is_empty(),
                "{}.{method} declares no result columns",
                resource.qualified_name()
            );
            checked += 1;
        }
    }
    assert!(checked >= 9, "{checked} EXEC methods");
    // An EXEC whose API answers {} (runs/cancel-all) still has its declared columns.
    let env = env().await;
    let job = env.emulator.notable().job_ids[0];
    let (batches, _) = env
        .run(&format!("EXEC {RUNS}.cancel_all @job_id = {job}"))
        .await;
    let names: Vec<String> = batches[0]
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(names, ["job_id", "all_queued_runs"]);
    assert_eq!(ints(&batches, 0), [Some(job)]);
    assert_eq!(strings(&batches, 1), [None], "not sent: NULL");
}
