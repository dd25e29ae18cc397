//! `job_permissions` and `job_permission_levels`: reached by key only (job_id =, IN, a key
//! subquery, or a join whose other side, `jobs`, is read first): one GET of
//! /api/2.0/permissions/jobs/{job_id} (or .../permissionLevels) per job, and nothing else.

use std::collections::BTreeSet;

use jobsql_emulator::RecordedRequest;

use super::common::*;

const JOBS: &str = "databricks_workspace.jobs.jobs";
const PERMS: &str = "databricks_workspace.jobs.job_permissions";
const LEVELS: &str = "databricks_workspace.jobs.job_permission_levels";

/// The job ids of the permission GETs, in order sent.
fn asked(requests: &[RecordedRequest]) -> Vec<i64> {
    requests
        .iter()
        .filter(|r| r.method == "GET" && r.path.starts_with("/api/2.0/permissions/jobs/"))
        .filter_map(|r| r.path.split('/').nth(5)?.parse().ok())
        .collect()
}

/// The jobs' ids and creators, by job id.
async fn jobs(env: &Env) -> Vec<(i64, String)> {
    let (got, _) = env
        .run(&format!(
            "SELECT job_id, creator_user_name FROM {JOBS} ORDER BY job_id"
        ))
        .await;
    ints(&got, 0)
        .into_iter()
        .zip(strings(&got, 1))
        .filter_map(|(j, c)| Some((j?, c?)))
        .collect()
}

#[tokio::test]
async fn one_job_by_equality_its_owner_groups_and_inherited_admins() {
    let env = env(50).await;
    let (job, creator) = jobs(&env).await.remove(0);
    let (got, requests) = env
        .run(&format!(
            "SELECT job_id, user_name, group_name, service_principal_name, display_name, \
                    all_permissions[1]['permission_level'], all_permissions[1]['inherited'], \
                    all_permissions[1]['inherited_from_object'][1] \
               FROM {PERMS} WHERE job_id = {job}"
        ))
        .await;
    assert_eq!(asked(&requests), [job], "one GET");
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert!(
        ints(&got, 0).iter().all(|j| *j == Some(job)),
        "job_id is the key asked for"
    );
    let users = strings(&got, 1);
    let groups = strings(&got, 2);
    let sps = strings(&got, 3);
    let levels = strings(&got, 5);
    let owner = users
        .iter()
        .position(|u| u.as_deref() == Some(creator.as_str()));
    let owner = owner.expect("the creator has an entry");
    assert_eq!(levels[owner].as_deref(), Some("IS_OWNER"));
    let admins = groups
        .iter()
        .position(|g| g.as_deref() == Some("admins"))
        .expect("admins");
    assert_eq!(levels[admins].as_deref(), Some("CAN_MANAGE"));
    assert_eq!(strings(&got, 6)[admins].as_deref(), Some("true"));
    assert_eq!(strings(&got, 7)[admins].as_deref(), Some("/jobs/"));
    // Job 0 of the standard jobs: the users group views it, a service principal runs it.
    let users_group = groups.iter().position(|g| g.as_deref() == Some("users"));
    assert_eq!(
        users_group.map(|i| levels[i].clone()),
        Some(Some("CAN_VIEW".into()))
    );
    let sp = sps
        .iter()
        .position(Option::is_some)
        .expect("a service principal");
    assert_eq!(levels[sp].as_deref(), Some("CAN_MANAGE_RUN"));
    // A job that does not exist: zero rows (the API's 404).
    let (none, requests) = env
        .run(&format!("SELECT * FROM {PERMS} WHERE job_id = 1"))
        .await;
    assert_eq!(rows(&none), 0);
    assert_eq!(requests.len(), 1);
}

#[tokio::test]
async fn in_lists_subqueries_and_joins_cost_one_get_per_job() {
    let env = env(50).await;
    let all = jobs(&env).await;
    let ids: Vec<i64> = all.iter().map(|(j, _)| *j).collect();
    let list = ids[..3]
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let (got, requests) = env
        .run(&format!(
            "SELECT DISTINCT job_id FROM {PERMS} WHERE job_id IN ({list}) ORDER BY 1"
        ))
        .await;
    assert_eq!(
        ints(&got, 0),
        ids[..3].iter().map(|j| Some(*j)).collect::<Vec<_>>()
    );
    let sent: BTreeSet<i64> = asked(&requests).into_iter().collect();
    assert_eq!(sent, ids[..3].iter().copied().collect(), "one GET per job");
    assert_eq!(requests.len(), 3, "{requests:?}");
    // A key subquery: the jobs listed once, then one GET per job.
    let (got, requests) = env
        .run(&format!(
            "SELECT count(DISTINCT job_id) FROM {PERMS} WHERE job_id IN (SELECT job_id FROM {JOBS})"
        ))
        .await;
    assert_eq!(ints(&got, 0), [Some(8)]);
    assert_eq!(asked(&requests).len(), 8, "{requests:?}");
    assert_eq!(
        requests.len(),
        9,
        "the listing and one GET per job: {requests:?}"
    );
    // A join from jobs: every job's owner is its creator.
    let (got, requests) = env
        .run(&format!(
            "WITH p AS (SELECT j.job_id, j.creator_user_name AS creator, p.user_name, \
                               unnest(p.all_permissions) AS perm \
                          FROM {JOBS} j JOIN {PERMS} p ON p.job_id = j.job_id) \
             SELECT job_id, creator, user_name FROM p \
              WHERE perm['permission_level'] = 'IS_OWNER' ORDER BY job_id"
        ))
        .await;
    assert_eq!(
        ints(&got, 0),
        ids.iter().map(|j| Some(*j)).collect::<Vec<_>>(),
        "one owner each"
    );
    assert_eq!(
        strings(&got, 1),
        strings(&got, 2),
        "the owner is the creator"
    );
    let mut sent = asked(&requests);
    sent.sort_unstable();
    assert_eq!(sent, ids, "one GET per job");
    assert_eq!(to(&requests, "/jobs/list").len(), 1);
    assert_eq!(requests.len(), 9, "{requests:?}");
}

#[tokio::test]
async fn a_job_id_is_required() {
    let env = env(50).await;
    let (message, requests) = env.fail(&format!("SELECT * FROM {PERMS}")).await;
    assert!(message.contains("job_id"), "{message}");
    assert!(requests.is_empty(), "{requests:?}");
}

#[tokio::test]
async fn permission_levels_of_a_job() {
    let env = env(50).await;
    let (job, _) = jobs(&env).await.remove(1);
    let (got, requests) = env
        .run(&format!(
            "SELECT job_id, permission_level, description FROM {LEVELS} WHERE job_id = {job}"
        ))
        .await;
    assert_eq!(
        strings(&got, 1),
        ["CAN_VIEW", "CAN_MANAGE_RUN", "IS_OWNER", "CAN_MANAGE"].map(|s| Some(s.to_string())),
        "{requests:?}"
    );
    assert!(
        strings(&got, 2).iter().all(Option::is_some),
        "each described"
    );
    assert!(ints(&got, 0).iter().all(|j| *j == Some(job)));
    assert_eq!(requests.len(), 1);
    assert_eq!(
        requests[0].path,
        format!("/api/2.0/permissions/jobs/{job}/permissionLevels")
    );
}
