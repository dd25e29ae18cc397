-- Submit a one-time run (runs/submit) and print its run id.
-- jobsql gives the row an idempotency token, so a retried submit never launches twice;
-- pass data__idempotency_token yourself to make re-running this whole script idempotent too.
INSERT INTO databricks_workspace.jobs.job_runs (
  data__run_name,
  data__tasks,
  data__timeout_seconds
)
SELECT
  'iac-nightly-export',
  '[{"task_key": "export", "notebook_task": {"notebook_path": "/Repos/ops/export"}},
    {"task_key": "publish", "depends_on": [{"task_key": "export"}],
     "notebook_task": {"notebook_path": "/Repos/ops/publish"}}]',
  3600
RETURNING run_id;
