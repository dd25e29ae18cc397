//! [`NotableRuns`]: ids in the generated history that tests can rely on, found once at start
//! by walking the newest part of the history (and the fixed roles of `state::history`).

use crate::state::data::RunType;
use crate::state::rooms::Room;
use crate::state::store::Store;

use super::lifecycle::segments;

/// Ids in the generated history that tests can rely on (newest first, at most 10 per list).
#[derive(Debug, Clone)]
pub struct NotableRuns {
    /// Job runs with more than 100 tasks (and job clusters and job parameters).
    pub big_multi_task: Vec<i64>,
    /// Job runs with 2..=100 tasks.
    pub multi_task: Vec<i64>,
    /// Repaired runs; the first has more than 100 `repair_history` entries when the history has
    /// a big job.
    pub repaired: Vec<i64>,
    /// Runs active at start (they stay active until canceled).
    pub active: Vec<i64>,
    /// One-time runs (`SUBMIT_RUN`, no `job_id`).
    pub submit_runs: Vec<i64>,
    /// Every generated job, in generation order (the last is the big one when there are two or more).
    pub job_ids: Vec<i64>,
    /// Clean rooms with task runs.
    pub clean_rooms: Vec<String>,
}

const CAP: usize = 10;

/// Collect the notable ids.
pub(crate) fn collect(store: &Store, rooms: &[Room]) -> NotableRuns {
    let hist = &store.hist;
    let mut n = NotableRuns {
        big_multi_task: vec![],
        multi_task: vec![],
        repaired: vec![],
        active: vec![],
        submit_runs: vec![],
        job_ids: store.jobs.iter().map(|j| j.job_id).collect(),
        clean_rooms: rooms
            .iter()
            .filter(|r| !r.runs.is_empty())
            .map(|r| r.name.clone())
            .collect(),
    };
    if let Some(h) = hist.heavy {
        n.repaired.push(hist.run_id(h));
    }
    let now = hist.now0;
    let mut i = hist.n;
    let mut walked = 0u32;
    while i > 0 {
        i -= 1;
        walked += 1;
        let id = hist.run_id(i);
        let k = store.tasks_of(i).len();
        if hist.is_active(i) {
            n.active.push(id);
        }
        if k > 100 && n.big_multi_task.len() < CAP {
            n.big_multi_task.push(id);
        } else if k > 1 && k <= 100 && hist.run_type(i) == RunType::Job && n.multi_task.len() < CAP
        {
            n.multi_task.push(id);
        }
        if hist.run_type(i) == RunType::Submit && n.submit_runs.len() < CAP {
            n.submit_runs.push(id);
        }
        if Some(i) != hist.heavy
            && n.repaired.len() < CAP
            && !hist.is_active(i)
            && segments(store, i, now).len() > 1
        {
            n.repaired.push(id);
        }
        let full = n.big_multi_task.len() >= CAP
            && n.multi_task.len() >= CAP
            && n.submit_runs.len() >= CAP
            && n.repaired.len() >= CAP;
        if (full && walked > hist.n_active) || walked > 200_000 {
            break;
        }
    }
    n
}
