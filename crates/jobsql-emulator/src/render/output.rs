//! The body of `runs/get-output` for one task run, as the API reference describes it: the
//! task run as `metadata`, and by its outcome and kind
//! - a `FAILED` task: `error` (a short message, unstructured) and `error_trace` (the stack
//!   trace: a Python traceback for notebook and Python tasks, a JVM one for JAR tasks);
//! - `TIMEDOUT` and `CANCELED`: `error` only (nothing ran to fail: no trace);
//! - a successful notebook task: `notebook_output` (`result`: what it passed to
//!   `dbutils.notebook.exit()`, `truncated`); a successful Python or JAR task: `logs`,
//!   `logs_truncated`; a successful SQL task: `sql_output`;
//! - a task that did not run (`UPSTREAM_FAILED`, `UPSTREAM_CANCELED`, ...) or has not ended:
//!   the metadata alone.
//!
//! Which failure a task run shows is picked from its run id, so the same id always answers
//! the same body.

use serde_json::{json, Map, Value};

use crate::state::data::TaskKind;

/// A failure: its message, and the last frames of its trace.
struct Failure {
    error: &'static str,
    frames: &'static str,
}

/// Failures of notebook and Python tasks (Python tracebacks).
const PYTHON: &[Failure] = &[
    Failure {
        error: "AnalysisException: [TABLE_OR_VIEW_NOT_FOUND] The table or view `sales`.`orders_raw` cannot be found. Verify the spelling and correctness of the schema and catalog.",
        frames: "----> 3 orders = spark.table(\"sales.orders_raw\")\n\nFile /databricks/spark/python/pyspark/sql/session.py:1667, in SparkSession.table(self, tableName)\n\nAnalysisException: [TABLE_OR_VIEW_NOT_FOUND] The table or view `sales`.`orders_raw` cannot be found.",
    },
    Failure {
        error: "KeyError: 'customer_id'",
        frames: "----> 12 ids = [row[\"customer_id\"] for row in batch]\n\nKeyError: 'customer_id'",
    },
    Failure {
        error: "Py4JJavaError: An error occurred while calling o412.save. : org.apache.spark.SparkException: Job aborted due to stage failure: Task 3 in stage 18.0 failed 4 times, most recent failure: java.lang.OutOfMemoryError: Java heap space",
        frames: "----> 27 df.write.mode(\"overwrite\").save(target)\n\nFile /databricks/spark/python/lib/py4j-0.10.9.7-src.zip/py4j/protocol.py:326, in get_return_value(answer, gateway_client, target_id, name)\n\nPy4JJavaError: An error occurred while calling o412.save.\n: org.apache.spark.SparkException: Job aborted due to stage failure: Task 3 in stage 18.0 failed 4 times\nCaused by: java.lang.OutOfMemoryError: Java heap space",
    },
];

/// Failures of JAR tasks (JVM stack traces).
const JVM: &[Failure] = &[
    Failure {
        error: "java.lang.IllegalStateException: input partition dt=2026-11-30 is empty",
        frames: "java.lang.IllegalStateException: input partition dt=2026-11-30 is empty\n\tat com.example.etl.Loader.check(Loader.scala:88)\n\tat com.example.etl.Main$.main(Main.scala:42)\n\tat com.example.etl.Main.main(Main.scala)",
    },
    Failure {
        error: "org.apache.spark.SparkException: Job aborted due to stage failure: Task 0 in stage 4.0 failed 4 times: java.io.FileNotFoundException: /mnt/raw/events/part-00000.parquet",
        frames: "org.apache.spark.SparkException: Job aborted due to stage failure: Task 0 in stage 4.0 failed 4 times\n\tat org.apache.spark.scheduler.DAGScheduler.failJobAndIndependentStages(DAGScheduler.scala:3048)\n\tat com.example.etl.Main$.main(Main.scala:57)\nCaused by: java.io.FileNotFoundException: /mnt/raw/events/part-00000.parquet",
    },
];

