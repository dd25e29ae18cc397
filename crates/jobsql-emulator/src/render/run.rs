//! Renders a run (by index) as the API's `Run` object at a given instant: the generated facts
//! from `state::history`, the job definition, the overlays of `state::store` and the
//! segments of `domain::lifecycle`. Task runs, repair history, job clusters and job
//! parameters are only built when the caller asks for them.

use serde_json::{json, Map, Value};

use crate::domain::lifecycle::{segments, Segment};
use crate::state::data::{JobDef, Life, RunType, TaskKind, USERS};
use crate::state::store::Store;

use super::ids::{classic, cluster_id, context_id, page_url, task_run_id, workspace_id};
use super::model::{state_of, ClusterInstance, JobParam, RepairItem, RunJson, TriggerInfo};
use super::tasks::task_runs;

/// What to include.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct RenderOpts {
    pub tasks: bool,
    pub history: bool,
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
