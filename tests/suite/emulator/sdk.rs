//! The official Databricks Python SDK (`databricks-sdk`, pinned in
//! `.ci/python-requirements.txt`) against the emulator: the job permission calls, run output
//! and policy compliance for jobs succeed and read back what they wrote — the emulator speaks
//! the API as the SDK's own client expects it.

use crate::support::clients::python;

use super::common::*;

const SCRIPT: &str = r#"
import sys
from databricks.sdk import WorkspaceClient
from databricks.sdk.service import jobs

host, token = sys.argv[1], sys.argv[2]
w = WorkspaceClient(host=host, token=token, auth_type="pat")
job = next(iter(w.jobs.list()))
job_id = job.job_id

p = w.jobs.get_permissions(str(job_id))
assert p.object_id == f"/jobs/{job_id}", p.object_id
owners = [a.user_name or a.service_principal_name for a in p.access_control_list
          if any(x.permission_level == jobs.JobPermissionLevel.IS_OWNER for x in a.all_permissions)]
assert owners == [job.creator_user_name], owners

levels = w.jobs.get_permission_levels(str(job_id))
names = sorted(l.permission_level.value for l in levels.permission_levels)
assert names == ["CAN_MANAGE", "CAN_MANAGE_RUN", "CAN_VIEW", "IS_OWNER"], names

acr = jobs.JobAccessControlRequest
p = w.jobs.update_permissions(str(job_id), access_control_list=[
    acr(user_name="zoe@example.com", permission_level=jobs.JobPermissionLevel.CAN_VIEW)])
assert any(a.user_name == "zoe@example.com" for a in p.access_control_list)
p = w.jobs.set_permissions(str(job_id), access_control_list=[
    acr(group_name="users", permission_level=jobs.JobPermissionLevel.CAN_MANAGE_RUN)])
direct = sorted((a.user_name or a.group_name or a.service_principal_name)
                for a in p.access_control_list
                if any(not x.inherited for x in a.all_permissions))
assert direct == sorted([job.creator_user_name, "users"]), direct

task_run = None
for run in w.jobs.list_runs(expand_tasks=True, completed_only=True):
    for t in run.tasks or []:
        task_run = t.run_id
        break
    if task_run:
        break
out = w.jobs.get_run_output(task_run)
assert out.metadata.run_id == task_run, out.metadata.run_id

small = "D0C0A1B2C3D4E5F6"
listed = list(w.policy_compliance_for_jobs.list_compliance(small))
assert listed, "jobs under the policy"
bad = next(j for j in listed if not j.is_compliant)
got = w.policy_compliance_for_jobs.get_compliance(bad.job_id)
assert got.is_compliant is False and got.violations, got
preview = w.policy_compliance_for_jobs.enforce_compliance(bad.job_id, validate_only=True)
assert preview.has_changes and preview.job_cluster_changes, preview
assert not w.policy_compliance_for_jobs.get_compliance(bad.job_id).is_compliant
done = w.policy_compliance_for_jobs.enforce_compliance(bad.job_id)
assert done.has_changes
assert w.policy_compliance_for_jobs.get_compliance(bad.job_id).is_compliant
print("ok")
"#;

#[tokio::test]
async fn the_python_sdk_reads_and_writes_permissions_output_and_compliance() {
    let h = emu(200, 8).await;
    let (base, token) = (h.base_url(), h.token().to_string());
    let out =
        tokio::task::spawn_blocking(move || python(&["databricks.sdk"], SCRIPT, &[&base, &token]))
            .await
            .expect("the script ran");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.trim() == "ok",
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let paths: Vec<String> = h
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    for want in [
        "PATCH /api/2.0/permissions/jobs/",
        "PUT /api/2.0/permissions/jobs/",
        "/permissionLevels",
        "/jobs/runs/get-output",
        "POST /api/2.0/policies/jobs/enforce-compliance",
        "GET /api/2.0/policies/jobs/list-compliance",
    ] {
        assert!(paths.iter().any(|p| p.contains(want)), "{want}: {paths:?}");
    }
}
