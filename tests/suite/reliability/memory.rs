//! Every byte a statement makes is counted: the functions whose output grows with an argument
//! (`repeat`, `lpad`, `range`, `array_repeat`, `replace` of '' ...), with their number of
//! arguments (`concat`, `||`), a constant written out once a row, an aggregate that keeps its
//! input, generated over argument sizes from one byte to tens of gigabytes and run in a session
//! with a small memory pool ([`jobsql_core::memory`]). For every case: the answer is right, or the
//! statement is refused naming what asked and the limit; the pool never holds more than its
//! limit; and no allocation of the thread that ran it was past twice the limit, so a refused
//! result was never built.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::Int64Type;
use datafusion::execution::memory_pool::{
    MemoryConsumer, MemoryLimit, MemoryPool, MemoryReservation,
};
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::prelude::SessionContext;
use jobsql_core::memory::StatementPool;
use jobsql_core::session::user_message;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

use crate::support::alloc::largest_during;

/// The pool of the generated statements.
const LIMIT: usize = 16 << 20;

/// A statement of the family: its SQL for a size `n`, what it answers (`None`: not checked),
/// the bytes it builds about, and the names its refusal may give (the function, or the one
/// building its argument when that is refused first; empty: an operator's).
struct Case {
    sql: fn(u64) -> String,
    answer: fn(u64) -> Option<i64>,
    builds: fn(u64) -> u64,
    names: &'static [&'static str],
}

const CASES: &[Case] = &[
    Case {
        sql: |n| format!("SELECT length(repeat('ab', {n}))"),
        answer: |n| Some(2 * n as i64),
        builds: |n| 2 * n,
        names: &["repeat"],
    },
    Case {
        sql: |n| format!("SELECT length(lpad('x', {n}))"),
        answer: |n| Some(n as i64),
        builds: |n| n,
        names: &["lpad"],
    },
    Case {
        sql: |n| format!("SELECT octet_length(rpad('x', {n}, 'é'))"),
        answer: |n| Some(2 * n as i64 - 1),
        builds: |n| 2 * n,
        names: &["rpad"],
    },
    Case {
        sql: |n| format!("SELECT cardinality(range({n}))"),
        answer: |n| Some(n as i64),
        builds: |n| 8 * n,
        names: &["range"],
    },
    Case {
        sql: |n| format!("SELECT cardinality(generate_series(1, {n}))"),
        answer: |n| Some(n as i64),
        builds: |n| 8 * n,
        names: &["generate_series"],
    },
    Case {
        sql: |n| format!("SELECT count(*) FROM (SELECT unnest(range({n})))"),
        answer: |n| Some(n as i64),
        builds: |n| 8 * n,
        names: &["range"],
    },
    Case {
        sql: |n| format!("SELECT cardinality(array_repeat('abc', {n}))"),
        answer: |n| Some(n as i64),
        builds: |n| 7 * n,
        names: &["array_repeat"],
    },
    Case {
        sql: |n| format!("SELECT cardinality(array_resize([1], {n}, 7))"),
        answer: |n| Some(n as i64),
        builds: |n| 8 * n,
        names: &["array_resize"],
    },
    Case {
        sql: |n| {
            format!(
                "SELECT length(replace(repeat('a', {}), 'a', 'wxyz'))",
                n / 4
            )
        },
        answer: |n| Some(4 * (n / 4) as i64),
        builds: |n| n,
        names: &["replace", "repeat"],
    },
    Case {
        sql: |n| {
            format!(
                "SELECT length(regexp_replace(repeat('a', {}), '', repeat('x', 99), 'g'))",
                n / 100
            )
        },
        answer: |_| None,
        builds: |n| n,
        names: &["regexp_replace", "repeat"],
    },
    Case {
        sql: |n| {
            format!(
                "SELECT length(array_to_string(range(v), repeat('-', 90))) \
                 FROM generate_series({0}, {0}) t(v)",
                n / 100
            )
        },
        answer: |_| None,
        builds: |n| n,
        names: &["array_to_string", "range"],
    },
    Case {
        sql: |n| {
            format!(
                "SELECT length(concat(s, s, s, s, s, s, s, s)) FROM (SELECT repeat('x', {}) AS s)",
                n / 8
            )
        },
        answer: |n| Some(8 * (n / 8) as i64),
        builds: |n| n,
        names: &["concat", "repeat"],
    },
    Case {
        sql: |n| {
            format!(
                "SELECT length(s || s || s || s || s || s || s || s) \
                 FROM (SELECT repeat('x', {}) AS s)",
                n / 8
            )
        },
        answer: |n| Some(8 * (n / 8) as i64),
        builds: |n| n,
        names: &["the || operator", "repeat"],
    },
    Case {
        sql: |n| {
            format!(
                "SELECT max(length(s)) FROM \
                 (SELECT repeat('x', {}) AS s FROM generate_series(1, 1000))",
                n / 1000
            )
        },
        answer: |n| Some((n / 1000) as i64),
        builds: |n| n,
        names: &["a constant repeated on every row", "repeat"],
    },
    Case {
        sql: |n| {
            format!(
                "SELECT length(string_agg(s, '')) FROM \
                 (SELECT repeat('x', 100) || v AS s FROM generate_series(1, {}) t(v))",
                n / 100
            )
        },
        answer: |_| None,
        builds: |n| n,
        names: &[""],
    },
];

