//! Generated jobs: names, tasks (notebook, Python script or wheel, SQL, JAR, condition; their
//! clusters new, autoscaled, existing or the job's; their libraries), job clusters,
//! parameters, schedules, git sources and tags, run_as, triggers, notifications, health
//! rules, edit modes and deployments, all from `(seed, job index)`. The last job,
//! when there are two or more, is the big one: more than 100 tasks, job clusters and
//! parameters, so every 100-element page of the API is exercised.

use serde_json::{json, Map, Value};

use super::acl::SERVICE_PRINCIPALS;
use super::data::{h, mix, pick, JobDef, TaskDef, TaskKind, BIG_TASKS, HISTORY_MS, USERS};

const JOB_NAMES: [&str; 12] = [
    "nightly_sales_etl",
    "customer_churn_model",
    "orders_ingest",
    "marketing_attribution",
    "inventory_snapshot",
    "fraud_scoring",
    "clickstream_sessionize",
    "finance_close",
    "ml_feature_refresh",
    "dq_checks",
    "gdpr_erasure",
    "warehouse_compaction",
];

const TASK_WORDS: [&str; 10] = [
    "ingest",
    "clean",
    "dedupe",
    "enrich",
    "aggregate",
    "train",
    "score",
    "publish",
    "validate",
    "notify",
];

/// Job id of generated job `j`.
pub(crate) fn job_id_for(seed: u64, j: usize) -> i64 {
    let base = 10_000_000_000_000 + (mix(seed ^ 0x10b5) % 900) as i64 * 10_000_000_000;
    base + j as i64 * 7_919 + (h(seed, j as u64, 0x10b) % 7_000) as i64
}

/// A ClusterSpec as the API reference has it: a runtime, a node type, and either a fixed
/// `num_workers` or an `autoscale` range (about one cluster in three).
fn cluster(seed: u64, j: usize, t: usize) -> Value {
    let salt = (j * 1000 + t) as u64;
    let node =
        ["i3.xlarge", "m5d.2xlarge", "r5d.xlarge", "c5d.4xlarge"][pick(seed, salt, 31, 4) as usize];
    let version = [
        "15.4.x-scala2.12",
        "14.3.x-scala2.12",
        "16.4.x-photon-scala2.12",
    ][pick(seed, salt, 39, 3) as usize];
    let mut spec = json!({
        "spark_version": version,
        "node_type_id": node,
        "aws_attributes": {"availability": "SPOT_WITH_FALLBACK", "first_on_demand": 1},
        "spark_conf": {"spark.sql.shuffle.partitions": "auto"},
        "data_security_mode": "SINGLE_USER"
    });
    let workers = 2 + pick(seed, salt, 32, 6);
    if pick(seed, salt, 40, 3) == 0 {
        spec["autoscale"] =
            json!({"min_workers": workers, "max_workers": workers + 2 + pick(seed, salt, 41, 6)});
    } else {
        spec["num_workers"] = json!(workers);
    }
    if version.contains("photon") {
        spec["runtime_engine"] = json!("PHOTON");
    }
    spec
}

