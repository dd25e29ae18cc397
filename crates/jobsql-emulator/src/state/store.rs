//! The emulator's state: the generated history (see [`super::history`]) indexed for the list
//! filters, plus overlays for everything the write endpoints change (created, changed and
//! deleted jobs, created runs, cancellations, repairs, deletions, idempotency tokens). A
//! deleted job takes its runs with it, as the API reference says: neither its details nor its
//! run history are visible afterwards.
//!
//! Runs are addressed by index: `0..n` is the history (oldest first), `n..` are runs created
//! through the API, in creation order. Index order is start_time order (ties broken by run id),
//! so "newest first" is "descending index". Per-job and per-run-type index vectors (4 bytes per
//! run each) and a binary search over start_time keep every list page O(page), never O(history).

use std::collections::{BTreeSet, HashMap, HashSet};

use serde_json::Value;

use super::acl::{generated, AclEntry, Grantee};
use super::data::{JobDef, RunType, TaskDef, TaskKind};
use super::history::History;
use super::jobgen::generate_job;

/// A run created through runs/submit or jobs/run-now.
#[derive(Debug, Clone)]
pub(crate) struct CreatedRun {
    pub start: i64,
    pub job: Option<usize>,
    pub run_type: RunType,
    pub run_name: String,
    pub tasks: Vec<TaskDef>,
    /// run-now runs are QUEUED before they start; submitted ones PENDING.
    pub queued: bool,
    pub overriding: Option<Value>,
    /// `(name, default, value)`.
    pub job_parameters: Vec<(String, String, String)>,
    pub creator: String,
    pub git_source: Option<Value>,
}

/// A repair requested through runs/repair.
#[derive(Debug, Clone)]
pub(crate) struct RuntimeRepair {
    pub id: i64,
    pub start: i64,
    pub rerun: Vec<usize>,
    pub cancelled_at: Option<i64>,
}

/// What the write endpoints changed about one run.
#[derive(Debug, Clone, Default)]
pub(crate) struct Overlay {
    /// When the original execution was canceled.
    pub cancelled_at: Option<i64>,
    pub repairs: Vec<RuntimeRepair>,
}

/// The list filters of runs/list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub(crate) struct RunFilter {
    pub job: Option<usize>,
    pub active_only: bool,
    pub completed_only: bool,
    pub run_type: Option<RunType>,
    pub from: Option<i64>,
    pub to: Option<i64>,
}

/// All state.
#[derive(Debug)]
pub(crate) struct Store {
    pub hist: History,
    pub jobs: Vec<JobDef>,
    pub per_job: Vec<Vec<u32>>,
    pub per_type: [Vec<u32>; 3],
    pub created: Vec<CreatedRun>,
    pub deleted: HashSet<u32>,
    pub overlays: HashMap<u32, Overlay>,
    /// Indexes that may be active: active history runs, created runs, repaired runs.
    pub dynamic: BTreeSet<u32>,
    pub idempotency: HashMap<String, u32>,
    /// Tasks of one-time and workflow runs in the history.
    pub adhoc_tasks: Vec<TaskDef>,
    pub workflow_tasks: Vec<TaskDef>,
    /// Life-cycle step of created runs and repairs, ms.
    pub phase_ms: i64,
    /// Jobs removed by jobs/delete (by index): they, and every run of theirs, are gone.
    pub deleted_jobs: HashSet<usize>,
    /// Generated jobs as they were before jobs/reset or jobs/update changed them: the history
    /// keeps showing the tasks, names and parameters its runs ran with.
    pub original_jobs: HashMap<usize, JobDef>,
    /// The direct permissions of jobs changed by PATCH or PUT (others: as generated).
    pub acls: HashMap<usize, Vec<AclEntry>>,
}

fn single_task(key: &str, path: &str) -> TaskDef {
    let mut spec = serde_json::Map::new();
    spec.insert("task_key".into(), Value::String(key.into()));
    spec.insert(
        "notebook_task".into(),
        serde_json::json!({"notebook_path": path, "source": "WORKSPACE"}),
    );
    spec.insert(
        "new_cluster".into(),
        serde_json::json!({"spark_version": "15.4.x-scala2.12", "node_type_id": "i3.xlarge", "num_workers": 1}),
    );
    TaskDef {
        key: key.into(),
        spec,
        kind: TaskKind::Notebook,
        deps: vec![],
        fails: false,
    }
}

