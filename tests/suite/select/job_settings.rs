//! `jobs`' typed settings columns (`tags`, `schedule`, `run_as`, `tasks`, ...): each read from
//! `settings` at its `path`, so the typed value and the JSON one agree for every job; reading
//! only what jobs/list shows costs the listing alone (no expand_tasks, no jobs/get), and
//! reading the arrays jobs/list leaves out sets expand_tasks and fetches the cut job whole.

use super::common::*;

const JOBS: &str = "databricks_workspace.jobs.jobs";

#[tokio::test]
async fn typed_settings_columns_agree_with_the_settings_json_for_every_job() {
    let env = env(50).await;
    // Pairs: the typed column, and the same value read from `settings` with the JSON functions.
    let pairs = [
        ("tags['team']", "json_get_str(settings, 'tags', 'team')"),
        (
            "tags['cost_center']",
            "json_get_str(settings, 'tags', 'cost_center')",
        ),
        ("tags['env']", "json_get_str(settings, 'tags', 'env')"),
        (
            "schedule['quartz_cron_expression']",
            "json_get_str(settings, 'schedule', 'quartz_cron_expression')",
        ),
        (
            "schedule['timezone_id']",
            "json_get_str(settings, 'schedule', 'timezone_id')",
        ),
        (
            "schedule['pause_status']",
            "json_get_str(settings, 'schedule', 'pause_status')",
        ),
        (
            "run_as['user_name']",
            "json_get_str(settings, 'run_as', 'user_name')",
        ),
        (
            "run_as['service_principal_name']",
            "json_get_str(settings, 'run_as', 'service_principal_name')",
        ),
        (
            "max_concurrent_runs",
            "json_get_int(settings, 'max_concurrent_runs')",
        ),
        (
            "timeout_seconds",
            "json_get_int(settings, 'timeout_seconds')",
        ),
        (
            "queue['enabled']",
            "json_get_bool(settings, 'queue', 'enabled')",
        ),
        ("format", "json_get_str(settings, 'format')"),
        ("edit_mode", "json_get_str(settings, 'edit_mode')"),
        (
            "deployment['kind']",
            "json_get_str(settings, 'deployment', 'kind')",
        ),
        ("description", "json_get_str(settings, 'description')"),
        (
            "git_source['git_url']",
            "json_get_str(settings, 'git_source', 'git_url')",
        ),
        (
            "trigger['file_arrival']['url']",
            "json_get_str(settings, 'trigger', 'file_arrival', 'url')",
        ),
        (
            "trigger['table_update']['condition']",
            "json_get_str(settings, 'trigger', 'table_update', 'condition')",
        ),
        (
            "continuous['pause_status']",
            "json_get_str(settings, 'continuous', 'pause_status')",
        ),
        (
            "email_notifications['on_failure'][1]",
            "json_get_str(settings, 'email_notifications', 'on_failure', 0)",
        ),
        (
            "webhook_notifications['on_failure'][1]['id']",
            "json_get_str(settings, 'webhook_notifications', 'on_failure', 0, 'id')",
        ),
        (
            "notification_settings['no_alert_for_skipped_runs']",
            "json_get_bool(settings, 'notification_settings', 'no_alert_for_skipped_runs')",
        ),
        (
            "health['rules'][1]['value']",
            "json_get_int(settings, 'health', 'rules', 0, 'value')",
        ),
        (
            "performance_target",
            "json_get_str(settings, 'performance_target')",
        ),
        (
            "budget_policy_id",
            "json_get_str(settings, 'budget_policy_id')",
        ),
        ("cardinality(tasks)", "json_length(settings, 'tasks')"),
        (
            "cardinality(job_clusters)",
            "json_length(settings, 'job_clusters')",
        ),
        (
            "cardinality(parameters)",
            "json_length(settings, 'parameters')",
        ),
        (
            "tasks[1]['task_key']",
            "json_get_str(settings, 'tasks', 0, 'task_key')",
        ),
        (
            "tasks[1]['notebook_task']['base_parameters']['env']",
            "json_get_str(settings, 'tasks', 0, 'notebook_task', 'base_parameters', 'env')",
        ),
        (
            "job_clusters[1]['new_cluster']['spark_version']",
            "json_get_str(settings, 'job_clusters', 0, 'new_cluster', 'spark_version')",
        ),
        (
            "job_clusters[1]['new_cluster']['policy_id']",
            "json_get_str(settings, 'job_clusters', 0, 'new_cluster', 'policy_id')",
        ),
        (
            "environments[1]['spec']['client']",
            "json_get_str(settings, 'environments', 0, 'spec', 'client')",
        ),
    ];
    let select: Vec<String> = pairs
        .iter()
        .flat_map(|(typed, json)| [typed.to_string(), json.to_string()])
        .collect();
    let (got, _) = env
        .run(&format!(
            "SELECT job_id, {} FROM {JOBS} ORDER BY job_id",
            select.join(", ")
        ))
        .await;
    assert_eq!(rows(&got), 8, "every job");
    for (k, (typed, json)) in pairs.iter().enumerate() {
        let (a, b) = (strings(&got, 1 + 2 * k), strings(&got, 2 + 2 * k));
        assert_eq!(a, b, "{typed} vs {json}");
        // Of the 8 jobs, the two without a schedule have a file arrival and a table update
        // trigger; continuous mode is the next unscheduled job's (the 12th).
        assert!(
            a.iter().any(Option::is_some) || typed.starts_with("continuous"),
            "{typed}: some job has it (the emulator's jobs are realistic)"
        );
    }
    // The big job's arrays are whole: all its pages of jobs/get merged.
    let (big, _) = env
        .run(&format!(
            "SELECT max(cardinality(tasks)), max(cardinality(job_clusters)), \
             max(cardinality(parameters)) FROM {JOBS}"
        ))
        .await;
    assert_eq!(strings(&big, 0), [Some("130".to_string())]);
    assert_eq!(strings(&big, 1), [Some("105".to_string())]);
    assert_eq!(strings(&big, 2), [Some("110".to_string())]);
    // Maps filter and group like any column.
    let (teams, _) = env
        .run(&format!(
            "SELECT count(*) FILTER (WHERE tags['team'] = 'ml'), \
                    count(*) FILTER (WHERE json_get_str(settings, 'tags', 'team') = 'ml') FROM {JOBS}"
        ))
        .await;
    assert_eq!(ints(&teams, 0), ints(&teams, 1));
    assert!(ints(&teams, 0)[0] > Some(0));
    // trigger_state is top-level: a file arrival job's, and a table update job's.
    let (states, _) = env
        .run(&format!(
            "SELECT job_id FROM {JOBS} WHERE trigger_state['file_arrival']['using_file_events'] \
             OR cardinality(trigger_state['table']['last_seen_table_states']) > 0"
        ))
        .await;
    let (triggered, _) = env
        .run(&format!(
            "SELECT job_id FROM {JOBS} WHERE trigger IS NOT NULL"
        ))
        .await;
    assert_eq!(ints(&states, 0), ints(&triggered, 0));
    assert!(!ints(&states, 0).is_empty());
}

