//! The generated run history: per-index attributes (start time, run id, type, job, outcome,
//! repairs, durations) as pure functions of the seed and the index. A few indexes near the
//! newest end are forced into roles tests rely on (see `domain::notable`): a heavily
//! repaired run of the big job, a one-time run, a repaired multi-task run and a workflow run.
//! The newest `n_active` runs are still active.

use super::data::{h, pick, Outcome, RunType, HEAVY_REPAIRS, HISTORY_MS, RUN_JITTER, RUN_STRIDE};
use super::data::{mix, Life};

/// Immutable facts about the generated history.
#[derive(Debug, Clone)]
pub(crate) struct History {
    pub seed: u64,
    /// Number of generated runs.
    pub n: u32,
    /// "Now" when the emulator started (history ends just before it).
    pub now0: i64,
    pub t0: i64,
    pub spacing: i64,
    pub run_base: i64,
    /// Number of generated jobs.
    pub jobs: usize,
    pub big_job: Option<usize>,
    pub n_active: u32,
    pub heavy: Option<u32>,
    pub forced_submit: Option<u32>,
    pub forced_repaired: Option<u32>,
    pub forced_workflow: Option<u32>,
}

/// Durations of one execution, in ms.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Durations {
    pub queue: i64,
    pub setup: i64,
    pub execution: i64,
    pub cleanup: i64,
}

impl Durations {
    pub fn total(&self) -> i64 {
        self.queue + self.setup + self.execution + self.cleanup
    }
}

impl History {
    pub fn new(seed: u64, n: usize, jobs: usize, now0: i64) -> History {
        let n = n.min(u32::MAX as usize / 2) as u32;
        let spacing = if n == 0 {
            HISTORY_MS
        } else {
            (HISTORY_MS / n as i64).max(1)
        };
        let n_active = if n == 0 { 0 } else { (n / 40).clamp(1, 6) };
        let big_job = (jobs >= 2).then(|| jobs - 1);
        let s = n.checked_sub(n_active + 1);
        let slot = |k: u32| s.and_then(|s| s.checked_sub(k));
        let roles_fit = n >= n_active + 5;
        History {
            seed,
            n,
            now0,
            t0: now0 - HISTORY_MS,
            spacing,
            run_base: 100_000_000_000_000 + (mix(seed ^ 0x5eed) % 900) as i64 * 1_000_000_000_000,
            jobs,
            big_job,
            n_active,
            heavy: if roles_fit && big_job.is_some() {
                slot(0)
            } else {
                None
            },
            forced_submit: if roles_fit { slot(1) } else { None },
            forced_repaired: if roles_fit && jobs >= 1 {
                slot(2)
            } else {
                None
            },
            forced_workflow: if roles_fit && jobs >= 1 {
                slot(3)
            } else {
                None
            },
        }
    }

    /// start_time of history run `i` (strictly increasing in `i`).
    pub fn start_time(&self, i: u32) -> i64 {
        self.t0
            + i as i64 * self.spacing
            + pick(self.seed, i as u64, 20, self.spacing as u64) as i64
    }

    /// run_id of run `i` (history or created: the formula holds for every index).
    pub fn run_id(&self, i: u32) -> i64 {
        self.run_base + i as i64 * RUN_STRIDE + pick(self.seed, i as u64, 21, RUN_JITTER) as i64
    }

    /// The index whose run-id block holds `id`, and the offset of `id` above that run's id.
    pub fn locate(&self, id: i64) -> Option<(u32, i64)> {
        let rel = id.checked_sub(self.run_base)?;
        if rel < 0 {
            return None;
        }
        let i = rel / RUN_STRIDE;
        let i = u32::try_from(i).ok()?;
        let off = id - self.run_id(i);
        (off >= 0).then_some((i, off))
    }

    pub fn run_type(&self, i: u32) -> RunType {
        if Some(i) == self.forced_submit || self.jobs == 0 {
            return RunType::Submit;
        }
        if Some(i) == self.forced_workflow {
            return RunType::Workflow;
        }
        if Some(i) == self.heavy || Some(i) == self.forced_repaired {
            return RunType::Job;
        }
        match pick(self.seed, i as u64, 22, 100) {
            0..=4 => RunType::Submit,
            5..=9 => RunType::Workflow,
            _ => RunType::Job,
        }
    }

