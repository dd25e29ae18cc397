//! Keys from subqueries and joins against DataFusion's own answer: random job filters (names,
//! an id bound) as `IN (SELECT …)`, as a join, as `EXISTS` and as a `LEFT JOIN` from the jobs,
//! with random run flags, give exactly the rows DataFusion computes from the same SQL over
//! copies of the full runs and jobs listings (`MemTable`s).

use std::sync::Arc;

use datafusion::datasource::MemTable;
use proptest::prelude::*;

use super::common::*;
use super::keys::listed_jobs;
use super::plan_props::{lines, runner, same, sequential, Source, FLAGS};

const JOBS: &str = "databricks_workspace.jobs.jobs";

/// One random query: the jobs picked by name, an optional lower bound on the job id (an index
/// into the sorted ids), a run flag and the form.
#[derive(Debug, Clone)]
struct Case {
    names: Vec<usize>,
    min_job: Option<usize>,
    flag: usize,
    form: usize,
}

fn cases() -> impl Strategy<Value = Case> {
    (
        proptest::collection::vec(0usize..64, 0..4),
        proptest::option::of(0usize..64),
        0..FLAGS.len(),
        0usize..4,
    )
        .prop_map(|(names, min_job, flag, form)| Case {
            names,
            min_job,
            flag,
            form,
        })
}

/// The case's SQL over the runs table `runs` and the jobs table `jobs`.
fn sql(case: &Case, names: &[String], ids: &[i64], runs: &str, jobs: &str) -> String {
    let mut job = Vec::new();
    if !case.names.is_empty() {
        let picked: Vec<String> = case
            .names
            .iter()
            .map(|i| format!("'{}'", names[i % names.len()]))
            .collect();
        job.push(format!("j.name IN ({})", picked.join(", ")));
    }
    if let Some(i) = case.min_job {
        job.push(format!("j.job_id >= {}", ids[i % ids.len()]));
    }
    if job.is_empty() {
        job.push("j.job_id IS NOT NULL".to_string());
    }
    let job = job.join(" AND ");
    let flag = match FLAGS[case.flag] {
        "" => String::new(),
        f => format!(" AND r.{f}"),
    };
    match case.form {
        0 => format!(
            "SELECT r.run_id, r.job_id FROM {runs} r WHERE r.job_id IN \
             (SELECT j.job_id FROM {jobs} j WHERE {job}){flag}"
        ),
        1 => format!(
            "SELECT r.run_id, j.job_id FROM {runs} r JOIN {jobs} j ON r.job_id = j.job_id \
             WHERE {job}{flag}"
        ),
        2 => format!(
            "SELECT r.run_id, r.job_id FROM {runs} r WHERE EXISTS \
             (SELECT 1 FROM {jobs} j WHERE j.job_id = r.job_id AND {job}){flag}"
        ),
        _ => format!(
            "SELECT j.job_id, r.run_id FROM {jobs} j LEFT JOIN {runs} r \
             ON r.job_id = j.job_id{flag} WHERE {job}"
        ),
    }
}

#[test]
fn job_filters_as_subqueries_and_joins_equal_datafusion_over_the_full_listings() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let (env, source, names, ids) = rt.block_on(async {
        let env = env(400).await;
        let sequential = sequential(&env.emulator);
        let source = Source::new(session(&env.emulator, &[]), &sequential, true).await;
        let jobs = query(&sequential, &format!("SELECT job_id, name FROM {JOBS}")).await;
        let schema = jobs.first().expect("some jobs").schema();
        let mut ids: Vec<i64> = ints(&jobs, 0).into_iter().flatten().collect();
        ids.sort_unstable();
        let names: Vec<String> = strings(&jobs, 1).into_iter().flatten().collect();
        let table = MemTable::try_new(schema, vec![jobs]).expect("memtable");
        source
            .reference
            .register_table("mem_jobs", Arc::new(table))
            .expect("register");
        (env, source, names, ids)
    });
    assert!(names.len() > 3 && ids.len() > 3, "jobs to pick from");
    let keyed = std::cell::Cell::new(0usize);
    runner(40)
        .run(&cases(), |case| {
            rt.block_on(async {
                env.emulator.clear_requests();
                let got_sql = sql(&case, &names, &ids, RUNS, JOBS);
                let mut got = lines(&query(&source.ctx, &got_sql).await);
                let requests = env.emulator.requests();
                let mut want = lines(
                    &query(
                        &source.reference,
                        &sql(&case, &names, &ids, "mem", "mem_jobs"),
                    )
                    .await,
                );
                got.sort();
                want.sort();
                if !listed_jobs(&requests).contains(&None) {
                    keyed.set(keyed.get() + 1);
                }
                same(&got, &want, &got_sql)
            })
        })
        .expect("identical results");
    let keyed = keyed.get();
    assert!(keyed > 10, "the keys were listed per job: {keyed} cases");
}
