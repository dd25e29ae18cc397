//! The task-run objects of a rendered run: each task's latest attempt (`task_runs`), or the
//! attempt of one segment (`task_run_at`, also used to answer a task run id as a `Run`), with
//! its state, times, durations, cluster instance and page URL.

use serde_json::{json, Value};

use crate::domain::lifecycle::{downstream, task_life, task_owners, Segment};
use crate::state::data::{Life, TaskDef};
use crate::state::store::Store;

use super::ids::{classic, cluster_id, context_id, page_url, task_run_id, workspace_id};
use super::model::state_of;

/// The task-run objects of run `i` (each task's latest attempt), at most `limit`.
pub(crate) fn task_runs(
    store: &Store,
    i: u32,
    segs: &[Segment],
    base_url: &str,
    limit: usize,
) -> Vec<Value> {
    let tasks = store.tasks_of(i);
    let owners = task_owners(segs, tasks.len());
    let downs: Vec<Vec<usize>> = segs
        .iter()
        .map(|s| {
            s.failed_task
                .map(|f| downstream(tasks, f))
                .unwrap_or_default()
        })
        .collect();
    (0..tasks.len())
        .take(limit)
        .map(|t| {
            task_run_at(
                store,
                i,
                segs,
                owners[t].0,
                t,
                &downs[owners[t].0],
                base_url,
            )
        })
        .collect()
}

/// The task-run object of task `t` as segment `s` ran it; `down` is the segment's
/// `downstream(failed_task)`.
pub(crate) fn task_run_at(
    store: &Store,
    i: u32,
    segs: &[Segment],
    s: usize,
    t: usize,
    down: &[usize],
    base_url: &str,
) -> Value {
    let tasks = store.tasks_of(i);
    let seg = &segs[s];
    let p = seg.rerun.iter().position(|&x| x == t).unwrap_or(0);
    let life = task_life(tasks, seg, t, down);
    let ctx = TaskCtx {
        run_id: store.hist.run_id(i),
        ws: workspace_id(store.hist.seed),
        job_id: store.job_of(i).map(|j| store.jobs[j].job_id),
        base_url,
        attempt: segs[..=s].iter().filter(|g| g.rerun.contains(&t)).count() as i64 - 1,
    };
    task_json(store, i, &tasks[t], seg, p, life, ctx)
}

struct TaskCtx<'a> {
    run_id: i64,
    ws: u64,
    job_id: Option<i64>,
    base_url: &'a str,
    attempt: i64,
}

fn task_json(
    store: &Store,
    i: u32,
    task: &TaskDef,
    seg: &Segment,
    p: usize,
    life: Life,
    ctx: TaskCtx<'_>,
) -> Value {
    let mut obj = task.spec.clone();
    let id = task_run_id(ctx.run_id, seg, p);
    // Tasks of a segment run one after another, each with its share of the durations.
    let m = seg.rerun.len().max(1) as i64;
    let d = &seg.durations;
    let (setup_p, exec_p, cleanup_p) = (d.setup / m, d.execution / m, d.cleanup / m);
    let begin = seg.start + d.queue + (setup_p + exec_p + cleanup_p) * p as i64;
    let (start, end, setup, exec, cleanup) = match life {
        Life::Pending | Life::Queued | Life::Blocked => (0, 0, 0, 0, 0),
        Life::Running | Life::Terminating => (begin, 0, 0, 0, 0),
        Life::Done(o) if o.life_cycle_state() == "SKIPPED" => (begin, begin, 0, 0, 0),
        Life::Done(_) => (
            begin,
            begin + setup_p + exec_p + cleanup_p,
            setup_p,
            exec_p,
            cleanup_p,
        ),
    };
    let (state, status) = state_of(life);
    obj.insert("run_id".into(), json!(id));
    obj.insert("attempt_number".into(), json!(ctx.attempt.max(0)));
    obj.insert(
        "state".into(),
        serde_json::to_value(state).unwrap_or_default(),
    );
    obj.insert(
        "status".into(),
        serde_json::to_value(status).unwrap_or_default(),
    );
    obj.insert("start_time".into(), json!(start));
    obj.insert("setup_duration".into(), json!(setup));
    obj.insert("execution_duration".into(), json!(exec));
    obj.insert("cleanup_duration".into(), json!(cleanup));
    obj.insert("end_time".into(), json!(end));
    obj.insert(
        "run_duration".into(),
        json!(if end > 0 { end - start } else { 0 }),
    );
    obj.insert(
        "queue_duration".into(),
        json!(if p == 0 { d.queue } else { 0 }),
    );
    if classic(&task.spec) && start > 0 {
        obj.insert(
            "cluster_instance".into(),
            json!({"cluster_id": cluster_id(store, i, &task.spec, seg.start), "spark_context_id": context_id(store, i, p as u64)}),
        );
    }
    if task.spec.contains_key("environment_key") {
        obj.insert("effective_performance_target".into(), json!("STANDARD"));
    }
    obj.insert(
        "run_page_url".into(),
        json!(page_url(ctx.base_url, ctx.ws, ctx.job_id, id)),
    );
    Value::Object(obj)
}