    /// The generated job of run `i` (None for one-time runs).
    pub fn job_of(&self, i: u32) -> Option<usize> {
        if self.run_type(i) == RunType::Submit {
            return None;
        }
        if Some(i) == self.heavy {
            return self.big_job;
        }
        if Some(i) == self.forced_repaired {
            return Some(0);
        }
        let mut j = pick(self.seed, i as u64, 23, self.jobs as u64) as usize;
        if Some(j) == self.big_job && pick(self.seed, i as u64, 24, 8) != 0 {
            j = (j + 1 + pick(self.seed, i as u64, 25, (self.jobs - 1) as u64) as usize)
                % self.jobs;
        }
        Some(j)
    }

    pub fn is_active(&self, i: u32) -> bool {
        i < self.n && i >= self.n - self.n_active
    }

    /// The life of an active history run (it stays there until canceled).
    pub fn active_life(&self, i: u32) -> Life {
        match (self.n - 1 - i) % 5 {
            2 => Life::Queued,
            3 => Life::Pending,
            4 => Life::Terminating,
            _ => Life::Running,
        }
    }

    /// How the original execution of terminal run `i` ended.
    pub fn outcome(&self, i: u32, multi_task: bool) -> Outcome {
        if Some(i) == self.heavy || Some(i) == self.forced_repaired {
            return Outcome::Failed;
        }
        if Some(i) == self.forced_submit || Some(i) == self.forced_workflow {
            return Outcome::Success;
        }
        match pick(self.seed, i as u64, 26, 1000) {
            0..=779 => Outcome::Success,
            780..=879 => Outcome::Failed,
            880..=919 => Outcome::Canceled,
            920..=944 => Outcome::TimedOut,
            945..=959 => Outcome::InternalError,
            960..=974 => Outcome::Skipped,
            975..=989 if multi_task => Outcome::SuccessWithFailures,
            _ => Outcome::Success,
        }
    }

    /// Number of generated repairs of run `i` (0 for most).
    pub fn repairs(&self, i: u32, original: Outcome, run_type: RunType) -> usize {
        if Some(i) == self.heavy {
            return HEAVY_REPAIRS;
        }
        if Some(i) == self.forced_repaired {
            return 1;
        }
        if original == Outcome::Failed
            && run_type == RunType::Job
            && pick(self.seed, i as u64, 27, 4) == 0
        {
            1 + pick(self.seed, i as u64, 28, 2) as usize
        } else {
            0
        }
    }

    /// The outcome of the last generated repair (earlier repairs failed).
    pub fn final_repair_outcome(&self, i: u32) -> Outcome {
        if Some(i) == self.heavy
            || Some(i) == self.forced_repaired
            || pick(self.seed, i as u64, 29, 5) != 0
        {
            Outcome::Success
        } else {
            Outcome::Failed
        }
    }

    /// Is run `i` a retry (attempt 1) of the job's previous run?
    pub fn is_retry(&self, i: u32) -> bool {
        self.run_type(i) == RunType::Job
            && Some(i) != self.heavy
            && Some(i) != self.forced_repaired
            && pick(self.seed, i as u64, 31, 25) == 0
    }

    /// Durations of the original execution of run `i` (fits before `now0`).
    pub fn durations(&self, i: u32, serverless: bool) -> Durations {
        let s = self.seed;
        let x = i as u64;
        let mut d = Durations {
            queue: if pick(s, x, 32, 10) == 0 {
                1_000 + pick(s, x, 33, 60_000) as i64
            } else {
                0
            },
            setup: if serverless {
                2_000 + pick(s, x, 34, 8_000) as i64
            } else {
                5_000 + pick(s, x, 35, 295_000) as i64
            },
            execution: 30_000 + (pick(s, x, 36, 1000) as i64).pow(2) * 7,
            cleanup: 1_000 + pick(s, x, 37, 29_000) as i64,
        };
        let room = (self.now0 - self.start_time(i) - 1_000).max(4);
        if d.total() > room {
            let q = room / 4;
            d = Durations {
                queue: 0,
                setup: q,
                execution: q * 2,
                cleanup: q,
            };
        }
        d
    }

    /// A per-run random number for the render (salted).
    pub fn rand(&self, i: u32, salt: u64) -> u64 {
        h(self.seed, i as u64, 1_000 + salt)
    }
}
