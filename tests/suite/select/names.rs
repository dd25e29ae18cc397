//! What analysts read: `jobs.name` is the job's name (from `settings.name`), and
//! `WHERE name = '...'` is sent as jobs/list's `name` filter (which ignores case) with SQL's
//! exact `=` kept on the rows.

use crate::support::session::lifecycle_env;

use super::common::*;

const JOBS: &str = "databricks_workspace.jobs.jobs";
const TASKS: &str = r#"[{"task_key":"main","notebook_task":{"notebook_path":"/Repos/x/main"}}]"#;

#[tokio::test]
async fn jobs_name_is_the_name_in_settings() {
    let env = env(50).await;
    let (batches, requests) = env
        .run(&format!("SELECT job_id, name FROM {JOBS} ORDER BY job_id"))
        .await;
    let names = strings(&batches, 1);
    assert_eq!(names.len(), 8, "the 8 jobs of the history");
    assert!(names.iter().all(Option::is_some), "no NULL name: {names:?}");
    assert_eq!(requests.len(), 1, "one page of jobs/list: {requests:?}");
    assert_eq!(requests[0].path, "/api/2.2/jobs/list");
    assert!(
        !requests[0].query.iter().any(|(k, _)| k == "expand_tasks"),
        "the name needs no expanded settings: {:?}",
        requests[0].query
    );
    let (settings, _) = env
        .run(&format!(
            "SELECT settings->>'name' FROM {JOBS} ORDER BY job_id"
        ))
        .await;
    assert_eq!(names, strings(&settings, 0), "name is settings.name");
}

#[tokio::test]
async fn where_name_is_sent_to_jobs_list_and_matches_exactly() {
    let env = lifecycle_env().await;
    let mut ids = Vec::new();
    for name in ["Nightly-ETL", "nightly-etl"] {
        let (batches, _) = env
            .run(&format!(
                "INSERT INTO {JOBS} (data__name, data__tasks) VALUES ('{name}', '{TASKS}') \
                 RETURNING job_id"
            ))
            .await;
        ids.push(ints(&batches, 0)[0].expect("a job id"));
    }

    let (batches, requests) = env
        .run(&format!(
            "SELECT job_id, name FROM {JOBS} WHERE name = 'Nightly-ETL'"
        ))
        .await;
    assert_eq!(ints(&batches, 0), [Some(ids[0])]);
    assert_eq!(strings(&batches, 1), [Some("Nightly-ETL".to_string())]);
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(requests[0].path, "/api/2.2/jobs/list");
    assert!(
        requests[0]
            .query
            .contains(&("name".to_string(), "Nightly-ETL".to_string())),
        "the name is sent: {:?}",
        requests[0].query
    );

    // The API's filter ignores case: both jobs come back, and SQL keeps neither.
    let (batches, requests) = env
        .run(&format!(
            "SELECT job_id FROM {JOBS} WHERE name = 'NIGHTLY-ETL'"
        ))
        .await;
    assert!(ints(&batches, 0).is_empty(), "{batches:?}");
    assert!(
        requests[0]
            .query
            .contains(&("name".to_string(), "NIGHTLY-ETL".to_string())),
        "{requests:?}"
    );

    // The same rows as DataFusion's own filter over the whole listing.
    let (all, _) = env
        .run(&format!(
            "SELECT job_id FROM {JOBS} WHERE lower(name) = lower('Nightly-ETL') \
             AND name = 'nightly-etl'"
        ))
        .await;
    let (pushed, _) = env
        .run(&format!(
            "SELECT job_id FROM {JOBS} WHERE name = 'nightly-etl'"
        ))
        .await;
    assert_eq!(ints(&pushed, 0), [Some(ids[1])]);
    assert_eq!(ints(&pushed, 0), ints(&all, 0));

    // jobs/get takes no name: DataFusion filters the one job it returns.
    let (batches, requests) = env
        .run(&format!(
            "SELECT name FROM {JOBS} WHERE job_id = {} AND name = 'nightly-etl'",
            ids[0]
        ))
        .await;
    assert!(strings(&batches, 0).is_empty(), "{batches:?}");
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].path, "/api/2.2/jobs/get");
}
