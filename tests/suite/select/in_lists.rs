//! Literal key lists are capped like subqueries: `run_id IN (…)` (or an `OR` of equalities)
//! of at most `MAX_KEYS` distinct ids is one `runs/get` each; past it, the runs are listed and
//! the list is checked on the rows — the rows are the same either way. IN lists whose
//! combinations pass the cap lose their longest list to the rows; a list the scan cannot do
//! without (the workspace) past the cap is an error naming it, before any request.

use std::collections::BTreeSet;

use jobsql_core::provider::pushdown::MAX_KEYS;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use super::common::*;

/// `n` distinct ids: every other one a run of `runs`, the rest ids no run has.
fn ids(runs: &[i64], n: usize) -> Vec<i64> {
    (0..n)
        .map(|i| match i % 2 {
            0 => runs[(i / 2) % runs.len()] + (i / 2 / runs.len()) as i64 * 1_000_000_007,
            _ => -(i as i64) - 1,
        })
        .collect()
}

fn where_clause(ids: &[i64], or: bool) -> String {
    let texts: Vec<String> = ids.iter().map(i64::to_string).collect();
    if or {
        let terms: Vec<String> = texts.iter().map(|t| format!("run_id = {t}")).collect();
        terms.join(" OR ")
    } else {
        format!("run_id IN ({})", texts.join(", "))
    }
}

async fn all_runs(env: &Env) -> Vec<i64> {
    let (rows, _) = env.run(&format!("SELECT run_id FROM {RUNS}")).await;
    ints(&rows, 0).into_iter().flatten().collect()
}

#[tokio::test]
async fn a_literal_list_of_20000_ids_lists_instead_of_getting_each() {
    let env = env(300).await;
    let runs = all_runs(&env).await;
    let list = ids(&runs, 20_000);
    let sql = format!(
        "SELECT run_id FROM {RUNS} WHERE {} ORDER BY run_id",
        where_clause(&list, false)
    );
    let (rows, requests) = env.run(&sql).await;
    let got: Vec<i64> = ints(&rows, 0).into_iter().flatten().collect();
    let listed: BTreeSet<i64> = list.iter().copied().collect();
    let want: Vec<i64> = {
        let mut w: Vec<i64> = runs
            .iter()
            .copied()
            .filter(|r| listed.contains(r))
            .collect();
        w.sort();
        w
    };
    assert_eq!(got, want);
    assert!(to(&requests, "/runs/get").is_empty(), "no get per id");
    let lists = to(&requests, "/runs/list").len();
    assert_eq!(requests.len(), lists);
    assert!(
        lists <= 40,
        "a listing of 300 runs: {lists} requests (was 20,000 gets)"
    );
}

fn runner(cases: u32) -> TestRunner {
    TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    })
}

/// Sizes around the cap, as `IN` and as `OR`: one get per id up to it, a listing past it, and
/// the rows of DataFusion's own filter over the full listing either way.
#[test]
fn lists_around_the_key_cap() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let (env, runs) = rt.block_on(async {
        let env = env(300).await;
        let runs = all_runs(&env).await;
        (env, runs)
    });
    let strategy = (
        prop_oneof![1usize..5, (MAX_KEYS - 3)..(MAX_KEYS + 4)],
        any::<bool>(),
    );
    runner(10)
        .run(&strategy, |(n, or)| {
            let list = ids(&runs, n);
            let sql = format!(
                "SELECT run_id FROM {RUNS} WHERE {} ORDER BY run_id",
                where_clause(&list, or)
            );
            rt.block_on(async {
                let (rows, requests) = env.run(&sql).await;
                let got: Vec<i64> = ints(&rows, 0).into_iter().flatten().collect();
                let listed: BTreeSet<i64> = list.iter().copied().collect();
                let mut want: Vec<i64> = runs
                    .iter()
                    .copied()
                    .filter(|r| listed.contains(r))
                    .collect();
                want.sort();
                prop_assert_eq!(&got, &want, "{} ids, or={}", n, or);
                let gets = to(&requests, "/runs/get").len();
                let lists = to(&requests, "/runs/list").len();
                if n <= MAX_KEYS {
                    prop_assert_eq!((gets, lists), (n, 0), "one get per id");
                } else {
                    prop_assert_eq!(gets, 0, "no get past the cap");
                    prop_assert!(lists > 0);
                }
                Ok(())
            })
        })
        .expect("the cap holds, the rows are SQL's");
}

#[tokio::test]
async fn lists_whose_combinations_pass_the_cap_are_narrowed_on_the_rows() {
    let env = env(300).await;
    let jobs = env.emulator.notable().job_ids;
    // 150 job ids (the real ones among them) × 2 run types = 300 listings: past the cap.
    let mut job_list: Vec<String> = jobs.iter().map(i64::to_string).collect();
    job_list.extend((1..=150 - jobs.len()).map(|i| (-(i as i64)).to_string()));
    let filter = format!(
        "job_id IN ({}) AND run_type IN ('JOB_RUN', 'WORKFLOW_RUN')",
        job_list.join(", ")
    );
    let (rows, requests) = env
        .run(&format!(
            "SELECT run_id FROM {RUNS} WHERE {filter} ORDER BY run_id"
        ))
        .await;
    let (reference, _) = env
        .run(&format!(
            "SELECT run_id FROM (SELECT run_id, job_id, run_type FROM {RUNS} LIMIT 100000) \
             WHERE {filter} ORDER BY run_id"
        ))
        .await;
    assert_eq!(ints(&rows, 0), ints(&reference, 0));
    let lists = to(&requests, "/runs/list");
    assert!(
        lists.iter().all(|r| r.param("job_id").is_none()),
        "job_id is checked on the rows"
    );
    let types: BTreeSet<&str> = lists.iter().filter_map(|r| r.param("run_type")).collect();
    assert_eq!(types, ["JOB_RUN", "WORKFLOW_RUN"].into_iter().collect());
    assert!(lists.len() <= 60, "{} requests", lists.len());

    // The workspace cannot be left to the rows: past the cap, an error before any request.
    let names: Vec<String> = (0..=MAX_KEYS).map(|i| format!("'w{i}'")).collect();
    let (message, requests) = env
        .fail(&format!(
            "SELECT run_id FROM {RUNS} WHERE deployment_name IN ({})",
            names.join(", ")
        ))
        .await;
    assert!(
        message.contains(&format!(
            "deployment_name IN (...) has {} distinct values, more than the {MAX_KEYS} jobsql \
             sends one request each for (each names a workspace): narrow the list",
            MAX_KEYS + 1
        )),
        "{message}"
    );
    assert!(requests.is_empty(), "{requests:?}");
}