#[tokio::test]
async fn what_jobs_list_shows_costs_the_listing_alone() {
    let env = env(50).await;
    for columns in [
        "job_id, name",
        "job_id, name, tags, schedule, run_as, max_concurrent_runs, queue, trigger, \
         email_notifications, git_source, edit_mode, trigger_state",
    ] {
        let (got, requests) = env
            .run(&format!("SELECT {columns} FROM {JOBS} ORDER BY job_id"))
            .await;
        assert_eq!(rows(&got), 8);
        assert_eq!(requests.len(), 1, "{columns}: {requests:?}");
        assert_eq!(requests[0].path, "/api/2.2/jobs/list");
        assert_eq!(requests[0].param("expand_tasks"), None, "{columns}");
    }
}

#[tokio::test]
async fn tasks_job_clusters_and_parameters_set_expand_tasks_and_complete_the_cut_job() {
    let env = env(50).await;
    for column in ["tasks", "job_clusters", "parameters", "environments"] {
        let (got, requests) = env
            .run(&format!(
                "SELECT job_id, cardinality({column}) FROM {JOBS} ORDER BY job_id"
            ))
            .await;
        assert_eq!(rows(&got), 8);
        let lists = to(&requests, "/jobs/list");
        assert_eq!(lists.len(), 1, "{column}: {requests:?}");
        assert_eq!(lists[0].param("expand_tasks"), Some("true"), "{column}");
        // The big job (has_more) is fetched whole: jobs/get, its two pages; nothing else.
        let gets = to(&requests, "/jobs/get");
        assert_eq!(gets.len(), 2, "{column}: {requests:?}");
        assert_eq!(requests.len(), 3, "{column}: {requests:?}");
    }
}