/// Failures of SQL and other tasks.
const SQL: &[Failure] = &[
    Failure {
        error: "[DIVIDE_BY_ZERO] Division by zero. Use `try_divide` to tolerate divisor being 0 and return NULL instead. SQLSTATE: 22012",
        frames: "org.apache.spark.SparkArithmeticException: [DIVIDE_BY_ZERO] Division by zero. SQLSTATE: 22012\n\tat org.apache.spark.sql.errors.QueryExecutionErrors$.divideByZeroError(QueryExecutionErrors.scala:203)",
    },
    Failure {
        error: "[UNRESOLVED_COLUMN.WITH_SUGGESTION] A column, variable, or function parameter with name `order_ts` cannot be resolved. Did you mean one of the following? [`order_time`, `order_id`]. SQLSTATE: 42703",
        frames: "org.apache.spark.sql.catalyst.ExtendedAnalysisException: [UNRESOLVED_COLUMN.WITH_SUGGESTION] A column, variable, or function parameter with name `order_ts` cannot be resolved. SQLSTATE: 42703\n\tat org.apache.spark.sql.catalyst.analysis.package$AnalysisErrorAt.failAnalysis(package.scala:52)",
    },
];

/// The output fields of task run `run_id` (named `key`, of `kind`) whose rendered state has
/// `result_state` (none while it runs), added to `out` beside its `metadata`.
pub(crate) fn add_output(
    out: &mut Map<String, Value>,
    run_id: i64,
    key: &str,
    kind: TaskKind,
    result_state: Option<&str>,
) {
    let pick =
        |list: &'static [Failure]| &list[(run_id.unsigned_abs() % list.len() as u64) as usize];
    match result_state {
        Some("SUCCESS") => success(out, run_id, key, kind),
        Some("FAILED") => {
            let (failure, trace) = match kind {
                TaskKind::Notebook => {
                    let f = pick(PYTHON);
                    (f, format!("---------------------------------------------------------------------------\nTraceback (most recent call last)\nFile <command-{}>, line 1\n{}", run_id % 1_000_000, f.frames))
                }
                TaskKind::Python => {
                    let f = pick(PYTHON);
                    (f, format!("Traceback (most recent call last):\n  File \"/Workspace/Repos/etl/{key}.py\", line 1, in <module>\n{}", f.frames))
                }
                TaskKind::Jar => {
                    let f = pick(JVM);
                    (f, f.frames.to_string())
                }
                TaskKind::Sql | TaskKind::Other => {
                    let f = pick(SQL);
                    (f, f.frames.to_string())
                }
            };
            out.insert("error".into(), json!(failure.error));
            out.insert("error_trace".into(), json!(trace));
        }
        Some("TIMEDOUT") => {
            out.insert(
                "error".into(),
                json!("Run timed out: it ran past its timeout_seconds."),
            );
        }
        Some("CANCELED") => {
            out.insert("error".into(), json!("Run was cancelled."));
        }
        _ => {}
    }
}

/// What a successful task run of `kind` leaves.
fn success(out: &mut Map<String, Value>, run_id: i64, key: &str, kind: TaskKind) {
    let rows = run_id % 100_000;
    match kind {
        TaskKind::Notebook => {
            out.insert(
                "notebook_output".into(),
                json!({"result": format!("{{\"rows_written\": {rows}}}"), "truncated": false}),
            );
        }
        TaskKind::Python | TaskKind::Jar => {
            out.insert(
                "logs".into(),
                json!(format!(
                    "INFO starting {key}\nINFO wrote {rows} rows\nINFO done\n"
                )),
            );
            out.insert("logs_truncated".into(), json!(false));
        }
        TaskKind::Sql => {
            out.insert(
                "sql_output".into(),
                json!({"query_output": {"output_link": format!("https://example.cloud.databricks.com/sql/history?queryId={run_id}"), "warehouse_id": "5f1c0a9e2b7d4c31"}}),
            );
        }
        TaskKind::Other => {}
    }
}
