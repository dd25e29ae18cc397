//! Catalog, schema, EXPLAIN, types and errors.

use datafusion::arrow::util::pretty::pretty_format_batches;

use super::common::*;

#[tokio::test]
async fn show_tables_lists_every_resource_by_stackql_names() {
    let env = env(50).await;
    let (batches, requests) = env
        .run("SELECT table_catalog, table_schema, table_name FROM information_schema.tables WHERE table_catalog = 'databricks_workspace' AND table_schema <> 'information_schema' ORDER BY table_schema, table_name")
        .await;
    let names: Vec<String> = (0..rows(&batches))
        .map(|i| {
            format!(
                "{}.{}.{}",
                strings(&batches, 0)[i].clone().unwrap_or_default(),
                strings(&batches, 1)[i].clone().unwrap_or_default(),
                strings(&batches, 2)[i].clone().unwrap_or_default()
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            "databricks_workspace.cleanrooms.clean_rooms",
            "databricks_workspace.cleanrooms.task_runs",
            "databricks_workspace.jobs.job_permission_levels",
            "databricks_workspace.jobs.job_permissions",
            "databricks_workspace.jobs.job_run_output",
            "databricks_workspace.jobs.job_runs",
            "databricks_workspace.jobs.job_task_runs",
            "databricks_workspace.jobs.jobs",
            "databricks_workspace.jobs.policy_compliance_for_jobs"
        ]
    );
    assert!(requests.is_empty(), "listing tables calls no API");
    let (batches, _) = env.run("SHOW TABLES").await;
    assert!(rows(&batches) >= 2);
}

#[tokio::test]
async fn describe_has_every_seed_field_with_typed_times_and_objects() {
    let env = env(50).await;
    let (batches, requests) = env.run("DESCRIBE databricks_workspace.jobs.job_runs").await;
    assert!(requests.is_empty());
    let names = strings(&batches, 0);
    let types = strings(&batches, 1);
    let type_of = |n: &str| {
        let i = names
            .iter()
            .position(|x| x.as_deref() == Some(n))
            .unwrap_or_else(|| panic!("no column {n}"));
        types[i].clone().unwrap_or_default()
    };
    for seed_field in [
        "effective_usage_policy_id",
        "job_id",
        "job_run_id",
        "original_attempt_run_id",
        "run_id",
        "creator_user_name",
        "run_name",
        "attempt_number",
        "cleanup_duration",
        "cluster_instance",
        "cluster_spec",
        "description",
        "effective_performance_target",
        "end_time",
        "execution_duration",
        "git_source",
        "has_more",
        "iterations",
        "job_clusters",
        "job_parameters",
        "next_page_token",
        "number_in_job",
        "overriding_parameters",
        "queue_duration",
        "repair_history",
        "run_duration",
        "run_page_url",
        "run_type",
        "schedule",
        "setup_duration",
        "start_time",
        "state",
        "status",
        "tasks",
        "trigger",
        "trigger_info",
        "deployment_name",
        "active_only",
        "completed_only",
        "expand_tasks",
        "include_history",
        "include_resolved_values",
        "start_time_from",
        "start_time_to",
    ] {
        type_of(seed_field);
    }
    assert!(
        type_of("start_time").starts_with("Timestamp(ms"),
        "{}",
        type_of("start_time")
    );
    assert_eq!(type_of("run_id"), "Int64");
    assert_eq!(type_of("run_duration"), "Int64");
    assert_eq!(type_of("cluster_spec"), "Utf8");
    assert!(type_of("state").starts_with("Struct"));
    assert!(type_of("tasks").starts_with("List"));
}

#[tokio::test]
async fn job_task_runs_has_the_run_s_columns_then_the_task_s_typed() {
    let env = env(50).await;
    let (batches, requests) = env
        .run("DESCRIBE databricks_workspace.jobs.job_task_runs")
        .await;
    assert!(requests.is_empty());
    let names = strings(&batches, 0);
    let types = strings(&batches, 1);
    let type_of = |n: &str| {
        let i = names
            .iter()
            .position(|x| x.as_deref() == Some(n))
            .unwrap_or_else(|| panic!("no column {n}"));
        types[i].clone().unwrap_or_default()
    };
    for (column, ty) in [
        ("job_id", "Int64"),
        ("job_run_id", "Int64"),
        ("run_name", "Utf8"),
        ("job_run_start_time", "Timestamp(ms"),
        ("task_key", "Utf8"),
        ("run_id", "Int64"),
        ("attempt_number", "Int64"),
        ("task_type", "Utf8"),
        ("life_cycle_state", "Utf8"),
        ("result_state", "Utf8"),
        ("termination_code", "Utf8"),
        ("start_time", "Timestamp(ms"),
        ("end_time", "Timestamp(ms"),
        ("queue_duration", "Int64"),
        ("run_if", "Utf8"),
        ("existing_cluster_id", "Utf8"),
        ("job_cluster_key", "Utf8"),
        ("spark_version", "Utf8"),
        ("num_workers", "Int64"),
        ("autoscale_max_workers", "Int64"),
        ("libraries", "Utf8"),
    ] {
        let got = type_of(column);
        assert!(got.starts_with(ty), "{column}: {got}");
    }
    for structured in [
        "state",
        "status",
        "new_cluster",
        "cluster_instance",
        "depends_on",
    ] {
        let ty = type_of(structured);
        assert!(
            ty.starts_with("Struct") || ty.starts_with("List"),
            "{structured}: {ty}"
        );
    }
    // job_runs' task struct carries the task's cluster, libraries and task-type objects.
    let (batches, _) = env.run("DESCRIBE databricks_workspace.jobs.job_runs").await;
    let names = strings(&batches, 0);
    let tasks = names
        .iter()
        .position(|x| x.as_deref() == Some("tasks"))
        .expect("tasks");
    let ty = strings(&batches, 1)[tasks].clone().unwrap_or_default();
    for field in [
        "new_cluster",
        "autoscale",
        "libraries",
        "notebook_task",
        "sql_task",
        "python_wheel_task",
    ] {
        assert!(ty.contains(field), "tasks lacks {field}: {ty}");
    }
}

#[tokio::test]
async fn explain_shows_the_planned_requests_without_calling_the_api() {
    let env = env(50).await;
    let (batches, requests) = env
        .run("EXPLAIN SELECT run_id FROM databricks_workspace.jobs.job_runs WHERE job_id IN (1, 2) AND start_time >= TIMESTAMP '2026-01-01T00:00:00Z' LIMIT 3")
        .await;
    let text = pretty_format_batches(&batches).expect("format").to_string();
    assert!(text.contains("GET /api/2.2/jobs/runs/list?"), "{text}");
    assert!(
        text.contains("job_id=1") && text.contains("job_id=2"),
        "{text}"
    );
    assert!(text.contains("start_time_from=1767225600000"), "{text}");
    assert!(text.contains("limit=3"), "{text}");
    assert!(requests.is_empty(), "EXPLAIN sends nothing: {requests:?}");
}

#[tokio::test]
async fn task_runs_without_clean_room_name_says_what_to_add() {
    let env = env(50).await;
    let message = env
        .error("SELECT * FROM databricks_workspace.cleanrooms.task_runs")
        .await;
    assert!(message.contains("clean_room_name"), "{message}");
    assert!(env.emulator.requests().is_empty());
}

#[tokio::test]
async fn end_time_of_active_runs_is_null_not_1970() {
    let env = env(300).await;
    let (batches, _) = env
        .run("SELECT count(*) FROM databricks_workspace.jobs.job_runs WHERE end_time < TIMESTAMP '1971-01-01T00:00:00Z'")
        .await;
    assert_eq!(ints(&batches, 0), [Some(0)]);
    let (batches, _) = env
        .run("SELECT count(*) FROM databricks_workspace.jobs.job_runs WHERE active_only = true AND end_time IS NULL")
        .await;
    let (all_active, _) = env
        .run("SELECT count(*) FROM databricks_workspace.jobs.job_runs WHERE active_only = true")
        .await;
    assert_eq!(ints(&batches, 0), ints(&all_active, 0));
}

#[tokio::test]
async fn typed_fields_and_json_text_are_readable_in_sql() {
    let env = env(200).await;
    let (batches, _) = env
        .run("SELECT state['life_cycle_state'], status['state'], json_get_str(cluster_spec, 'existing_cluster_id') IS NOT NULL OR cluster_spec IS NOT NULL FROM databricks_workspace.jobs.job_runs LIMIT 40")
        .await;
    assert_eq!(rows(&batches), 40);
    assert!(strings(&batches, 0).iter().all(|s| s.is_some()));
}
