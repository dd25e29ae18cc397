//! [`NotableRuns`]: ids in the generated history that tests can rely on, found once at start
//! by walking the newest part of the history (and the fixed roles of [`super::history`]).

use super::cleanrooms::Room;
use super::data::RunType;
use super::lifecycle::segments;
use super::store::Store;
use super::NotableRuns;

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
