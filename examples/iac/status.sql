-- The life-cycle state of one run (run.sh puts the run id in place of :run_id).
SELECT state['life_cycle_state'] AS life_cycle_state,
       state['result_state']     AS result_state
FROM databricks_workspace.jobs.job_runs
WHERE run_id = :run_id;
