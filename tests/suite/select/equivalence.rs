//! Random predicate combinations: every pushed-down result equals the answer computed here, in
//! plain Rust, from the raw JSON pages of the API (fetched with reqwest, not through jobsql).
//!
//! Parameter columns follow their documented meaning: `active_only = true` keeps the runs the
//! API lists with `active_only=true` and the column then holds `true` (NULL when WHERE does not
//! set it); `deployment_name` is the workspace a row comes from (the default one when WHERE does
//! not name any); `start_time_from = t` keeps runs started at or after t.

use std::collections::BTreeSet;

use serde_json::Value;

use super::common::*;

/// SQL's three-valued AND / OR.
fn and(a: Option<bool>, b: Option<bool>) -> Option<bool> {
    match (a, b) {
        (Some(false), _) | (_, Some(false)) => Some(false),
        (Some(true), Some(true)) => Some(true),
        _ => None,
    }
}

fn or(a: Option<bool>, b: Option<bool>) -> Option<bool> {
    and(a.map(|x| !x), b.map(|x| !x)).map(|x| !x)
}

/// One run of the raw API, with what its listings with `active_only` / `completed_only` said.
struct Run {
    ws: &'static str,
    run_id: i64,
    job_id: Option<i64>,
    run_type: Option<String>,
    start_ms: Option<i64>,
    result: Option<String>,
    active: bool,
    completed: bool,
}

/// The parameter columns' values that WHERE sets (the first setting wins; two different ones
/// leave no row, as the other is then compared with the column).
#[derive(Default)]
struct Pins {
    active: Option<bool>,
    completed: Option<bool>,
    from: Option<i64>,
    workspaces: Option<Vec<&'static str>>,
}

