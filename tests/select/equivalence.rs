//! Random predicate combinations: every pushed-down result equals filtering the full history in
//! memory with DataFusion alone.

use super::common::*;

const RUNS: &str = "databricks_workspace.jobs.job_runs";

/// splitmix64: a small deterministic generator, so a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

fn atom(rng: &mut Rng, jobs: &[i64], run_ids: &[i64], times: &[i64]) -> String {
    let job = *rng.pick(jobs);
    let run = *rng.pick(run_ids);
    let t = *rng.pick(times) + *rng.pick(&[-1i64, 0, 0, 1]);
    let types = ["'JOB_RUN'", "'SUBMIT_RUN'", "'WORKFLOW_RUN'"];
    match rng.below(14) {
        0 => format!("job_id = {job}"),
        1 => format!("job_id IN ({job}, {}, 987654)", rng.pick(jobs)),
        2 => format!("run_id = {run}"),
        3 => format!("run_id IN ({run}, {}, 123)", rng.pick(run_ids)),
        4 => format!("run_type = {}", rng.pick(&types)),
        5 => format!("run_type IN ({}, {})", rng.pick(&types), rng.pick(&types)),
        6 => format!(
            "start_time {} to_timestamp_millis({t})",
            rng.pick(&[">", ">=", "<", "<="])
        ),
        7 => format!(
            "start_time {} to_timestamp_micros({})",
            rng.pick(&[">", ">=", "<", "<="]),
            t * 1000 + 500
        ),
        8 => {
            let u = *rng.pick(times);
            format!(
                "start_time BETWEEN to_timestamp_millis({}) AND to_timestamp_millis({})",
                t.min(u),
                t.max(u)
            )
        }
        9 => format!(
            "state['result_state'] = {}",
            rng.pick(&["'SUCCESS'", "'FAILED'", "'CANCELED'"])
        ),
        12 => format!("start_time = to_timestamp_millis({t})"),
        10 => "job_id IS NULL".to_string(),
        11 => format!("(job_id = {job} OR run_type = 'SUBMIT_RUN')"),
        _ => format!("NOT (run_id = {run})"),
    }
}

#[tokio::test]
async fn random_predicates_give_exactly_the_in_memory_answer() {
    let env = env(500).await;
    env.query(&format!(
        "CREATE TABLE history AS SELECT run_id, job_id, run_type, start_time, state FROM {RUNS}"
    ))
    .await;
    let (all, _) = env
        .query("SELECT run_id, job_id, CAST(start_time AS BIGINT) FROM history")
        .await;
    let run_ids: Vec<i64> = ints(&all, 0).into_iter().flatten().collect();
    let mut jobs: Vec<i64> = ints(&all, 1).into_iter().flatten().collect();
    jobs.sort();
    jobs.dedup();
    let times: Vec<i64> = ints(&all, 2).into_iter().flatten().collect();
    assert!(run_ids.len() >= 400 && jobs.len() > 2);

    let mut rng = Rng(20261124);
    let mut pushed_requests = 0usize;
    for case in 0..120 {
        let n = 1 + rng.below(3);
        let predicate: Vec<String> = (0..n)
            .map(|_| atom(&mut rng, &jobs, &run_ids, &times))
            .collect();
        let predicate = predicate.join(" AND ");
        let limit = if rng.below(4) == 0 { " LIMIT 7" } else { "" };
        let (got, requests) = env
            .query(&format!(
                "SELECT run_id FROM {RUNS} WHERE {predicate} ORDER BY run_id{limit}"
            ))
            .await;
        let (want, _) = env
            .query(&format!(
                "SELECT run_id FROM history WHERE {predicate} ORDER BY run_id{limit}"
            ))
            .await;
        assert_eq!(
            ints(&got, 0),
            ints(&want, 0),
            "case {case}: WHERE {predicate}{limit}"
        );
        pushed_requests += requests.len();
    }
    // Pushdown made the scans cheaper than 120 full listings.
    assert!(
        pushed_requests < 120 * run_ids.len().div_ceil(25),
        "{pushed_requests} requests"
    );
}