/// The pool of the generated statements, remembering the most it held.
#[derive(Debug)]
struct Peak {
    inner: Arc<dyn MemoryPool>,
    most: AtomicUsize,
}

impl std::fmt::Display for Peak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "peak {}", self.most.load(Ordering::Relaxed))
    }
}

impl MemoryPool for Peak {
    fn name(&self) -> &str {
        "peak"
    }
    fn register(&self, consumer: &MemoryConsumer) {
        self.inner.register(consumer);
    }
    fn unregister(&self, consumer: &MemoryConsumer) {
        self.inner.unregister(consumer);
    }
    fn grow(&self, reservation: &MemoryReservation, additional: usize) {
        self.inner.grow(reservation, additional);
        self.most
            .fetch_max(self.inner.reserved(), Ordering::Relaxed);
    }
    fn shrink(&self, reservation: &MemoryReservation, shrink: usize) {
        self.inner.shrink(reservation, shrink);
    }
    fn try_grow(
        &self,
        reservation: &MemoryReservation,
        additional: usize,
    ) -> datafusion::error::Result<()> {
        self.inner.try_grow(reservation, additional)?;
        self.most
            .fetch_max(self.inner.reserved(), Ordering::Relaxed);
        Ok(())
    }
    fn reserved(&self) -> usize {
        self.inner.reserved()
    }
    fn memory_limit(&self) -> MemoryLimit {
        self.inner.memory_limit()
    }
}

/// A session counting in a [`Peak`] over a [`StatementPool`] of [`LIMIT`] bytes.
fn session() -> (SessionContext, Arc<Peak>) {
    let pool = Arc::new(Peak {
        inner: StatementPool::alone(LIMIT),
        most: AtomicUsize::new(0),
    });
    let env = RuntimeEnvBuilder::new()
        .with_memory_pool(pool.clone())
        .build_arc()
        .expect("runtime");
    let ctx = SessionContext::new_with_config_rt(jobsql_core::session::config(), env);
    jobsql_core::memory::install(&ctx);
    (ctx, pool)
}

/// The one integer `sql` answers.
async fn answer(ctx: &SessionContext, sql: &str) -> datafusion::error::Result<Option<i64>> {
    let batches = ctx.sql(sql).await?.collect().await?;
    let column = batches
        .iter()
        .find(|b| b.num_rows() > 0)
        .map(|b| b.column(0).clone());
    Ok(column.and_then(|c| {
        let c =
            datafusion::arrow::compute::cast(&c, &datafusion::arrow::datatypes::DataType::Int64)
                .ok()?;
        let ints = c.as_primitive::<Int64Type>();
        (!ints.is_null(0)).then(|| ints.value(0))
    }))
}

