//! Life cycles: a run is a sequence of segments (the original execution, then each repair).
//! Generated history segments are fixed (terminal, or active until canceled); segments created
//! through the API (runs/submit, jobs/run-now, runs/repair) move on the emulator clock:
//! QUEUED (run-now) or PENDING (submit, repair) for one phase, RUNNING for one phase, then
//! TERMINATED. runs/cancel ends the active segment at once with TERMINATED / CANCELED.
//! Task states are derived from the segment that last ran each task.

use crate::state::data::{Life, Outcome, TaskDef, MAX_TASK_OFFSET};
use crate::state::history::Durations;
use crate::state::store::{RunFilter, Store};

/// One execution of (some of) a run's tasks.
#[derive(Debug, Clone)]
pub(crate) struct Segment {
    /// `None` for the original execution.
    pub repair_id: Option<i64>,
    pub start: i64,
    /// 0 while active.
    pub end: i64,
    pub life: Life,
    pub durations: Durations,
    /// Task indexes this segment ran, in order.
    pub rerun: Vec<usize>,
    /// Task-run id offset (above the job run id) of `rerun[0]`.
    pub first_offset: i64,
    /// The task that failed (or was canceled) in this segment, if any.
    pub failed_task: Option<usize>,
}

/// Tasks that transitively depend on `f`.
pub(crate) fn downstream(tasks: &[TaskDef], f: usize) -> Vec<usize> {
    let mut hit = vec![false; tasks.len()];
    if f < hit.len() {
        hit[f] = true;
    }
    let mut changed = true;
    while changed {
        changed = false;
        for (t, task) in tasks.iter().enumerate() {
            if !hit[t]
                && task
                    .deps
                    .iter()
                    .any(|d| hit.get(*d).copied().unwrap_or(false))
            {
                hit[t] = true;
                changed = true;
            }
        }
    }
    (0..tasks.len()).filter(|&t| t != f && hit[t]).collect()
}

/// A segment driven by the clock.
fn clocked(
    start: i64,
    now: i64,
    phase: i64,
    first: Life,
    outcome: Outcome,
    cancelled_at: Option<i64>,
) -> (Life, i64, Durations) {
    let done = start + 2 * phase;
    if let Some(c) = cancelled_at {
        if c < done {
            let d = Durations {
                queue: 0,
                setup: (c - start).min(phase),
                execution: (c - start - phase).max(0),
                cleanup: 0,
            };
            return (Life::Done(Outcome::Canceled), c, d);
        }
    }
    let el = now - start;
    if el < phase {
        (first, 0, Durations::default())
    } else if el < 2 * phase {
        (
            Life::Running,
            0,
            Durations {
                setup: phase,
                ..Durations::default()
            },
        )
    } else {
        (
            Life::Done(outcome),
            done,
            Durations {
                queue: 0,
                setup: phase,
                execution: phase,
                cleanup: 0,
            },
        )
    }
}

/// The segments of run `i` at `now`.
pub(crate) fn segments(store: &Store, i: u32, now: i64) -> Vec<Segment> {
    let tasks = store.tasks_of(i);
    let k = tasks.len();
    let all: Vec<usize> = (0..k).collect();
    let overlay = store.overlays.get(&i);
    let hist = &store.hist;
    let phase = store.phase_ms;
    let mut segs = Vec::new();
    let start = store.start_time(i);
    if let Some(c) = store.created(i) {
        let failing = tasks.iter().position(|t| t.fails);
        let outcome = if failing.is_some() {
            Outcome::Failed
        } else {
            Outcome::Success
        };
        let first = if c.queued {
            Life::Queued
        } else {
            Life::Pending
        };
        let (life, end, durations) = clocked(
            start,
            now,
            phase,
            first,
            outcome,
            overlay.and_then(|o| o.cancelled_at),
        );
        let failed_task = match life {
            Life::Done(Outcome::Failed) => failing,
            Life::Done(Outcome::Canceled) => Some(0),
            _ => None,
        };
        segs.push(Segment {
            repair_id: None,
            start,
            end,
            life,
            durations,
            rerun: all,
            first_offset: 1,
            failed_task,
        });
    } else if hist.is_active(i) {
        let (life, end) = match overlay.and_then(|o| o.cancelled_at) {
            Some(c) => (Life::Done(Outcome::Canceled), c),
            None => (hist.active_life(i), 0),
        };
        let failed_task = matches!(life, Life::Done(_)).then_some(0);
        segs.push(Segment {
            repair_id: None,
            start,
            end,
            life,
            durations: Durations::default(),
            rerun: all,
            first_offset: 1,
            failed_task,
        });
    } else {
        let serverless = tasks.iter().any(|t| t.spec.contains_key("environment_key"));
        let outcome = hist.outcome(i, k > 1);
        let durations = if outcome == Outcome::Skipped {
            Durations::default()
        } else {
            hist.durations(i, serverless)
        };
        let end = start + durations.total();
        let repairs = hist.repairs(i, outcome, hist.run_type(i));
        let failed_task = if outcome.is_failure() || outcome == Outcome::SuccessWithFailures {
            Some(if repairs > 0 {
                k - 1
            } else {
                (hist.rand(i, 1) % k.max(1) as u64) as usize
            })
        } else {
            None
        };
        segs.push(Segment {
            repair_id: None,
            start,
            end,
            life: Life::Done(outcome),
            durations,
            rerun: all,
            first_offset: 1,
            failed_task,
        });
        if repairs > 0 {
            let f = k - 1;
            let mut rerun = vec![f];
            rerun.extend(downstream(tasks, f));
            let room = (hist.now0 - 1_000 - end).max(repairs as i64 * 4);
            let per = room / repairs as i64;
            let dur = (per / 2)
                .min(300_000 + (hist.rand(i, 2) % 300_000) as i64)
                .max(2);
            let gap = (per / 4).clamp(1, 600_000);
            let mut t = end;
            let mut off = 1 + k as i64;
            for r in 0..repairs {
                let s = t + gap;
                let last = r + 1 == repairs;
                let o = if last {
                    hist.final_repair_outcome(i)
                } else {
                    Outcome::Failed
                };
                let d = Durations {
                    queue: 0,
                    setup: dur / 4,
                    execution: dur - dur / 4 - dur / 8,
                    cleanup: dur / 8,
                };
                segs.push(Segment {
                    repair_id: Some(repair_id(store, i, r)),
                    start: s,
                    end: s + dur,
                    life: Life::Done(o),
                    durations: d,
                    rerun: rerun.clone(),
                    first_offset: off,
                    failed_task: (o != Outcome::Success).then_some(f),
                });
                off += rerun.len() as i64;
                t = s + dur;
            }
        }
    }
    if let Some(o) = overlay {
        for rep in &o.repairs {
            let off = next_offset(&segs);
            let (life, end, durations) = clocked(
                rep.start,
                now,
                phase,
                Life::Pending,
                Outcome::Success,
                rep.cancelled_at,
            );
            let failed_task = matches!(life, Life::Done(Outcome::Canceled))
                .then(|| rep.rerun.first().copied())
                .flatten();
            segs.push(Segment {
                repair_id: Some(rep.id),
                start: rep.start,
                end,
                life,
                durations,
                rerun: rep.rerun.clone(),
                first_offset: off,
                failed_task,
            });
        }
    }
    segs
}

