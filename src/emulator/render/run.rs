//! Renders a run (by index) as the API's `Run` object at a given instant: the generated facts
//! from `state::history`, the job definition, the overlays of `state::store` and the
//! segments of `domain::lifecycle`. Task runs, repair history, job clusters and job
//! parameters are only built when the caller asks for them.

use serde_json::{json, Map, Value};

use crate::emulator::domain::lifecycle::{downstream, segments, task_life, task_owners, Segment};
use crate::emulator::domain::params::fingerprint;
use crate::emulator::state::data::{mix, JobDef, Life, RunType, TaskDef, TaskKind, USERS};
use crate::emulator::state::store::Store;

use super::model::{state_of, ClusterInstance, JobParam, RepairItem, RunJson, TriggerInfo};

/// What to include.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct RenderOpts {
    pub tasks: bool,
    pub history: bool,
}

/// The workspace id shown in run page URLs.
pub(crate) fn workspace_id(seed: u64) -> u64 {
    1_000_000_000_000_000 + mix(seed ^ 0x0a11) % 1_000_000_000_000_000
}

fn cluster_id(store: &Store, i: u32, spec: &Map<String, Value>, start: i64) -> String {
    if let Some(id) = spec.get("existing_cluster_id").and_then(Value::as_str) {
        return id.to_string();
    }
    // Tasks sharing a job cluster share its instance.
    let salt = spec
        .get("job_cluster_key")
        .or_else(|| spec.get("task_key"))
        .and_then(Value::as_str)
        .map_or(0, |k| fingerprint(&k) as u32);
    let secs = start / 1000;
    format!(
        "{:02}{:02}-{:06}-{:08x}",
        1 + (secs / 2_592_000) % 12,
        1 + (secs / 86_400) % 28,
        secs % 1_000_000,
        store.hist.rand(i, 40) as u32 ^ salt
    )
}

fn context_id(store: &Store, i: u32, salt: u64) -> String {
    (store.hist.rand(i, 41 + salt) % 9_000_000_000_000_000_000 + 1_000_000_000_000_000_000)
        .to_string()
}

/// Does a task run on classic compute (and so have a cluster instance)?
fn classic(spec: &Map<String, Value>) -> bool {
    spec.contains_key("existing_cluster_id")
        || spec.contains_key("new_cluster")
        || spec.contains_key("job_cluster_key")
}

fn trigger(store: &Store, i: u32, job: Option<&JobDef>, retry: bool) -> &'static str {
    if store.created(i).is_some() {
        return "ONE_TIME";
    }
    if retry {
        return "RETRY";
    }
    if store.hist.run_type(i) != RunType::Job {
        return "ONE_TIME";
    }
    let r = store.hist.rand(i, 3) % 100;
    if job.and_then(|j| j.schedule.as_ref()).is_some() {
        match r {
            0..=74 => "PERIODIC",
            85..=89 => "RUN_JOB_TASK",
            90..=94 => "FILE_ARRIVAL",
            95..=97 => "TABLE",
            _ => "ONE_TIME",
        }
    } else {
        match r {
            50..=69 => "RUN_JOB_TASK",
            70..=84 => "FILE_ARRIVAL",
            85..=94 => "TABLE",
            _ => "ONE_TIME",
        }
    }
}

fn overriding(kind: TaskKind) -> Value {
    match kind {
        TaskKind::Notebook => {
            json!({"notebook_params": {"env": "staging", "full_refresh": "true"}})
        }
        TaskKind::Python => json!({"python_params": ["--env", "staging", "--full-refresh"]}),
        TaskKind::Jar => json!({"jar_params": ["staging", "2026-01-01"]}),
        TaskKind::Sql => json!({"sql_params": {"env": "staging"}}),
        TaskKind::Other => json!({"job_parameters": {"env": "staging"}}),
    }
}

/// Task run id of position `p` in segment `seg`.
fn task_run_id(base: i64, seg: &Segment, p: usize) -> i64 {
    base + seg.first_offset + p as i64
}

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

fn page_url(base: &str, ws: u64, job_id: Option<i64>, run_id: i64) -> String {
    match job_id {
        Some(j) => format!("{base}/?o={ws}#job/{j}/run/{run_id}"),
        None => format!("{base}/?o={ws}#run/{run_id}"),
    }
}

/// Render run `i` at `now`.
pub(crate) fn render(store: &Store, i: u32, now: i64, base_url: &str, opts: RenderOpts) -> RunJson {
    let segs = segments(store, i, now);
    render_with(store, i, &segs, base_url, opts)
}