fn task_spec(seed: u64, j: usize, t: usize, kind: TaskKind, job_name: &str) -> Map<String, Value> {
    let mut spec = Map::new();
    let salt = (j * 10_000 + t) as u64;
    match kind {
        TaskKind::Notebook => {
            spec.insert(
                "notebook_task".into(),
                json!({
                    "notebook_path": format!("/Workspace/Repos/data/{job_name}/notebooks/step_{t:03}"),
                    "base_parameters": {"env": "prod", "date": "{{job.start_time.iso_date}}"},
                    "source": "WORKSPACE"
                }),
            );
        }
        // Python code: a script, or (every other job) a wheel's entry point; either way
        // with PyPI libraries, and the wheel as a library.
        TaskKind::Python if j % 2 == 1 => {
            let package = job_name.replace('-', "_");
            spec.insert(
                "python_wheel_task".into(),
                json!({
                    "package_name": package,
                    "entry_point": "main",
                    "parameters": ["--env", "prod"]
                }),
            );
            spec.insert(
                "libraries".into(),
                json!([
                    {"whl": format!("dbfs:/wheels/{package}-1.{}.0-py3-none-any.whl", pick(seed, salt, 42, 9))},
                    {"pypi": {"package": "pyarrow==17.0.0"}}
                ]),
            );
        }
        TaskKind::Python => {
            spec.insert(
                "spark_python_task".into(),
                json!({
                    "python_file": format!("dbfs:/jobs/{job_name}/main.py"),
                    "parameters": ["--env", "prod"]
                }),
            );
            spec.insert(
                "libraries".into(),
                json!([{"pypi": {"package": "pandas==2.2.2"}}, {"pypi": {"package": "requests==2.32.3"}}]),
            );
        }
        TaskKind::Sql => {
            spec.insert(
                "sql_task".into(),
                json!({
                    "warehouse_id": format!("{:016x}", h(seed, j as u64, 33)),
                    "query": {"query_id": format!("{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}", h(seed, salt, 34) as u32, h(seed, salt, 35) as u16, h(seed, salt, 36) % 4096, h(seed, salt, 37) % 4096, h(seed, salt, 38) % (1 << 48))}
                }),
            );
        }
        TaskKind::Jar => {
            spec.insert(
                "spark_jar_task".into(),
                json!({"main_class_name": "com.example.jobs.Main", "parameters": ["prod"]}),
            );
            spec.insert(
                "libraries".into(),
                json!([{"jar": format!("dbfs:/jars/{job_name}.jar")}]),
            );
        }
        TaskKind::Other => {
            spec.insert(
                "condition_task".into(),
                json!({"op": "GREATER_THAN", "left": "{{tasks.step_000.values.rows}}", "right": "0"}),
            );
        }
    }
    spec
}

/// The settings beyond tasks, clusters and schedules: who the job runs as, a trigger or
/// continuous mode for jobs without a schedule, notifications, health rules, how it is edited
/// and deployed, and a budget policy for serverless jobs.
fn more_settings(
    seed: u64,
    j: usize,
    name: &str,
    serverless: bool,
    unscheduled: bool,
) -> Map<String, Value> {
    let mut m = Map::new();
    let hj = j as u64;
    match j % 6 {
        2 | 5 => {
            let sp = SERVICE_PRINCIPALS[pick(seed, hj, 43, 2) as usize].0;
            m.insert("run_as".into(), json!({"service_principal_name": sp}));
        }
        1 => {
            m.insert(
                "run_as".into(),
                json!({"user_name": USERS[(j + 2) % USERS.len()]}),
            );
        }
        _ => {}
    }
    if unscheduled {
        match (j / 4) % 3 {
            0 => {
                m.insert("trigger".into(), json!({
                    "pause_status": "UNPAUSED",
                    "file_arrival": {"url": format!("/Volumes/main/landing/{name}/"), "min_time_between_triggers_seconds": 60, "wait_after_last_change_seconds": 120}
                }));
            }
            1 => {
                m.insert("trigger".into(), json!({
                    "pause_status": "UNPAUSED",
                    "table_update": {"table_names": [format!("main.sales.{name}_source")], "condition": "ANY_UPDATED", "min_time_between_triggers_seconds": 300}
                }));
            }
            _ => {
                m.insert(
                    "continuous".into(),
                    json!({"pause_status": "UNPAUSED", "task_retry_mode": "ON_FAILURE"}),
                );
            }
        }
    }
    m.insert(
        "notification_settings".into(),
        json!({"no_alert_for_skipped_runs": j.is_multiple_of(2), "no_alert_for_canceled_runs": true}),
    );
    let hook = format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        h(seed, hj, 44) as u32,
        h(seed, hj, 45) as u16,
        h(seed, hj, 46) % 4096,
        h(seed, hj, 47) % 4096,
        h(seed, hj, 48) % (1 << 48)
    );
    m.insert(
        "webhook_notifications".into(),
        match j % 3 {
            0 => json!({"on_failure": [{"id": hook}]}),
            _ => json!({}),
        },
    );
    if j % 2 == 1 {
        m.insert(
            "health".into(),
            json!({"rules": [{"metric": "RUN_DURATION_SECONDS", "op": "GREATER_THAN", "value": 3600 * (1 + j % 4)}]}),
        );
    }
    if j % 4 == 1 {
        m.insert("edit_mode".into(), json!("UI_LOCKED"));
        m.insert(
            "deployment".into(),
            json!({"kind": "BUNDLE", "metadata_file_path": format!("/Workspace/Users/{}/.bundle/{name}/prod/state/metadata.json", USERS[j % USERS.len()])}),
        );
    } else {
        m.insert("edit_mode".into(), json!("EDITABLE"));
    }
    if serverless {
        m.insert(
            "budget_policy_id".into(),
            json!(format!(
                "{:08x}-1111-4000-8000-{:012x}",
                h(seed, hj, 49) as u32,
                h(seed, hj, 50) % (1 << 48)
            )),
        );
    }
    m
}

