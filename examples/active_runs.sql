-- What is running (or queued) right now: active_only is pushed to the API.
SELECT run_id, job_id, run_name, run_type,
       status['state'] AS status,
       start_time,
       now() - start_time AS running_for
FROM databricks_workspace.jobs.job_runs
WHERE active_only = true
ORDER BY start_time;