/// Render run `i` from precomputed segments.
pub(crate) fn render_with(
    store: &Store,
    i: u32,
    segs: &[Segment],
    base_url: &str,
    opts: RenderOpts,
) -> RunJson {
    let hist = &store.hist;
    let created = store.created(i);
    let tasks = store.tasks_of(i);
    let multi = tasks.len() > 1;
    let job_ix = store.job_of(i);
    let job = store.job_def_of(i);
    let run_id = hist.run_id(i);
    let first = &segs[0];
    let last = &segs[segs.len() - 1];
    let (state, status) = state_of(last.life);
    let active = last.life.is_active();

    let previous = if created.is_none() && hist.is_retry(i) {
        job_ix.and_then(|j| {
            let v = &store.per_job[j];
            let pos = v.partition_point(|&x| x < i);
            pos.checked_sub(1).map(|p| v[p])
        })
    } else {
        None
    };
    let trig = trigger(store, i, job, previous.is_some());
    let run_type = store.run_type(i);
    let creator = match (created, job) {
        (Some(c), _) => c.creator.clone(),
        (None, Some(j)) if run_type == RunType::Job => j.creator.clone(),
        _ => USERS[(hist.rand(i, 4) % USERS.len() as u64) as usize].to_string(),
    };
    let run_name = match (created, job, run_type) {
        (Some(c), _, _) => c.run_name.clone(),
        (None, Some(j), RunType::Job) => j.name.clone(),
        (None, Some(j), _) => format!("{}_child_notebook", j.name),
        (None, None, _) => format!("adhoc_analysis_{}", hist.rand(i, 5) % 1000),
    };
    let single = tasks.first().filter(|_| !multi);
    let started = !matches!(first.life, Life::Pending | Life::Queued);
    let cluster_spec = single.filter(|t| classic(&t.spec)).map(|t| {
        let mut m = Map::new();
        for k in [
            "existing_cluster_id",
            "new_cluster",
            "job_cluster_key",
            "libraries",
        ] {
            if let Some(v) = t.spec.get(k) {
                m.insert(k.into(), v.clone());
            }
        }
        Value::Object(m)
    });
    let cluster_instance =
        single
            .filter(|t| classic(&t.spec) && started)
            .map(|t| ClusterInstance {
                cluster_id: cluster_id(store, i, &t.spec, first.start),
                spark_context_id: context_id(store, i, 0),
            });
    let overriding_parameters = match created {
        Some(c) => c.overriding.clone(),
        None if run_type == RunType::Job
            && trig == "ONE_TIME"
            && hist.rand(i, 6).is_multiple_of(3) =>
        {
            tasks.first().map(|t| overriding(t.kind))
        }
        None => None,
    };
    let git_source = match created {
        Some(c) => c.git_source.clone(),
        None => job.filter(|_| run_type == RunType::Job).and_then(|j| j.git_source.clone()).map(|mut g| {
            if let Some(o) = g.as_object_mut() {
                o.insert("git_snapshot".into(), json!({"used_commit": format!("{:016x}{:016x}{:08x}", hist.rand(i, 7), hist.rand(i, 8), hist.rand(i, 9) as u32)}));
            }
            g
        }),
    };
    let params: Vec<JobParam> = match created {
        Some(c) => c
            .job_parameters
            .iter()
            .map(|(n, d, v)| JobParam {
                name: n.clone(),
                default: d.clone(),
                value: v.clone(),
            })
            .collect(),
        None => job
            .filter(|_| run_type == RunType::Job)
            .map(|j| {
                j.parameters
                    .iter()
                    .map(|(n, d)| JobParam {
                        name: n.clone(),
                        default: d.clone(),
                        value: d.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default(),
    };
    let d = first.durations;
    let (setup, exec, cleanup) = if multi || active {
        (0, 0, 0)
    } else {
        (d.setup, d.execution, d.cleanup)
    };
    let run_duration = (!active).then(|| segs.iter().map(|s| s.end - s.start).sum());
    let ws = workspace_id(hist.seed);
    let repair_history = opts.history.then(|| {
        segs.iter()
            .map(|s| {
                let (state, status) = state_of(s.life);
                RepairItem {
                    kind: if s.repair_id.is_some() {
                        "REPAIR"
                    } else {
                        "ORIGINAL"
                    },
                    id: s.repair_id,
                    start_time: s.start,
                    end_time: s.end,
                    state,
                    status,
                    task_run_ids: (0..s.rerun.len())
                        .map(|p| task_run_id(run_id, s, p))
                        .collect(),
                    effective_performance_target: job.and_then(|j| j.performance_target),
                }
            })
            .collect()
    });
    RunJson {
        job_id: job.map(|j| j.job_id),
        run_id,
        job_run_id: Some(run_id),
        creator_user_name: Some(creator),
        number_in_job: run_id,
        original_attempt_run_id: previous.map_or(run_id, |p| hist.run_id(p)),
        attempt_number: previous.is_some() as i64,
        state,
        status,
        schedule: (trig == "PERIODIC")
            .then(|| job.and_then(|j| j.schedule.clone()))
            .flatten(),
        tasks: opts
            .tasks
            .then(|| task_runs(store, i, segs, base_url, usize::MAX)),
        cluster_spec,
        cluster_instance,
        overriding_parameters,
        start_time: first.start,
        setup_duration: setup,
        execution_duration: exec,
        cleanup_duration: cleanup,
        end_time: if active { 0 } else { last.end },
        run_duration,
        queue_duration: Some(d.queue),
        trigger: trig,
        trigger_info: (trig == "RUN_JOB_TASK").then(|| TriggerInfo {
            run_id: hist.run_id(i.saturating_sub(1)) + 1,
        }),
        run_name,
        run_page_url: page_url(base_url, ws, job.map(|j| j.job_id), run_id),
        run_type: run_type.as_str(),
        git_source,
        job_parameters: (!params.is_empty()).then_some(params),
        job_clusters: job
            .filter(|j| opts.tasks && !j.job_clusters.is_empty() && run_type == RunType::Job)
            .map(|j| j.job_clusters.clone()),
        repair_history,
        description: job
            .filter(|_| run_type == RunType::Job)
            .and_then(|j| j.description.clone()),
        effective_performance_target: job.and_then(|j| j.performance_target),
        effective_usage_policy_id: job.and_then(|j| j.usage_policy_id.clone()),
        has_more: None,
        next_page_token: None,
    }
}
