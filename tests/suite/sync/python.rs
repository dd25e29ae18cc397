//! The table read back by a second implementation: the Python `deltalake` package (delta-rs'
//! bindings) reads the same rows jobsql wrote, with the partition column from the log.

use datafusion::arrow::array::{
    Array, Date32Array, Int64Array, ListArray, StringArray, StructArray, TimestampMicrosecondArray,
};

use super::common::*;
use crate::support::clients::{python, stdout_of};

const READ: &str = r#"
import json, os, sys
from datetime import datetime, timedelta, timezone
from deltalake import DeltaTable
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
t = DeltaTable(sys.argv[1])
rows = t.to_pyarrow_table().to_pylist()
rows.sort(key=lambda r: r["run_id"])
ms = lambda v: None if v is None else (v - EPOCH) // timedelta(milliseconds=1)
print(json.dumps({"version": t.version(), "partitions": t.metadata().partition_columns}))
for r in rows:
    print(json.dumps([r["run_id"], r["job_id"], ms(r["start_time"]), ms(r["end_time"]),
                      (r["state"] or {}).get("life_cycle_state"), r["start_date"].isoformat(),
                      len(r["tasks"] or []), r["deployment_name"], ms(r["synced_at"]) is not None]))
# deltalake's runtime threads may abort the interpreter's teardown (SIGABRT) after the work is
# done: leave without it.
sys.stdout.flush()
os._exit(0)
"#;

fn ms(a: &TimestampMicrosecondArray, i: usize) -> serde_json::Value {
    if a.is_null(i) {
        serde_json::Value::Null
    } else {
        (a.value(i) / 1000).into()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_deltalake_reads_the_rows_jobsql_wrote() {
    let (h, _clock) = standing(1_000).await;
    let ctx = on(&h, &[]);
    let dir = history_dir("python");
    sync(&ctx, &dir, "emu").await;
    let history = history_rows(&ctx, &dir).await;
    let col = |n: &str| history.column_by_name(n).unwrap().clone();
    let ids = col("run_id");
    let ids = ids.as_any().downcast_ref::<Int64Array>().unwrap();
    let jobs = col("job_id");
    let jobs = jobs.as_any().downcast_ref::<Int64Array>().unwrap();
    let (start, end) = (col("start_time"), col("end_time"));
    let start = start
        .as_any()
        .downcast_ref::<TimestampMicrosecondArray>()
        .unwrap();
    let end = end
        .as_any()
        .downcast_ref::<TimestampMicrosecondArray>()
        .unwrap();
    let state = col("state");
    let life = state
        .as_any()
        .downcast_ref::<StructArray>()
        .unwrap()
        .column_by_name("life_cycle_state")
        .unwrap()
        .clone();
    let life = life.as_any().downcast_ref::<StringArray>().unwrap();
    let dates = col("start_date");
    let dates = dates.as_any().downcast_ref::<Date32Array>().unwrap();
    let tasks = col("tasks");
    let tasks = tasks.as_any().downcast_ref::<ListArray>().unwrap();
    let ws = col("deployment_name");
    let ws = ws.as_any().downcast_ref::<StringArray>().unwrap();
    let want: Vec<String> = (0..history.num_rows())
        .map(|i| {
            let job = if jobs.is_null(i) {
                serde_json::Value::Null
            } else {
                jobs.value(i).into()
            };
            let date = dates.value_as_date(i).unwrap().to_string();
            serde_json::json!([
                ids.value(i),
                job,
                ms(start, i),
                ms(end, i),
                life.value(i),
                date,
                if tasks.is_null(i) {
                    0
                } else {
                    tasks.value_length(i)
                },
                ws.value(i),
                true
            ])
            .to_string()
        })
        .collect();

    let out = python(
        &["deltalake", "pyarrow"],
        READ,
        &[table_dir(&dir).to_str().unwrap()],
    );
    let text = stdout_of(&out);
    let mut lines = text.lines();
    let head: serde_json::Value = serde_json::from_str(lines.next().unwrap()).unwrap();
    assert_eq!(head["version"], 1);
    assert_eq!(head["partitions"], serde_json::json!(["start_date"]));
    let got: Vec<String> = lines
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l)
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(got.len(), 1_000);
    assert_eq!(got, want);
    h.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