enum Pin {
    Active(bool),
    Completed(bool),
    From(i64),
    Workspaces(Vec<&'static str>),
}

type Eval = Box<dyn Fn(&Run, &Pins) -> Option<bool>>;

struct Atom {
    sql: String,
    pin: Option<Pin>,
    eval: Eval,
}

fn atom(sql: String, eval: impl Fn(&Run, &Pins) -> Option<bool> + 'static) -> Atom {
    Atom {
        sql,
        pin: None,
        eval: Box::new(eval),
    }
}

/// `start_time <op> t` with t in microseconds (a NULL start time compares to NULL). DataFusion
/// compares in the column's unit: the literal is first cast to milliseconds, dropping the
/// sub-millisecond digits (`< x.5 ms` is `< x ms`), and so does this.
fn compare(start_ms: Option<i64>, op: &str, t_us: i64) -> Option<bool> {
    let (s, t) = (start_ms?, t_us.div_euclid(1000));
    Some(match op {
        ">" => s > t,
        ">=" => s >= t,
        "<" => s < t,
        "<=" => s <= t,
        _ => s == t,
    })
}

struct Pools {
    jobs: Vec<i64>,
    run_ids: Vec<i64>,
    times: Vec<i64>,
}

fn random_atom(rng: &mut Rng, p: &Pools) -> Atom {
    let job = *rng.pick(&p.jobs);
    let job2 = *rng.pick(&p.jobs);
    let run = *rng.pick(&p.run_ids);
    let run2 = *rng.pick(&p.run_ids);
    let t = *rng.pick(&p.times) + *rng.pick(&[-1i64, 0, 0, 1]);
    let u = *rng.pick(&p.times);
    let op = *rng.pick(&[">", ">=", "<", "<="]);
    let ty = rng
        .pick(&["JOB_RUN", "SUBMIT_RUN", "WORKFLOW_RUN", "BOGUS"])
        .to_string();
    let ty2 = rng
        .pick(&["JOB_RUN", "SUBMIT_RUN", "WORKFLOW_RUN"])
        .to_string();
    let state = rng.pick(&["SUCCESS", "FAILED", "CANCELED"]).to_string();
    let pinned = |sql: &str, pin: Pin, eval: fn(&Run, &Pins) -> Option<bool>| Atom {
        sql: sql.to_string(),
        pin: Some(pin),
        eval: Box::new(eval),
    };
    match rng.below(24) {
        0 => atom(format!("job_id = {job}"), move |r, _| {
            r.job_id.map(|j| j == job)
        }),
        1 => atom(format!("job_id IN ({job}, {job2}, 987654)"), move |r, _| {
            r.job_id.map(|j| j == job || j == job2 || j == 987654)
        }),
        2 => atom(format!("run_id = {run}"), move |r, _| Some(r.run_id == run)),
        3 => atom(format!("run_id IN ({run}, {run2}, 123)"), move |r, _| {
            Some([run, run2, 123].contains(&r.run_id))
        }),
        4 => atom(format!("run_type = '{ty}'"), move |r, _| {
            r.run_type.as_ref().map(|x| *x == ty)
        }),
        5 => atom(format!("run_type IN ('{ty}', '{ty2}')"), move |r, _| {
            r.run_type.as_ref().map(|x| *x == ty || *x == ty2)
        }),
        6 => atom(
            format!("start_time {op} to_timestamp_millis({t})"),
            move |r, _| compare(r.start_ms, op, t * 1000),
        ),
        7 => atom(
            format!("start_time {op} to_timestamp_micros({})", t * 1000 + 500),
            move |r, _| compare(r.start_ms, op, t * 1000 + 500),
        ),
        8 => {
            let (lo, hi) = (t.min(u), t.max(u));
            atom(
                format!(
                    "start_time BETWEEN to_timestamp_millis({lo}) AND to_timestamp_millis({hi})"
                ),
                move |r, _| {
                    and(
                        compare(r.start_ms, ">=", lo * 1000),
                        compare(r.start_ms, "<=", hi * 1000),
                    )
                },
            )
        }
        9 => atom(format!("state['result_state'] = '{state}'"), move |r, _| {
            r.result.as_ref().map(|x| *x == state)
        }),
        10 => atom("job_id IS NULL".into(), |r, _| Some(r.job_id.is_none())),
        11 => atom(
            format!("(job_id = {job} OR run_type = 'SUBMIT_RUN')"),
            move |r, _| {
                or(
                    r.job_id.map(|j| j == job),
                    r.run_type.as_ref().map(|x| x == "SUBMIT_RUN"),
                )
            },
        ),
        12 => atom(
            format!("start_time = to_timestamp_millis({t})"),
            move |r, _| compare(r.start_ms, "=", t * 1000),
        ),
        13 => atom(format!("NOT (run_id = {run})"), move |r, _| {
            Some(r.run_id != run)
        }),
        14 => pinned("active_only = true", Pin::Active(true), |_, p| p.active),
        15 => pinned("active_only = false", Pin::Active(false), |_, p| {
            p.active.map(|a| !a)
        }),
        16 => pinned("completed_only", Pin::Completed(true), |_, p| p.completed),
        17 => pinned("NOT completed_only", Pin::Completed(false), |_, p| {
            p.completed.map(|c| !c)
        }),
        18 => pinned(
            "deployment_name = 'west'",
            Pin::Workspaces(vec!["west"]),
            |r, _| Some(r.ws == "west"),
        ),
        19 => pinned(
            "deployment_name = 'emu'",
            Pin::Workspaces(vec!["emu"]),
            |r, _| Some(r.ws == "emu"),
        ),
        20 => pinned(
            "deployment_name IN ('emu', 'west')",
            Pin::Workspaces(vec!["emu", "west"]),
            |_, _| Some(true),
        ),
        21 => Atom {
            sql: format!("start_time_from = {t}"),
            pin: Some(Pin::From(t)),
            eval: Box::new(move |_, p| p.from.map(|f| f == t)),
        },
        22 => atom(
            "start_time >= to_timestamp_millis(-86400000)".into(),
            |r, _| compare(r.start_ms, ">=", -86_400_000_000),
        ),
        _ => atom(
            format!(
                "start_time > to_timestamp_millis({t}) AND start_time < to_timestamp_millis({t})"
            ),
            |_, _| Some(false),
        ),
    }
}

/// The (workspace, run_id) pairs the conjunction of `atoms` selects, sorted.
fn expected(runs: &[Run], atoms: &[Atom]) -> Vec<(String, i64)> {
    let mut pins = Pins::default();
    for a in atoms {
        match &a.pin {
            Some(Pin::Active(v)) => pins.active = pins.active.or(Some(*v)),
            Some(Pin::Completed(v)) => pins.completed = pins.completed.or(Some(*v)),
            Some(Pin::From(v)) => pins.from = pins.from.or(Some(*v)),
            Some(Pin::Workspaces(w)) if pins.workspaces.is_none() => {
                pins.workspaces = Some(w.clone())
            }
            _ => {}
        }
    }
    let workspaces = pins.workspaces.clone().unwrap_or_else(|| vec!["emu"]);
    let mut out: Vec<(String, i64)> = runs
        .iter()
        .filter(|r| workspaces.contains(&r.ws))
        .filter(|r| pins.active != Some(true) || r.active)
        .filter(|r| pins.completed != Some(true) || r.completed)
        .filter(|r| pins.from.is_none_or(|f| r.start_ms.is_some_and(|s| s >= f)))
        .filter(|r| {
            atoms
                .iter()
                .map(|a| (a.eval)(r, &pins))
                .fold(Some(true), and)
                == Some(true)
        })
        .map(|r| (r.ws.to_string(), r.run_id))
        .collect();
    out.sort();
    out
}

async fn raw_runs(ws: &'static str, emulator: &jobsql_emulator::EmulatorHandle) -> Vec<Run> {
    let ids = |runs: Vec<Value>| -> BTreeSet<i64> {
        runs.iter().filter_map(|r| r["run_id"].as_i64()).collect()
    };
    let active = ids(all_runs_raw(emulator, &[("active_only", "true")]).await);
    let completed = ids(all_runs_raw(emulator, &[("completed_only", "true")]).await);
    all_runs_raw(emulator, &[])
        .await
        .iter()
        .map(|r| {
            let run_id = r["run_id"].as_i64().expect("run_id");
            Run {
                ws,
                run_id,
                job_id: r["job_id"].as_i64(),
                run_type: r["run_type"].as_str().map(str::to_string),
                start_ms: r["start_time"].as_i64().filter(|s| *s != 0),
                result: r["state"]["result_state"].as_str().map(str::to_string),
                active: active.contains(&run_id),
                completed: completed.contains(&run_id),
            }
        })
        .collect()
}

#[tokio::test]
async fn random_predicates_give_exactly_the_raw_api_answer() {
    let emu = emulator(500, 42).await;
    let west = emulator(150, 7).await;
    let ctx = session(&emu, &[("emu", &emu), ("west", &west)]);
    let mut runs = raw_runs("emu", &emu).await;
    runs.extend(raw_runs("west", &west).await);
    let emu_runs: Vec<&Run> = runs.iter().filter(|r| r.ws == "emu").collect();
    let mut jobs: Vec<i64> = emu_runs.iter().filter_map(|r| r.job_id).collect();
    jobs.sort();
    jobs.dedup();
    let pools = Pools {
        jobs,
        run_ids: emu_runs.iter().map(|r| r.run_id).collect(),
        times: emu_runs.iter().filter_map(|r| r.start_ms).collect(),
    };
    assert!(pools.run_ids.len() >= 400 && pools.jobs.len() > 2);
    assert!(runs.iter().any(|r| r.active) && runs.iter().any(|r| r.completed));

    let mut rng = Rng(20261125);
    let (mut requests, mut non_empty) = (0usize, 0usize);
    for case in 0..160 {
        let atoms: Vec<Atom> = (0..1 + rng.below(3))
            .map(|_| random_atom(&mut rng, &pools))
            .collect();
        let predicate = atoms
            .iter()
            .map(|a| a.sql.as_str())
            .collect::<Vec<_>>()
            .join(" AND ");
        let want = expected(&runs, &atoms);
        non_empty += usize::from(!want.is_empty());
        let select = format!("SELECT deployment_name, run_id FROM {RUNS} WHERE {predicate}");
        emu.clear_requests();
        let mut got = pairs(&query(&ctx, &select).await);
        requests += emu.requests().len();
        got.sort();
        assert_same(&got, &want, &format!("case {case}: WHERE {predicate}"));

        // ORDER BY + LIMIT: the first rows; LIMIT alone: any rows of the answer, as many.
        let n = 1 + rng.below(30);
        let ordered = pairs(
            &query(
                &ctx,
                &format!("{select} ORDER BY deployment_name, run_id LIMIT {n}"),
            )
            .await,
        );
        assert_eq!(
            ordered,
            want[..n.min(want.len())],
            "case {case}: ordered LIMIT {n}"
        );
        let some = pairs(&query(&ctx, &format!("{select} LIMIT {n}")).await);
        let distinct: BTreeSet<_> = some.iter().collect();
        assert_eq!(some.len(), n.min(want.len()), "case {case}: LIMIT {n}");
        assert_eq!(
            distinct.len(),
            some.len(),
            "case {case}: LIMIT {n}, no row twice"
        );
        assert!(
            some.iter().all(|p| want.contains(p)),
            "case {case}: LIMIT {n} ⊆ answer"
        );
    }
    assert!(non_empty > 40, "enough cases select rows: {non_empty}");
    // Pushdown made the scans cheaper than 160 full listings of the default workspace.
    assert!(
        requests < 160 * pools.run_ids.len().div_ceil(25),
        "{requests} requests"
    );
}
