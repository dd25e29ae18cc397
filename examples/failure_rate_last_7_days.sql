-- Failure rate per job over the last 7 days (start_time is pushed into start_time_from).
SELECT job_id,
       count(*) AS runs,
       sum(CASE WHEN state['result_state'] = 'FAILED' THEN 1 ELSE 0 END) AS failed,
       round(100.0 * sum(CASE WHEN state['result_state'] = 'FAILED' THEN 1 ELSE 0 END) / count(*), 1) AS failure_pct
FROM databricks_workspace.jobs.job_runs
WHERE start_time >= now() - INTERVAL '7 days'
  AND completed_only = true
GROUP BY job_id
ORDER BY failure_pct DESC, runs DESC;
