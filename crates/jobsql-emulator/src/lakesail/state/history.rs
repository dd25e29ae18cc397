//! The generated history, a pure function of the seed and "now": `jobs` jobs (created 60 to
//! 120 days ago; the fifth is `paused`) and `runs` runs created over the last 60 days. The
//! first job gets about 60% of the runs (several pages at 100), the others share the rest.
//! Listed newest first, the 7 newest runs are, in order, `pending`, `ready`, `starting`,
//! `creating_sail`, `waiting_for_sail`, `creating_runner` and `running`, the next 4
//! `succeeded`, `failed`, `cancelled` and `timeout` (so with 11 runs or more every status is
//! present); the others end as drawn (mostly `succeeded`). `startedAt` / `finishedAt` follow
//! the status: null until the run started / ended (a run cancelled while waiting never
//! started), never after "now". Generated runs stand still (`Life::Recorded`).

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::model::{Job, Life, Run, Status, Trigger};
use super::rng::Rng;

/// How far back the runs go: 60 days.
pub(crate) const HISTORY_MS: i64 = 60 * 24 * 3600 * 1000;

const KEYS: [&str; 6] = [
    "daily-sales-etl",
    "hourly-clickstream",
    "ml-feature-refresh",
    "nightly-backfill",
    "weekly-report",
    "inventory-sync",
];

const USERS: [&str; 3] = ["ana@example.com", "bo@example.com", "chen@example.com"];

/// The jobs and runs for `seed`, up to `now_ms`; and the generator that makes later ids.
pub(crate) fn generate(
    seed: u64,
    jobs: usize,
    runs: usize,
    now_ms: i64,
) -> (Vec<Job>, Vec<Run>, Rng) {
    let mut rng = Rng::new(seed, 1);
    let mut ids = HashSet::new();
    let mut fresh = |rng: &mut Rng, prefix: char| loop {
        let id = rng.id(prefix, 10);
        if ids.insert(id.clone()) {
            return id;
        }
    };
    let day = 24 * 3600 * 1000;
    let jobs: Vec<Job> = (0..jobs)
        .map(|k| Job {
            id: fresh(&mut rng, 'J'),
            key: match KEYS.get(k) {
                Some(key) => key.to_string(),
                None => format!("job-{}", k + 1),
            },
            version: 1 + rng.below(5) as i64,
            status: if k == 4 { "paused" } else { "active" },
            description: format!("Emulated job {} of seed {seed}", k + 1),
            created_ms: now_ms - 120 * day + (k as i64) * day + rng.below(day as u64) as i64,
        })
        .collect();
    let mut created: Vec<i64> = (0..runs)
        .map(|_| now_ms - HISTORY_MS + 60_000 + rng.below((HISTORY_MS - 120_000) as u64) as i64)
        .collect();
    created.sort_unstable_by(|a, b| b.cmp(a));
    let runs = created
        .into_iter()
        .enumerate()
        .map(|(k, created_ms)| {
            let job = if jobs.len() == 1 || rng.unit() < 0.6 {
                &jobs[0]
            } else {
                &jobs[1 + rng.below(jobs.len() as u64 - 1) as usize]
            };
            let status = match k {
                0..=10 => Status::ALL[k],
                _ => match rng.below(100) {
                    0..=74 => Status::Succeeded,
                    75..=86 => Status::Failed,
                    87..=93 => Status::Timeout,
                    _ => Status::Cancelled,
                },
            };
            let id = fresh(&mut rng, 'R');
            run(&mut rng, id, job, created_ms, status, now_ms)
        })
        .collect();
    (jobs, runs, rng)
}

/// One generated run of `job` created at `created_ms`, ended (or not) as `status`.
fn run(rng: &mut Rng, id: String, job: &Job, created_ms: i64, status: Status, now_ms: i64) -> Run {
    let trigger = match rng.below(10) {
        0..=5 => Trigger::Schedule,
        6..=7 => Trigger::Manual,
        _ => Trigger::Api,
    };
    let created_by = match trigger {
        Trigger::Schedule => "system:scheduler".to_string(),
        Trigger::Manual => USERS[rng.below(USERS.len() as u64) as usize].to_string(),
        Trigger::Api => format!("sa-{}@service.example.com", job.key),
    };
    let age_days = (now_ms - created_ms) / (24 * 3600 * 1000);
    let version = (job.version - age_days / 20).max(1);
    let mut parameters = Map::new();
    if rng.below(3) > 0 {
        parameters.insert(
            "env".into(),
            Value::from(if rng.below(4) == 0 { "staging" } else { "prod" }),
        );
    }
    if trigger == Trigger::Schedule {
        parameters.insert("batch".into(), Value::from(created_ms / 3_600_000));
    }
    let started = (created_ms + 5_000 + rng.below(55_000) as i64).min(now_ms);
    let finished = (started + 60_000 + rng.below(3_600_000) as i64).min(now_ms);
    let (started_ms, finished_ms) = match status {
        Status::Pending | Status::Ready => (None, None),
        Status::Cancelled if rng.below(2) == 0 => (None, Some(started)),
        s if s.is_terminal() => (Some(started), Some(finished.max(started))),
        _ => (Some(started), None),
    };
    let attempt = if status.is_terminal() && rng.below(10) == 0 {
        2
    } else {
        1
    };
    Run {
        id,
        job_id: job.id.clone(),
        job_key: job.key.clone(),
        version,
        trigger,
        parameters,
        created_ms,
        created_by,
        attempt,
        life: Life::Recorded {
            status,
            started_ms,
            finished_ms,
        },
    }
}
