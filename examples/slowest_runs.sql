-- The 10 slowest completed runs of the last 30 days (run_duration is in milliseconds).
SELECT run_id, job_id, run_name,
       start_time,
       run_duration / 60000.0 AS minutes,
       state['result_state'] AS result
FROM databricks_workspace.jobs.job_runs
WHERE completed_only = true
  AND start_time >= now() - INTERVAL '30 days'
ORDER BY run_duration DESC
LIMIT 10;