/// Generate job `j` of `n` (the last one, when there are two or more, is the big job with
/// more than 100 tasks, job clusters and parameters).
pub(crate) fn generate_job(seed: u64, j: usize, n: usize, now: i64) -> JobDef {
    let big = n >= 2 && j == n - 1;
    let base_name = JOB_NAMES[j % JOB_NAMES.len()];
    let name = if j < JOB_NAMES.len() {
        base_name.to_string()
    } else {
        format!("{base_name}_{}", j / JOB_NAMES.len())
    };
    let name = if big { format!("{name}_fanout") } else { name };
    let hj = j as u64;
    let (n_tasks, multi) = if big {
        (BIG_TASKS, true)
    } else if j.is_multiple_of(3) {
        (2 + pick(seed, hj, 1, 7) as usize, true)
    } else {
        (1, false)
    };
    let serverless = !big && j % 5 == 4;
    let n_clusters = if big {
        105
    } else if multi && !serverless {
        1 + pick(seed, hj, 2, 2) as usize
    } else {
        0
    };
    // Job clusters follow a cluster policy (`domain::policies`): "Small jobs" for even jobs
    // and the big one, "Standard jobs" for the others.
    let policy = if j.is_multiple_of(2) || big {
        "D0C0A1B2C3D4E5F6"
    } else {
        "E1F2A3B4C5D6E7F8"
    };
    let job_clusters: Vec<Value> = (0..n_clusters)
        .map(|c| {
            let mut new_cluster = cluster(seed, j, c);
            if let Some(m) = new_cluster.as_object_mut() {
                m.insert("policy_id".into(), json!(policy));
            }
            json!({"job_cluster_key": format!("cluster_{c:03}"), "new_cluster": new_cluster})
        })
        .collect();
    let mut tasks = Vec::with_capacity(n_tasks);
    for t in 0..n_tasks {
        let kind = if big {
            TaskKind::Notebook
        } else if multi {
            match (t + j) % 4 {
                0 | 1 => TaskKind::Notebook,
                2 => TaskKind::Sql,
                _ => TaskKind::Python,
            }
        } else {
            match j % 4 {
                0 | 1 => TaskKind::Notebook,
                2 => TaskKind::Python,
                _ => TaskKind::Jar,
            }
        };
        let key = if big {
            format!("partition_{t:03}")
        } else {
            format!("{}_{t}", TASK_WORDS[(t + j) % TASK_WORDS.len()])
        };
        let mut spec = Map::new();
        spec.insert("task_key".into(), Value::String(key.clone()));
        let deps: Vec<usize> = if t == 0 {
            vec![]
        } else if big {
            vec![(t - 1) / 2]
        } else {
            vec![t - 1]
        };
        if !deps.is_empty() {
            let keys: Vec<Value> = deps
                .iter()
                .map(|d| json!({"task_key": tasks.get(*d).map(|x: &TaskDef| x.key.clone()).unwrap_or_default()}))
                .collect();
            spec.insert("depends_on".into(), Value::Array(keys));
            spec.insert("run_if".into(), json!("ALL_SUCCESS"));
        }
        spec.extend(task_spec(seed, j, t, kind, &name));
        if serverless {
            // Serverless tasks take their libraries from the job's environment.
            spec.remove("libraries");
            spec.insert("environment_key".into(), json!("default"));
        } else if n_clusters > 0 {
            spec.insert(
                "job_cluster_key".into(),
                json!(format!("cluster_{:03}", t % n_clusters)),
            );
        } else if j.is_multiple_of(2) {
            spec.insert("new_cluster".into(), cluster(seed, j, t));
        } else {
            spec.insert(
                "existing_cluster_id".into(),
                json!(format!(
                    "0{}-{:06}-{:08x}",
                    100 + j % 900,
                    pick(seed, hj, 3, 999_999),
                    h(seed, hj, 4) as u32
                )),
            );
        }
        spec.insert(
            "timeout_seconds".into(),
            json!(if j.is_multiple_of(2) { 3600 } else { 0 }),
        );
        spec.insert("email_notifications".into(), json!({}));
        tasks.push(TaskDef {
            key,
            spec,
            kind,
            deps,
            fails: false,
        });
    }
    let n_params = if big {
        110
    } else {
        pick(seed, hj, 5, 4) as usize
    };
    let parameters = (0..n_params)
        .map(|p| {
            (
                if p == 0 {
                    "env".to_string()
                } else {
                    format!("param_{p:03}")
                },
                if p == 0 {
                    "prod".into()
                } else {
                    format!("v{}", pick(seed, hj * 1000 + p as u64, 6, 100))
                },
            )
        })
        .collect();
    let schedule = (j % 4 != 3).then(|| {
        json!({
            "quartz_cron_expression": format!("0 {} {} * * ?", pick(seed, hj, 7, 60), pick(seed, hj, 8, 24)),
            "timezone_id": (["UTC", "America/Los_Angeles", "Europe/Amsterdam"][j % 3]),
            "pause_status": if j % 7 == 6 { "PAUSED" } else { "UNPAUSED" }
        })
    });
    let git_source = (j % 3 == 1).then(|| {
        json!({
            "git_url": format!("https://github.com/example-org/{name}"),
            "git_provider": "gitHub",
            "git_branch": "main"
        })
    });
    let mut extra = Map::new();
    extra.insert(
        "timeout_seconds".into(),
        json!(if j.is_multiple_of(2) { 7200 } else { 0 }),
    );
    extra.insert("max_concurrent_runs".into(), json!(1 + (j % 3)));
    extra.insert("format".into(), json!("MULTI_TASK"));
    let mut tags = json!({"team": (["data-eng", "ml", "analytics"][j % 3]), "cost_center": format!("cc-{}", 100 + j % 5)});
    if j % 4 == 1 {
        if let Some(t) = tags.as_object_mut() {
            t.insert("env".into(), json!("prod"));
        }
    }
    extra.insert("tags".into(), tags);
    extra.insert(
        "email_notifications".into(),
        json!({"on_failure": [USERS[j % USERS.len()]]}),
    );
    extra.insert("queue".into(), json!({"enabled": true}));
    extra.extend(more_settings(
        seed,
        j,
        &name,
        serverless,
        schedule.is_none(),
    ));
    if serverless {
        extra.insert(
            "environments".into(),
            json!([{"environment_key": "default", "spec": {"client": "2"}}]),
        );
    }
    JobDef {
        job_id: job_id_for(seed, j),
        name,
        creator: USERS[j % USERS.len()].to_string(),
        created_time: now - HISTORY_MS - 86_400_000 * (10 + pick(seed, hj, 9, 300) as i64),
        tasks,
        job_clusters,
        parameters,
        schedule,
        git_source,
        description: (j.is_multiple_of(2)).then(|| {
            format!(
                "{} pipeline owned by {}",
                base_name.replace('_', " "),
                USERS[j % USERS.len()]
            )
        }),
        extra,
        performance_target: serverless.then_some(if j.is_multiple_of(2) {
            "PERFORMANCE_OPTIMIZED"
        } else {
            "STANDARD"
        }),
        usage_policy_id: serverless.then(|| {
            format!(
                "{:08x}-0000-4000-8000-{:012x}",
                h(seed, hj, 10) as u32,
                h(seed, hj, 11) % (1 << 48)
            )
        }),
    }
}
