//! [`Store`]: the jobs, and the runs in listing order. Runs are kept by their key
//! `(createdAt ms, id)`, so a listing newest first is a reverse walk of an ordered map, and a
//! page marker (the key of the last run returned) continues strictly after it: runs created or
//! deleted between pages shift nothing, so a walk never returns a run twice or skips one.

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;

use super::model::{Job, Run};
use super::rng::Rng;

/// The order of runs (and of jobs): `(createdAt ms, id)`, listed from the largest down.
pub(crate) type Key = (i64, String);

/// The emulator's jobs and runs.
#[derive(Debug)]
pub(crate) struct Store {
    jobs: Vec<Job>,
    runs: BTreeMap<Key, Run>,
    by_id: HashMap<String, Key>,
    rng: Rng,
}

impl Store {
    /// A store of `jobs` and `runs`; `rng` makes the ids of runs created later.
    pub fn new(jobs: Vec<Job>, runs: Vec<Run>, rng: Rng) -> Store {
        let mut store = Store {
            jobs,
            runs: BTreeMap::new(),
            by_id: HashMap::new(),
            rng,
        };
        for run in runs {
            store.insert(run);
        }
        store
    }

    /// The jobs, in the order they were generated (the first has the most runs).
    pub fn jobs(&self) -> &[Job] {
        &self.jobs
    }

    /// The job `id`.
    pub fn job(&self, id: &str) -> Option<&Job> {
        self.jobs.iter().find(|j| j.id == id)
    }

    /// The run `id`.
    pub fn run(&self, id: &str) -> Option<&Run> {
        self.by_id.get(id).and_then(|k| self.runs.get(k))
    }

    /// The run `id`, to change (its key, `createdAt` and id, never changes).
    pub fn run_mut(&mut self, id: &str) -> Option<&mut Run> {
        let key = self.by_id.get(id)?;
        self.runs.get_mut(key)
    }

    /// Add a run.
    pub fn insert(&mut self, run: Run) {
        let key = (run.created_ms, run.id.clone());
        self.by_id.insert(run.id.clone(), key.clone());
        self.runs.insert(key, run);
    }

    /// Remove the run `id`.
    pub fn remove(&mut self, id: &str) -> Option<Run> {
        let key = self.by_id.remove(id)?;
        self.runs.remove(&key)
    }

    /// How many runs there are.
    pub fn len(&self) -> usize {
        self.runs.len()
    }

    /// Every run newest first, starting strictly after `after` (the key of the last run of
    /// the previous page), or at the newest.
    pub fn runs_after<'a>(&'a self, after: Option<&Key>) -> Box<dyn Iterator<Item = &'a Run> + 'a> {
        match after {
            Some(k) => Box::new(
                self.runs
                    .range((Bound::Unbounded, Bound::Excluded(k.clone())))
                    .rev()
                    .map(|(_, r)| r),
            ),
            None => Box::new(self.runs.values().rev()),
        }
    }

    /// A new run id, used by no run yet.
    pub fn new_run_id(&mut self) -> String {
        loop {
            let id = self.rng.id('R', 10);
            if !self.by_id.contains_key(&id) {
                return id;
            }
        }
    }
}
