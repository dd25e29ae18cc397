//! INSERT over the Postgres extended protocol: a tokio-postgres prepared statement with `$1`
//! parameters, planned by DataFusion and sent by the table's `insert_into`.

use tokio_postgres::types::Type;

use super::common::{emulator, to};
use super::serve::{connect, default_server};

const TASK: &str = r#"[{"task_key":"main","notebook_task":{"notebook_path":"/Repos/etl/main"}}]"#;

#[tokio::test]
async fn a_prepared_insert_with_parameters_submits_one_run_per_execution() {
    let emu = emulator().await;
    let server = default_server(&emu).await;
    let client = connect(server.local_addr()).await;
    let statement = client
        .prepare(
            "INSERT INTO databricks_workspace.jobs.job_runs \
             (data__run_name, data__tasks, data__timeout_seconds) VALUES ($1, $2, $3)",
        )
        .await
        .expect("prepares");
    // The parameters take the INSERT columns' type: text, typed by jobsql per the spec.
    assert_eq!(statement.params(), [Type::TEXT, Type::TEXT, Type::TEXT]);
    emu.clear_requests();
    for (name, timeout) in [("pg-a", "120"), ("pg-b", "240")] {
        let rows = client
            .query(&statement, &[&name, &TASK, &timeout])
            .await
            .expect("inserts");
        assert_eq!(rows.len(), 1, "the count row");
        assert_eq!(rows[0].get::<_, i64>("count"), 1);
    }
    let requests = emu.requests();
    let submits = to(&requests, "/runs/submit");
    assert_eq!(submits.len(), 2, "{requests:?}");
    assert_eq!(submits.len(), requests.len(), "nothing else: {requests:?}");
    for (r, (name, timeout)) in submits.iter().zip([("pg-a", 120), ("pg-b", 240)]) {
        assert_eq!((r.method.as_str(), r.status), ("POST", 200), "{r:?}");
        let body = r.body.as_ref().expect("a JSON body");
        assert_eq!(body["run_name"], name, "{body}");
        assert_eq!(body["timeout_seconds"], timeout, "{body}");
        assert!(body["tasks"].is_array(), "{body}");
        assert!(body["idempotency_token"].is_string(), "{body}");
    }
    // A bad parameter value: a clear error, nothing sent, the connection still usable.
    emu.clear_requests();
    let error = client
        .query(&statement, &[&"pg-bad", &TASK, &"soon"])
        .await
        .expect_err("not an integer");
    let message = error
        .as_db_error()
        .map(|e| e.message().to_string())
        .unwrap_or_else(|| error.to_string());
    assert!(
        message.contains("row 1: data__timeout_seconds expects an integer, got 'soon'"),
        "{message}"
    );
    assert!(emu.requests().is_empty(), "{:?}", emu.requests());
    let rows = client.query("SELECT 1::BIGINT", &[]).await.expect("usable");
    assert_eq!(rows[0].get::<_, i64>(0), 1);
    server.shutdown().await;
}
