//! `policy_compliance_for_jobs`: by job (get-compliance, job_id =, IN) or by cluster policy
//! (list-compliance, paged); the two agree job by job, and the requests are those and no
//! other.

use jobsql_emulator::EmulatorConfig;

use super::common::*;
use crate::support::emulator::start;
use crate::support::session::on;

const COMPLIANCE: &str = "databricks_workspace.jobs.policy_compliance_for_jobs";
/// The emulator's "Small jobs" policy (at most 4 workers).
const SMALL: &str = "D0C0A1B2C3D4E5F6";
/// The emulator's "Standard jobs" policy (at most 8 workers).
const STANDARD: &str = "E1F2A3B4C5D6E7F8";

#[tokio::test]
async fn by_policy_and_by_job_agree() {
    let env = env(50).await;
    let (listed, requests) = env
        .run(&format!(
            "SELECT job_id, is_compliant, cardinality(violations), policy_id FROM {COMPLIANCE} \
             WHERE policy_id = '{SMALL}' ORDER BY job_id"
        ))
        .await;
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(requests[0].path, "/api/2.0/policies/jobs/list-compliance");
    assert_eq!(requests[0].param("policy_id"), Some(SMALL));
    let ids: Vec<i64> = ints(&listed, 0).into_iter().flatten().collect();
    assert!(ids.len() >= 2, "jobs using the policy: {ids:?}");
    assert!(strings(&listed, 3)
        .iter()
        .all(|p| p.as_deref() == Some(SMALL)));
    let compliant = strings(&listed, 1);
    assert!(
        compliant.iter().any(|c| c.as_deref() == Some("false")),
        "the big job has clusters over the policy's 4 workers: {compliant:?}"
    );
    // Non-compliant rows have violations; compliant ones none.
    for (c, v) in compliant.iter().zip(ints_or_zero(&listed, 2)) {
        assert_eq!(c.as_deref() == Some("false"), v > 0, "{c:?} {v}");
    }
    // The same jobs one by one (get-compliance, job_id filled from the request).
    let list = ids
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let (got, requests) = env
        .run(&format!(
            "SELECT job_id, is_compliant, cardinality(violations) FROM {COMPLIANCE} \
             WHERE job_id IN ({list}) ORDER BY job_id"
        ))
        .await;
    assert_eq!(ints(&got, 0), ints(&listed, 0));
    assert_eq!(strings(&got, 1), compliant);
    assert_eq!(ints_or_zero(&got, 2), ints_or_zero(&listed, 2));
    assert_eq!(to(&requests, "/get-compliance").len(), ids.len());
    assert_eq!(requests.len(), ids.len(), "{requests:?}");
    // A violation's key names the job cluster and the setting; its message the policy.
    let (v, _) = env
        .run(&format!(
            "SELECT unnest(map_keys(violations)), unnest(map_values(violations)) \
             FROM {COMPLIANCE} WHERE job_id = {} LIMIT 1",
            ids[ids.len() - 1]
        ))
        .await;
    let key = strings(&v, 0)[0].clone().unwrap_or_default();
    assert!(
        key.starts_with("job_clusters[cluster_") && key.ends_with("].new_cluster.num_workers"),
        "{key}"
    );
    let message = strings(&v, 1)[0].clone().unwrap_or_default();
    assert!(message.contains("Small jobs"), "{message}");
    // Jobs under the standard policy comply.
    let (std, _) = env
        .run(&format!(
            "SELECT bool_and(is_compliant) FROM {COMPLIANCE} WHERE policy_id = '{STANDARD}'"
        ))
        .await;
    assert_eq!(strings(&std, 0), [Some("true".to_string())]);
}

/// Column `i` as counts, a NULL as 0 (`cardinality` of an absent map).
fn ints_or_zero(batches: &[datafusion::arrow::record_batch::RecordBatch], i: usize) -> Vec<i64> {
    strings(batches, i)
        .into_iter()
        .map(|s| s.and_then(|s| s.parse().ok()).unwrap_or(0))
        .collect()
}

#[tokio::test]
async fn list_compliance_is_paged_through() {
    let emulator = start(EmulatorConfig {
        runs: 20,
        seed: 7,
        jobs: 1000,
        ..EmulatorConfig::default()
    })
    .await;
    let ctx = on(&emulator, &[]);
    emulator.clear_requests();
    let got = query(
        &ctx,
        &format!(
            "SELECT count(*), count(DISTINCT job_id) FROM {COMPLIANCE} WHERE policy_id = '{SMALL}'"
        ),
    )
    .await;
    let requests = emulator.requests();
    let n = ints(&got, 0)[0].unwrap_or(0);
    assert_eq!(ints(&got, 1)[0], Some(n), "each job once");
    assert!(n > 100, "more than a page: {n}");
    assert_eq!(requests.len(), (n as usize).div_ceil(100), "{requests:?}");
    assert!(requests[1].param("page_token").is_some());
}

#[tokio::test]
async fn a_job_id_or_a_policy_id_is_required() {
    let env = env(50).await;
    let (message, requests) = env.fail(&format!("SELECT * FROM {COMPLIANCE}")).await;
    assert!(
        message.contains("job_id") && message.contains("policy_id"),
        "{message}"
    );
    assert!(requests.is_empty());
}
