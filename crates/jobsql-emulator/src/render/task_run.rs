//! One task run as the API's `Run` object: resolving a task run id (or the id of a job run
//! with a single task) to its task run, and rendering it with the fields of its job run
//! (`job_run_id`, `run_type`, ...), as runs/get of a task run id, runs/get-output's
//! `metadata` and runs/export need it.

use serde_json::{json, Map, Value};

use crate::domain::errors::ApiError;
use crate::domain::lifecycle::{self, segments};
use crate::state::app::App;
use crate::state::data::TaskKind;
use crate::state::store::Store;

use super::run::{render_with, RenderOpts};
use super::tasks::task_run_at;

/// What a job run id with a single task is resolved for.
#[derive(Clone, Copy)]
pub(crate) enum Purpose {
    /// runs/get-output (and runs/get of a task run id).
    Output,
    /// runs/export.
    Export,
}

/// A task run found by id: the job run index, its rendered task object (its state in it), its
/// kind and key.
pub(crate) struct TaskHit {
    pub index: u32,
    pub task: Value,
    pub kind: TaskKind,
    pub name: String,
}

/// Resolve a task run id, or a single-task job run id, to its task run.
pub(crate) fn find_task(
    store: &Store,
    app: &App,
    run_id: i64,
    what: Purpose,
) -> Result<TaskHit, ApiError> {
    let (i, off) = store
        .hist
        .locate(run_id)
        .filter(|(i, _)| store.exists(*i))
        .ok_or_else(|| ApiError::no_run(run_id))?;
    let now = app.now();
    let segs = segments(store, i, now);
    let tasks = store.tasks_of(i);
    let (s, t) = if off == 0 {
        if tasks.len() > 1 {
            return Err(ApiError::invalid(match what {
                Purpose::Output => "Retrieving the output of runs with multiple tasks is not supported. Please retrieve the output of each individual task run instead.",
                Purpose::Export => "Exporting runs with multiple tasks is not supported. Please export each individual task run instead.",
            }));
        }
        let owners = lifecycle::task_owners(&segs, tasks.len());
        (owners.first().map_or(0, |o| o.0), 0)
    } else {
        segs.iter()
            .enumerate()
            .filter(|(_, seg)| {
                off >= seg.first_offset && off < seg.first_offset + seg.rerun.len() as i64
            })
            .map(|(s, seg)| (s, seg.rerun[(off - seg.first_offset) as usize]))
            .next_back()
            .ok_or_else(|| ApiError::no_run(run_id))?
    };
    if t >= tasks.len() {
        return Err(ApiError::no_run(run_id));
    }
    let down = segs[s]
        .failed_task
        .map(|f| lifecycle::downstream(tasks, f))
        .unwrap_or_default();
    let task = task_run_at(store, i, &segs, s, t, &down, &app.base_url);
    Ok(TaskHit {
        index: i,
        kind: tasks[t].kind,
        name: tasks[t].key.clone(),
        task,
    })
}

/// The task run of `hit` as a `Run` object (what runs/get of a task run id answers, and the
/// `metadata` of runs/get-output).
pub(crate) fn as_run(store: &Store, app: &App, hit: TaskHit) -> Map<String, Value> {
    let segs = segments(store, hit.index, app.now());
    let parent = render_with(
        store,
        hit.index,
        &segs,
        &app.base_url,
        RenderOpts::default(),
    );
    let mut run = match hit.task {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    run.insert("job_run_id".into(), json!(parent.run_id));
    if let Some(j) = parent.job_id {
        run.insert("job_id".into(), json!(j));
    }
    run.insert("number_in_job".into(), json!(parent.run_id));
    run.insert(
        "original_attempt_run_id".into(),
        run.get("run_id").cloned().unwrap_or(Value::Null),
    );
    run.insert("creator_user_name".into(), json!(parent.creator_user_name));
    run.insert("run_name".into(), json!(parent.run_name));
    run.insert("run_type".into(), json!(parent.run_type));
    run.insert("trigger".into(), json!(parent.trigger));
    run
}

/// `runs/get` of `run_id` when it names a task run (not a job run): the task run as a `Run`.
pub(crate) fn get_task_run(store: &Store, app: &App, run_id: i64) -> Option<Value> {
    match store.hist.locate(run_id) {
        Some((i, off)) if off > 0 && store.exists(i) => {
            let hit = find_task(store, app, run_id, Purpose::Output).ok()?;
            Some(Value::Object(as_run(store, app, hit)))
        }
        _ => None,
    }
}