/// Run case `case` at size `n` and check it.
fn check(case: &Case, n: u64) -> Result<(), TestCaseError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (ctx, pool) = session();
    let sql = (case.sql)(n);
    let (result, largest) = largest_during(|| runtime.block_on(answer(&ctx, &sql)));
    let builds = (case.builds)(n);
    prop_assert!(
        largest <= 2 * LIMIT,
        "{sql}: an allocation of {largest} bytes (the limit is {LIMIT})"
    );
    prop_assert!(
        pool.most.load(Ordering::Relaxed) <= LIMIT,
        "{sql}: the pool held {pool}"
    );
    match result {
        Ok(got) => {
            prop_assert!(
                builds <= 4 * LIMIT as u64,
                "{sql}: not refused ({builds} bytes)"
            );
            if let Some(want) = (case.answer)(n) {
                prop_assert_eq!(got, Some(want), "{}", sql);
            }
        }
        Err(e) => {
            let message = user_message(&e);
            prop_assert!(
                builds > LIMIT as u64 / 4,
                "{sql}: refused though small: {message}"
            );
            prop_assert!(
                case.names.iter().any(|name| message.contains(name))
                    && message.contains("16 MB a statement may use (--memory-limit-mb"),
                "{sql}: {message}"
            );
        }
    }
    Ok(())
}

#[test]
fn no_function_builds_past_the_pool_and_refusals_name_it() {
    let mut runner = TestRunner::new(Config {
        cases: 96,
        failure_persistence: None,
        ..Config::default()
    });
    // Sizes from 1 to 9e10, log-uniform.
    let sizes = (1u64..10, 0u32..=10).prop_map(|(d, e)| d * 10u64.pow(e));
    runner
        .run(&(0..CASES.len(), sizes), |(i, n)| check(&CASES[i], n))
        .unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn every_case_is_refused_at_its_largest_and_answered_at_its_smallest() {
    for case in CASES {
        check(case, 1_000).unwrap_or_else(|e| panic!("{e}"));
        check(case, 50_000_000_000).unwrap_or_else(|e| panic!("{e}"));
    }
}

/// Statements whose answers counting must not change: constants where they become row values,
/// `||` with NULLs, CASE, aggregates with literal settings, windows, UNION (which compares the
/// sides' nullability), nested and planner-made functions.
const SAME: &[&str] = &[
    "SELECT 'a' AS x, v FROM generate_series(1, 3) t(v)",
    "SELECT 'a' AS p FROM generate_series(1, 2) UNION ALL SELECT 'b' FROM generate_series(1, 2)",
    "SELECT v || 'x', 'x' || NULL, CAST(NULL AS VARCHAR) || v, CAST(v AS VARCHAR) || v \
     FROM generate_series(1, 3) t(v)",
    "SELECT CASE WHEN v > 1 THEN 'big' ELSE repeat('s', 3) END FROM generate_series(1, 3) t(v)",
    "SELECT string_agg(CAST(v AS VARCHAR), ','), count('x'), array_agg('k') \
     FROM generate_series(1, 5) t(v)",
    "SELECT 'g' AS g, count(*) FROM generate_series(1, 5) GROUP BY 'g'",
    "SELECT v, lag(v, 1, 0) OVER (ORDER BY v), first_value('w') OVER (ORDER BY v) \
     FROM generate_series(1, 4) t(v)",
    "SELECT upper(lower(trim(concat(' a', v, 'B ')))) FROM generate_series(1, 3) t(v)",
    "SELECT [1, 2] || [3], overlay('abcdef' PLACING 'XY' FROM 2 FOR 3), \
     named_struct('a', 1, 'b', 'x')['b']",
    "SELECT DISTINCT 'a' FROM generate_series(1, 3)",
    "SELECT v FROM generate_series(1, 5) t(v) WHERE v IN (SELECT v + 1 FROM generate_series(1, 2) s(v)) \
     AND EXISTS (SELECT 1) ORDER BY v",
    "SELECT lpad(CAST(v AS VARCHAR), 4, '0'), repeat('ab', v), cardinality(range(v)) \
     FROM generate_series(1, 3) t(v)",
];

#[tokio::test]
async fn counting_changes_no_answer_and_no_column() {
    let (counted, _) = session();
    let plain = SessionContext::new_with_config(jobsql_core::session::config());
    for sql in SAME {
        let run = |ctx: SessionContext| async move {
            let df = ctx.sql(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
            let schema = df.schema().as_arrow().clone();
            let batches = df.collect().await.unwrap_or_else(|e| panic!("{sql}: {e}"));
            let text = datafusion::arrow::util::pretty::pretty_format_batches(&batches)
                .map(|t| t.to_string())
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
            (schema, text)
        };
        let (want_schema, want) = run(plain.clone()).await;
        let (schema, got) = run(counted.clone()).await;
        assert_eq!(schema, want_schema, "{sql}");
        assert_eq!(got, want, "{sql}");
    }
}
