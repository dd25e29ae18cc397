-- Inventory across two workspaces (profiles in ~/.databrickscfg; with --demo: demo and demo2).
-- deployment_name IN (...) queries both concurrently and unions the rows.
SELECT deployment_name,
       count(*) AS runs,
       count(DISTINCT job_id) AS jobs,
       sum(CASE WHEN state['result_state'] = 'FAILED' THEN 1 ELSE 0 END) AS failed,
       max(start_time) AS latest_run
FROM databricks_workspace.jobs.job_runs
WHERE deployment_name IN ('demo', 'demo2')
GROUP BY deployment_name
ORDER BY deployment_name;
