//! A renamed key column on the write side: `INSERT ... RETURNING job_run_id` reads the new
//! row's id from its JSON field (`id`), directly for the key and for every column the
//! response carries, and a failed row's report names the rows created before it by that id.

use super::common::*;

fn spec() -> String {
    r#"
provider: acme
service: jobs
resources:
  job_runs:
    key: [job_run_id]
    methods:
      list:
        verb: GET
        path: /me/jobs/runs
        response: { objects: items }
      create:
        verb: POST
        path: /me/jobs/runs
        params: { parameters: { in: body, type: json } }
    select: [list]
    insert: { method: create }
    columns:
      - { name: job_run_id, type: string, field: id }
      - { name: job_id, type: string, field: jobId }
"#
    .to_string()
}

#[tokio::test]
async fn returning_reads_a_renamed_key_from_its_json_field() {
    // The new run's id is `R` and the `a` of its parameters.
    let stub = Stub::start(|seen, _| {
        let body: serde_json::Value = serde_json::from_str(&seen.body).unwrap_or_default();
        match body["parameters"]["a"].as_i64() {
            Some(a) => Reply::json(201, format!(r#"{{"id": "R{a}", "jobId": "J1"}}"#)),
            None => Reply::json(400, r#"{"message": "bad parameters"}"#),
        }
    })
    .await;
    let ctx = session(&spec(), &stub, None);
    let rows = query(
        &ctx,
        r#"INSERT INTO acme.jobs.job_runs (data__parameters) VALUES ('{"a": 1}'), ('{"a": 2}') RETURNING job_run_id, job_id"#,
    )
    .await;
    let mut ids = strings(&rows, 0);
    ids.sort();
    assert_eq!(ids, [Some("R1".to_string()), Some("R2".to_string())]);
    assert_eq!(
        strings(&rows, 1),
        [Some("J1".to_string()), Some("J1".to_string())]
    );
    let posts: Vec<String> = stub.seen().into_iter().map(|s| s.body).collect();
    assert!(
        posts.contains(&r#"{"parameters":{"a":1}}"#.to_string()),
        "{posts:?}"
    );
    let message = error(
        &ctx,
        r#"INSERT INTO acme.jobs.job_runs (data__parameters) VALUES ('{"a": 3}'), ('"bad"')"#,
    )
    .await;
    assert!(
        message.contains("created, job_run_id \"R3\"") && message.contains("FAILED"),
        "{message}"
    );
}