/// The task-run id offset the next repair would start at.
pub(crate) fn next_offset(segs: &[Segment]) -> i64 {
    segs.last()
        .map_or(1, |s| s.first_offset + s.rerun.len() as i64)
}

/// Can `extra` more task runs be added to this run?
pub(crate) fn has_room(segs: &[Segment], extra: usize) -> bool {
    next_offset(segs) + extra as i64 - 1 <= MAX_TASK_OFFSET
}

/// Repair id of the `r`-th repair of run `i` (generated and runtime repairs share the formula).
pub(crate) fn repair_id(store: &Store, i: u32, r: usize) -> i64 {
    store.hist.run_id(i) - store.hist.run_base + 800_000_000_000_000 + r as i64
}

/// The current life of run `i` (its last segment).
pub(crate) fn current_life(store: &Store, i: u32, now: i64) -> Life {
    segments(store, i, now)
        .last()
        .map_or(Life::Pending, |s| s.life)
}

/// The state of each task: `(segment index, position in that segment)` of its latest run.
pub(crate) fn task_owners(segs: &[Segment], k: usize) -> Vec<(usize, usize)> {
    let mut owner = vec![(0usize, 0usize); k];
    for (s, seg) in segs.iter().enumerate() {
        for (p, &t) in seg.rerun.iter().enumerate() {
            if t < k {
                owner[t] = (s, p);
            }
        }
    }
    owner
}

/// The life of task `t` within segment `seg`; `down` is `downstream(tasks, seg.failed_task)`.
pub(crate) fn task_life(tasks: &[TaskDef], seg: &Segment, t: usize, down: &[usize]) -> Life {
    let root = tasks[t].deps.iter().all(|d| !seg.rerun.contains(d));
    match seg.life {
        Life::Queued | Life::Pending => Life::Pending,
        Life::Terminating => Life::Done(Outcome::Success),
        Life::Running | Life::Blocked => {
            if root {
                Life::Running
            } else {
                Life::Blocked
            }
        }
        Life::Done(o) => match (o, seg.failed_task) {
            (Outcome::Success, _) => Life::Done(Outcome::Success),
            (Outcome::Skipped, _) => Life::Done(Outcome::Skipped),
            (_, Some(f)) if f == t => Life::Done(o),
            (Outcome::SuccessWithFailures, _) => Life::Done(Outcome::Success),
            (_, Some(_)) if down.contains(&t) => Life::Done(match o {
                Outcome::Canceled | Outcome::TimedOut => Outcome::UpstreamCanceled,
                _ => Outcome::UpstreamFailed,
            }),
            (Outcome::Canceled, None) => Life::Done(Outcome::Canceled),
            _ => Life::Done(Outcome::Success),
        },
    }
}

/// The runs matching `f` within `[lo, hi)`, newest first when `desc`, at most `want`, with
/// "active" judged at `now` (see [`Store::scan`]).
pub(crate) fn scan(
    store: &Store,
    f: &RunFilter,
    now: i64,
    lo: u32,
    hi: u32,
    desc: bool,
    want: usize,
) -> Vec<u32> {
    let active = |i: u32| current_life(store, i, now).is_active();
    store.scan(f, &active, lo, hi, desc, want)
}
