-- Delete the finished runs this script submitted in the last day (read through runs/list with
-- run_type and start_time pushed down, then one runs/delete per run). Active runs are refused
-- by the API and reported; the rest are deleted.
DELETE FROM databricks_workspace.jobs.job_runs
WHERE run_type = 'SUBMIT_RUN'
  AND run_name = 'iac-nightly-export'
  AND completed_only = true
  AND start_time > now() - INTERVAL '1 day';
