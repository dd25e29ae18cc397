//! EXEC `policy_compliance_for_jobs.enforce_compliance`: with validate_only the changes are
//! shown and nothing changes (get-compliance still says non-compliant); without it the job's
//! clusters are changed and the job complies. The result is the method's columns.

use super::common::*;

const COMPLIANCE: &str = "databricks_workspace.jobs.policy_compliance_for_jobs";
const JOBS: &str = "databricks_workspace.jobs.jobs";
const SMALL: &str = "D0C0A1B2C3D4E5F6";

#[tokio::test]
async fn validate_only_changes_nothing_and_enforcing_fixes() {
    let env = env().await;
    let (bad, _) = env
        .run(&format!(
            "SELECT job_id FROM {COMPLIANCE} WHERE policy_id = '{SMALL}' AND NOT is_compliant \
             ORDER BY job_id LIMIT 1"
        ))
        .await;
    let job = ints(&bad, 0)[0].expect("a non-compliant job");
    let (preview, requests) = env
        .run(&format!(
            "EXEC {COMPLIANCE}.enforce_compliance @job_id = {job}, @validate_only = true"
        ))
        .await;
    let names: Vec<String> = preview[0]
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(
        names,
        [
            "job_id",
            "validate_only",
            "has_changes",
            "job_cluster_changes",
            "settings"
        ]
    );
    assert_eq!(ints(&preview, 0), [Some(job)]);
    assert_eq!(strings(&preview, 1), [Some("true".to_string())]);
    assert_eq!(strings(&preview, 2), [Some("true".to_string())]);
    let changes = strings(&preview, 3)[0].clone().unwrap_or_default();
    assert!(changes.contains("new_cluster.num_workers"), "{changes}");
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].method, "POST");
    assert_eq!(
        requests[0].path,
        "/api/2.0/policies/jobs/enforce-compliance"
    );
    let body = requests[0].body.clone().unwrap_or_default();
    assert_eq!(body["job_id"].as_i64(), Some(job), "{body}");
    assert_eq!(body["validate_only"].as_bool(), Some(true), "{body}");
    assert_eq!(
        compliant(&env, job).await,
        [Some("false".to_string())],
        "nothing changed"
    );

    let (done, _) = env
        .run(&format!(
            "EXEC {COMPLIANCE}.enforce_compliance @job_id = {job}"
        ))
        .await;
    assert_eq!(strings(&done, 2), [Some("true".to_string())]);
    assert_eq!(strings(&done, 1), [None], "validate_only not sent");
    assert_eq!(
        compliant(&env, job).await,
        [Some("true".to_string())],
        "fixed"
    );
    // The job's clusters now keep to the policy's 4 workers, and enforcing again changes
    // nothing.
    let (workers, _) = env
        .run(&format!(
            "SELECT max(c['new_cluster']['num_workers']) FROM \
             (SELECT unnest(job_clusters) AS c FROM {JOBS} WHERE job_id = {job})"
        ))
        .await;
    assert!(ints(&workers, 0)[0] <= Some(4), "{workers:?}");
    let (again, _) = env
        .run(&format!(
            "EXEC {COMPLIANCE}.enforce_compliance @job_id = {job}"
        ))
        .await;
    assert_eq!(strings(&again, 2), [Some("false".to_string())]);
}

/// get-compliance's `is_compliant` of `job`.
async fn compliant(env: &Env, job: i64) -> Vec<Option<String>> {
    let sql = format!("SELECT is_compliant FROM {COMPLIANCE} WHERE job_id = {job}");
    strings(&env.run(&sql).await.0, 0)
}