impl Store {
    pub fn new(seed: u64, runs: usize, jobs: usize, now0: i64, phase_ms: i64) -> Store {
        let hist = History::new(seed, runs, jobs, now0);
        let job_defs: Vec<JobDef> = (0..jobs)
            .map(|j| generate_job(seed, j, jobs, now0))
            .collect();
        let mut per_job: Vec<Vec<u32>> = vec![Vec::new(); jobs];
        let mut per_type: [Vec<u32>; 3] = [Vec::new(), Vec::new(), Vec::new()];
        for i in 0..hist.n {
            let t = hist.run_type(i);
            per_type[t.slot()].push(i);
            if let Some(j) = hist.job_of(i) {
                per_job[j].push(i);
            }
        }
        for v in per_job.iter_mut().chain(per_type.iter_mut()) {
            v.shrink_to_fit();
        }
        let dynamic = (hist.n - hist.n_active..hist.n).collect();
        Store {
            hist,
            jobs: job_defs,
            per_job,
            per_type,
            created: Vec::new(),
            deleted: HashSet::new(),
            overlays: HashMap::new(),
            dynamic,
            idempotency: HashMap::new(),
            adhoc_tasks: vec![single_task(
                "adhoc_notebook",
                "/Users/alice@example.com/scratch/adhoc",
            )],
            workflow_tasks: vec![single_task(
                "workflow_notebook",
                "/Shared/workflows/child_notebook",
            )],
            phase_ms,
            deleted_jobs: HashSet::new(),
            original_jobs: HashMap::new(),
            acls: HashMap::new(),
        }
    }

    /// Number of runs ever (history + created), deleted ones included.
    pub fn total(&self) -> u32 {
        self.hist.n + self.created.len() as u32
    }

    pub fn created(&self, i: u32) -> Option<&CreatedRun> {
        i.checked_sub(self.hist.n)
            .and_then(|k| self.created.get(k as usize))
    }

    pub fn start_time(&self, i: u32) -> i64 {
        match self.created(i) {
            Some(c) => c.start,
            None => self.hist.start_time(i),
        }
    }

    pub fn run_type(&self, i: u32) -> RunType {
        match self.created(i) {
            Some(c) => c.run_type,
            None => self.hist.run_type(i),
        }
    }

    pub fn job_of(&self, i: u32) -> Option<usize> {
        match self.created(i) {
            Some(c) => c.job,
            None => self.hist.job_of(i),
        }
    }

    /// The job definition run `i` ran with: a history run sees its job as generated (before
    /// any jobs/reset or jobs/update), a created run the job as it is now.
    pub fn job_def_of(&self, i: u32) -> Option<&JobDef> {
        let j = self.job_of(i)?;
        if self.created(i).is_none() {
            if let Some(original) = self.original_jobs.get(&j) {
                return Some(original);
            }
        }
        self.jobs.get(j)
    }

    /// The tasks a run executes.
    pub fn tasks_of(&self, i: u32) -> &[TaskDef] {
        if let Some(c) = self.created(i) {
            return &c.tasks;
        }
        match (self.hist.run_type(i), self.job_def_of(i)) {
            (RunType::Submit, _) | (_, None) => &self.adhoc_tasks,
            (RunType::Workflow, _) => &self.workflow_tasks,
            (RunType::Job, Some(job)) => &job.tasks,
        }
    }

    /// Does run `i` belong to a deleted job?
    fn of_deleted_job(&self, i: u32) -> bool {
        !self.deleted_jobs.is_empty()
            && self
                .job_of(i)
                .is_some_and(|j| self.deleted_jobs.contains(&j))
    }

    /// Is run `i` visible (not deleted, nor a run of a deleted job)?
    pub fn exists(&self, i: u32) -> bool {
        i < self.total() && !self.deleted.contains(&i) && !self.of_deleted_job(i)
    }

    /// Index of a visible job run by its run_id.
    pub fn index_of_run(&self, run_id: i64) -> Option<u32> {
        match self.hist.locate(run_id) {
            Some((i, 0)) if self.exists(i) => Some(i),
            _ => None,
        }
    }

    /// Index of a job that exists (not deleted) by its job_id.
    pub fn job_index(&self, job_id: i64) -> Option<usize> {
        self.jobs
            .iter()
            .position(|j| j.job_id == job_id)
            .filter(|j| !self.deleted_jobs.contains(j))
    }

