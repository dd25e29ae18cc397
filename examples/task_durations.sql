-- Task-level durations of one job's runs in the last 7 days: one row per task with unnest.
-- Reading `tasks` makes jobsql ask runs/list with expand_tasks=true.
SELECT run_id,
       t['task_key'] AS task_key,
       t['state']['result_state'] AS result,
       t['run_duration'] / 1000.0 AS seconds
FROM (
  SELECT run_id, unnest(tasks) AS t
  FROM databricks_workspace.jobs.job_runs
  WHERE start_time >= now() - INTERVAL '7 days'
)
ORDER BY seconds DESC
LIMIT 20;
