//! The optimised plans against DataFusion's own answer: newest-N (`ORDER BY start_time DESC
//! [, run_id] LIMIT n`, served from the API's order) and sliced windows (listed in slices sized
//! to the data) give exactly the rows DataFusion computes from the same SQL over the full
//! listing, read page by page (no slicing) and copied into a `MemTable`. Random predicates
//! (`job_id IN`, time windows, flags), orders and limits; over the emulator's history and over
//! a listing whose pages all end inside ties of `start_time`.

use std::sync::Arc;

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;
use jobsql_core::workspace::Workspace;
use jobsql_emulator::EmulatorHandle;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use super::common::*;
use super::parallel::{listing_session, Listing};
use crate::support::client::fast;
use crate::support::session::{context, runtime};

const HOUR: i64 = 3_600_000;
const COLUMNS: &str = "run_id, job_id, start_time, run_type";
/// What the reference copies of the listing: the columns read and those the flags test.
pub(super) const COPIED: &str = "run_id, job_id, start_time, run_type, state, attempt_number";

/// The orders tried: none, newest first (with and without a tie-break), and orders the API
/// does not serve (a full scan sorted by DataFusion).
const ORDERS: &[&str] = &[
    "",
    "ORDER BY start_time DESC",
    "ORDER BY start_time DESC, run_id",
    "ORDER BY start_time DESC, run_id DESC",
    "ORDER BY start_time",
    "ORDER BY run_id DESC",
];

/// The flags tried.
pub(super) const FLAGS: &[&str] = &[
    "",
    "state['result_state'] = 'SUCCESS'",
    "state['result_state'] <> 'SUCCESS'",
    "attempt_number > 0",
    "run_type = 'JOB_RUN'",
    "run_type <> 'JOB_RUN'",
];

/// One random query: indices into the pools, resolved by [`Source::sql`].
#[derive(Debug, Clone)]
struct Case {
    jobs: Option<Vec<usize>>,
    window: Option<(usize, i64)>,
    flag: usize,
    order: usize,
    limit: Option<usize>,
}

fn cases() -> impl Strategy<Value = Case> {
    (
        proptest::option::of(proptest::collection::vec(0usize..64, 1..4)),
        proptest::option::of((
            0usize..4096,
            prop::sample::select(vec![6i64, 24, 72, 24 * 7]),
        )),
        0..FLAGS.len(),
        0..ORDERS.len(),
        proptest::option::of(1usize..80),
    )
        .prop_map(|(jobs, window, flag, order, limit)| Case {
            jobs,
            window,
            flag,
            order,
            limit,
        })
}

/// A listing under test: the session with the optimised plans, and DataFusion's reference.
pub(super) struct Source {
    pub(super) ctx: SessionContext,
    pub(super) reference: SessionContext,
    pub(super) jobs: Vec<i64>,
    times: Vec<i64>,
    /// Whether `start_time` alone orders the rows (no ties).
    distinct_times: bool,
}

impl Source {
    /// The listing read page by page through `sequential` (one request at a time: no
    /// slices), copied into a `MemTable` named `mem`.
    pub(super) async fn new(
        ctx: SessionContext,
        sequential: &SessionContext,
        jobs: bool,
    ) -> Source {
        let all = query(sequential, &format!("SELECT {COPIED} FROM {RUNS}")).await;
        let schema = all.first().expect("some runs").schema();
        let times = time_values(&all);
        let mut job_ids: Vec<i64> = if jobs {
            ints(&all, 1).into_iter().flatten().collect()
        } else {
            Vec::new()
        };
        job_ids.sort_unstable();
        job_ids.dedup();
        let mut sorted = times.clone();
        sorted.sort_unstable();
        sorted.dedup();
        let reference = SessionContext::new();
        let table = MemTable::try_new(schema, vec![all]).expect("memtable");
        reference
            .register_table("mem", Arc::new(table))
            .expect("register");
        Source {
            ctx,
            reference,
            distinct_times: sorted.len() == times.len(),
            jobs: job_ids,
            times,
        }
    }

    /// The case's SQL over `table`.
    fn sql(&self, case: &Case, table: &str) -> String {
        let mut preds = Vec::new();
        if let (Some(picks), false) = (&case.jobs, self.jobs.is_empty()) {
            let ids: Vec<String> = picks
                .iter()
                .map(|i| self.jobs[i % self.jobs.len()].to_string())
                .collect();
            preds.push(format!("job_id IN ({})", ids.join(", ")));
        }
        if let Some((i, hours)) = case.window {
            let hi = self.times[i % self.times.len()];
            let lo = hi - hours * HOUR;
            preds.push(format!(
                "start_time >= to_timestamp_millis({lo}) AND start_time <= to_timestamp_millis({hi})"
            ));
        }
        if !FLAGS[case.flag].is_empty() {
            preds.push(FLAGS[case.flag].to_string());
        }
        let mut sql = format!("SELECT {COLUMNS} FROM {table}");
        if !preds.is_empty() {
            sql += &format!(" WHERE {}", preds.join(" AND "));
        }
        sql += &format!(" {}", self.order(case));
        if let Some(n) = case.limit {
            sql += &format!(" LIMIT {n}");
        }
        sql
    }