    /// The direct permissions of job `j`: as changed, else as generated (a job made by
    /// jobs/create: its creator, the owner, alone).
    pub fn acl(&self, j: usize) -> Vec<AclEntry> {
        if let Some(acl) = self.acls.get(&j) {
            return acl.clone();
        }
        let creator = self.jobs.get(j).map_or("", |job| job.creator.as_str());
        if j < self.hist.jobs {
            generated(self.hist.seed, j, creator)
        } else {
            vec![AclEntry {
                principal: Grantee::User(creator.to_string()),
                level: "IS_OWNER".into(),
            }]
        }
    }

    /// Keep the generated definition of job `j` before it is first changed.
    pub fn keep_original(&mut self, j: usize) {
        if j < self.hist.jobs && !self.original_jobs.contains_key(&j) {
            if let Some(job) = self.jobs.get(j) {
                self.original_jobs.insert(j, job.clone());
            }
        }
    }

    /// Is run `i` active, given `active` (the life-cycle rule, from the domain layer)? Only
    /// runs in the `dynamic` set can be; the others are finished for good.
    fn is_active(&self, i: u32, active: &dyn Fn(u32) -> bool) -> bool {
        self.dynamic.contains(&i) && active(i)
    }

    fn matches(&self, i: u32, f: &RunFilter, active: &dyn Fn(u32) -> bool) -> bool {
        if self.deleted.contains(&i) || self.of_deleted_job(i) {
            return false;
        }
        if let Some(t) = f.run_type {
            if self.run_type(i) != t {
                return false;
            }
        }
        if f.job.is_some() && self.job_of(i) != f.job {
            return false;
        }
        if f.active_only && !self.is_active(i, active) {
            return false;
        }
        if f.completed_only && self.is_active(i, active) {
            return false;
        }
        true
    }

    /// First index whose start_time is >= `t` (or > `t` when `after`).
    fn partition(&self, t: i64, after: bool) -> u32 {
        let (mut lo, mut hi) = (0u32, self.total());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let s = self.start_time(mid);
            if s < t || (after && s == t) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// Matching indexes within `[lo, hi)` (also bounded by the filter's time range), newest
    /// first when `desc`, at most `want`. `active` tells whether a run is active now (see
    /// `domain::lifecycle::scan`, which supplies it).
    pub fn scan(
        &self,
        f: &RunFilter,
        active: &dyn Fn(u32) -> bool,
        lo: u32,
        hi: u32,
        desc: bool,
        want: usize,
    ) -> Vec<u32> {
        let lo = lo.max(f.from.map_or(0, |t| self.partition(t, false)));
        let hi = hi
            .min(f.to.map_or(u32::MAX, |t| self.partition(t, true)))
            .min(self.total());
        let mut out = Vec::new();
        if lo >= hi || want == 0 {
            return out;
        }
        let mut take = |i: u32| -> bool {
            if self.matches(i, f, active) {
                out.push(i);
            }
            out.len() < want
        };
        let slice: Option<&[u32]> = if f.active_only {
            None
        } else if let Some(j) = f.job {
            Some(self.per_job.get(j).map_or(&[][..], |v| v.as_slice()))
        } else {
            f.run_type.map(|t| self.per_type[t.slot()].as_slice())
        };
        if f.active_only {
            let range = self.dynamic.range(lo..hi);
            if desc {
                for &i in range.rev() {
                    if !take(i) {
                        break;
                    }
                }
            } else {
                for &i in range {
                    if !take(i) {
                        break;
                    }
                }
            }
        } else if let Some(v) = slice {
            let a = v.partition_point(|&x| x < lo);
            let b = v.partition_point(|&x| x < hi);
            if desc {
                for &i in v[a..b].iter().rev() {
                    if !take(i) {
                        break;
                    }
                }
            } else {
                for &i in &v[a..b] {
                    if !take(i) {
                        break;
                    }
                }
            }
        } else if desc {
            for i in (lo..hi).rev() {
                if !take(i) {
                    break;
                }
            }
        } else {
            for i in lo..hi {
                if !take(i) {
                    break;
                }
            }
        }
        out
    }

    /// Add a created run; returns its index.
    pub fn add_run(&mut self, mut run: CreatedRun) -> u32 {
        let i = self.total();
        // Keep index order = start_time order even when requests race.
        if let Some(last) = i.checked_sub(1) {
            run.start = run.start.max(self.start_time(last));
        }
        if let Some(j) = run.job {
            if let Some(v) = self.per_job.get_mut(j) {
                v.push(i);
            }
        }
        self.per_type[run.run_type.slot()].push(i);
        self.created.push(run);
        self.dynamic.insert(i);
        i
    }
}