    /// The case's order; newest first alone only where it orders the rows completely.
    fn order(&self, case: &Case) -> &'static str {
        match ORDERS[case.order] {
            "ORDER BY start_time DESC" if !self.distinct_times => ORDERS[3],
            "ORDER BY start_time" if !self.distinct_times => "ORDER BY start_time, run_id",
            o => o,
        }
    }

    /// The case through both sessions: identical rows (in order when ordered; as a set when
    /// not, a LIMIT then taking any rows of the answer).
    async fn check(&self, case: &Case) -> Result<(), TestCaseError> {
        let sql = self.sql(case, RUNS);
        let got = lines(&query(&self.ctx, &sql).await);
        let mut want = lines(&query(&self.reference, &self.sql(case, "mem")).await);
        if !self.order(case).is_empty() {
            return same(&got, &want, &sql);
        }
        let mut got = got;
        got.sort();
        if case.limit.is_none() {
            want.sort();
            return same(&got, &want, &sql);
        }
        let mut all = lines(
            &query(
                &self.reference,
                &self.sql(
                    &Case {
                        limit: None,
                        ..case.clone()
                    },
                    "mem",
                ),
            )
            .await,
        );
        all.sort();
        let mut unique = got.clone();
        unique.dedup();
        prop_assert_eq!(got.len(), want.len(), "{}", sql);
        prop_assert_eq!(unique.len(), got.len(), "no row twice: {}", sql);
        prop_assert!(got.iter().all(|l| all.binary_search(l).is_ok()), "{}", sql);
        Ok(())
    }
}

/// `got == want`, or a failure naming the first row that differs (not every row).
pub(super) fn same(got: &[String], want: &[String], sql: &str) -> Result<(), TestCaseError> {
    if got == want {
        return Ok(());
    }
    let at = got.iter().zip(want).take_while(|(g, w)| g == w).count();
    Err(TestCaseError::fail(format!(
        "{sql}: {} rows, want {}; row {at} is {:?}, want {:?}",
        got.len(),
        want.len(),
        got.get(at),
        want.get(at)
    )))
}

/// The rows as text, one line each, without the header; cells trimmed (the table pads them to
/// its widest value).
pub(super) fn lines(batches: &[RecordBatch]) -> Vec<String> {
    let text = pretty_format_batches(batches).expect("format").to_string();
    text.lines()
        .filter(|l| l.starts_with('|'))
        .skip(1)
        .map(|l| l.split('|').map(str::trim).collect::<Vec<_>>().join("|"))
        .collect()
}

fn time_values(batches: &[RecordBatch]) -> Vec<i64> {
    use datafusion::arrow::array::AsArray;
    use datafusion::arrow::datatypes::TimestampMillisecondType;
    batches
        .iter()
        .flat_map(|b| {
            b.column(2)
                .as_primitive::<TimestampMillisecondType>()
                .values()
                .to_vec()
        })
        .collect()
}

/// 1,000 runs on 30 instants a day and a half apart (33 or 34 each: most pages end inside a
/// tie).
fn ties() -> Vec<(i64, i64)> {
    let newest = 1_790_000_000_000i64;
    (0..1000)
        .map(|i| (5_000 + i, newest - (i % 30) * 36 * HOUR))
        .collect()
}

/// A session on `emu` listing one request at a time.
pub(super) fn sequential(emu: &EmulatorHandle) -> SessionContext {
    let ws = Workspace::new("emu", &emu.base_url(), emu.token()).expect("workspace");
    context(runtime(fast(2), &[ws]).with_max_concurrency(1))
}

pub(super) fn runner(cases: u32) -> TestRunner {
    TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    })
}

#[test]
fn optimised_plans_equal_datafusion_over_the_full_listing() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let (env, source, raw_runs) = rt.block_on(async {
        let env = env(600).await;
        let source = Source::new(
            session(&env.emulator, &[]),
            &sequential(&env.emulator),
            true,
        )
        .await;
        let raw = all_runs_raw(&env.emulator, &[]).await.len();
        (env, source, raw)
    });
    assert_eq!(
        source.times.len(),
        raw_runs,
        "the reference holds every run"
    );
    assert!(source.jobs.len() > 2);
    let cheaper = std::cell::Cell::new(0usize);
    runner(32)
        .run(&cases(), |case| {
            rt.block_on(async {
                env.emulator.clear_requests();
                let r = source.check(&case).await;
                // A newest-N or a window reads less than the whole history.
                let optimised = case.window.is_some()
                    || (case.limit.is_some()
                        && ORDERS[case.order].starts_with("ORDER BY start_time DESC"));
                if optimised && env.emulator.requests().len() < raw_runs.div_ceil(25) {
                    cheaper.set(cheaper.get() + 1);
                }
                r
            })
        })
        .expect("identical results");
    let cheaper = cheaper.get();
    assert!(
        cheaper > 5,
        "the optimised plans ran: {cheaper} cheaper cases"
    );
}

#[test]
fn sliced_listings_inside_ties_equal_datafusion_over_the_full_listing() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let source = rt.block_on(async {
        let listing = || Listing {
            runs: Arc::new(ties()),
            ..Listing::default()
        };
        let ctx = listing_session(listing(), 8).await;
        let sequential = listing_session(listing(), 1).await;
        Source::new(ctx, &sequential, false).await
    });
    assert_eq!(source.times.len(), ties().len());
    assert!(!source.distinct_times, "pages end inside ties");
    runner(24)
        .run(&cases(), |case| rt.block_on(source.check(&case)))
        .expect("identical results");
}
