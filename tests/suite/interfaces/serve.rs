//! `jobsql serve`: a real Postgres client (tokio-postgres) against the server on 127.0.0.1:0,
//! itself against the emulator.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use datafusion::prelude::SessionContext;
use jobsql_core::client::{ApiClient, RetryPolicy};
use jobsql_core::frontend::sessions as jobsql_sessions;
use jobsql_core::provider::ApiRuntime;
use jobsql_core::spec::load_embedded;
use jobsql_core::workspace::{Workspace, WorkspaceResolver};
use jobsql_emulator::EmulatorHandle;
use jobsql_pgwire::{start, ContextFactory, ServeError, ServeOptions, ServerHandle};
use tokio_postgres::{Client, NoTls, SimpleQueryMessage};

use super::common::{emulator, emulator_with_latency, to};

const TOKEN_BAD: &str = "not-the-emulator-token";

/// A server whose sessions query `emu` (and `deployment_name = 'bad'`: the same workspace with
/// a wrong token).
async fn server(emu: &EmulatorHandle, user: Option<&str>, password: Option<&str>) -> ServerHandle {
    let options = ServeOptions {
        user: user.map(str::to_string),
        password: password.map(str::to_string),
        ..ServeOptions::new("127.0.0.1:0".parse().expect("addr"))
    };
    server_with(emu, options).await
}

/// The sessions of a server over `emu` (see [`server`]).
pub fn factory(emu: &EmulatorHandle) -> ContextFactory {
    let resolver = WorkspaceResolver::from_parts(HashMap::new(), None, None)
        .with_default(Workspace::new("emu", &emu.base_url(), emu.token()).expect("workspace"))
        .with_named(Workspace::new("bad", &emu.base_url(), TOKEN_BAD).expect("workspace"));
    let runtime = Arc::new(ApiRuntime::new(
        ApiClient::new(RetryPolicy::default()).expect("client"),
        resolver,
    ));
    jobsql_sessions(load_embedded().expect("specs"), runtime)
}

/// The tables of Databricks' `jobs` service, by name: what a client listing the tables of the
/// `jobs` schema should see (from the embedded specs, so a new resource needs no edit here).
pub fn job_tables() -> Vec<String> {
    let specs = load_embedded().expect("specs");
    let mut names: Vec<String> = specs
        .resources
        .iter()
        .filter(|r| r.provider == "databricks_workspace" && r.service == "jobs")
        .map(|r| r.name.clone())
        .collect();
    names.sort();
    names
}

/// A server over `emu` with the default options, on a free port of 127.0.0.1.
pub async fn default_server(emu: &EmulatorHandle) -> ServerHandle {
    server_with(emu, ServeOptions::new("127.0.0.1:0".parse().expect("addr"))).await
}

/// A server over `emu` with `options`.
pub async fn server_with(emu: &EmulatorHandle, options: ServeOptions) -> ServerHandle {
    start(options, factory(emu)).await.expect("server starts")
}

pub async fn connect_as(
    addr: SocketAddr,
    user: &str,
    password: Option<&str>,
) -> Result<Client, tokio_postgres::Error> {
    let mut config = tokio_postgres::Config::new();
    config
        .host(addr.ip().to_string())
        .port(addr.port())
        .user(user)
        .dbname("jobsql");
    if let Some(p) = password {
        config.password(p);
    }
    let (client, connection) = config.connect(NoTls).await?;
    tokio::spawn(connection);
    Ok(client)
}

pub async fn connect(addr: SocketAddr) -> Client {
    connect_as(addr, "analyst", None).await.expect("connects")
}

/// The values of the rows of a simple query, as text.
pub fn simple_rows(messages: &[SimpleQueryMessage]) -> Vec<Vec<Option<String>>> {
    messages
        .iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(row) => Some(
                (0..row.len())
                    .map(|i| row.get(i).map(str::to_string))
                    .collect(),
            ),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simple_query_returns_rows_and_pushes_the_filter_down() {
    let emu = emulator().await;
    let server = server(&emu, None, None).await;
    let client = connect(server.local_addr()).await;
    let job = emu.notable().job_ids[0];
    emu.clear_requests();
    let messages = client
        .simple_query(&format!(
            "SELECT job_id, count(*) AS runs FROM databricks_workspace.jobs.job_runs \
             WHERE job_id = {job} GROUP BY job_id"
        ))
        .await
        .expect("query runs");
    let rows = simple_rows(&messages);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0][0].as_deref(), Some(job.to_string().as_str()));
    let count: i64 = rows[0][1]
        .as_deref()
        .and_then(|c| c.parse().ok())
        .expect("a count");
    let requests = emu.requests();
    assert!(!requests.is_empty());
    assert_eq!(to(&requests, "/runs/list").len(), requests.len());
    assert!(requests
        .iter()
        .all(|r| r.param("job_id") == Some(job.to_string().as_str())));
    let listed: usize = requests.len();
    assert!(
        count > 0 && listed as i64 >= count / 25,
        "{count} runs over {listed} pages"
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bind_parameters_are_typed_and_pushed_down() {
    let emu = emulator().await;
    let server = server(&emu, None, None).await;
    let client = connect(server.local_addr()).await;
    let job = emu.notable().job_ids[1];
    emu.clear_requests();
    let rows = client
        .query(
            "SELECT run_id, job_id, start_time, state['result_state'] AS result, state \
             FROM databricks_workspace.jobs.job_runs WHERE job_id = $1 \
             ORDER BY run_id DESC LIMIT $2",
            &[&job, &3i64],
        )
        .await
        .expect("prepared query runs");
    assert_eq!(rows.len(), 3);
    let mut previous = i64::MAX;
    for row in &rows {
        let run_id: i64 = row.get("run_id");
        let job_id: i64 = row.get("job_id");
        let start: SystemTime = row.get("start_time");
        let state: String = row.get("state");
        assert_eq!(job_id, job);
        assert!(run_id < previous);
        previous = run_id;
        assert!(start > SystemTime::UNIX_EPOCH);
        // Structs arrive as JSON text.
        let parsed: serde_json::Value = serde_json::from_str(&state).expect("JSON");
        assert!(parsed.get("life_cycle_state").is_some(), "{state}");
    }
    let requests = emu.requests();
    assert!(!requests.is_empty());
    assert!(requests
        .iter()
        .all(|r| r.path.ends_with("/runs/list")
            && r.param("job_id") == Some(job.to_string().as_str())));

    // The same statement, prepared once, bound again with another job.
    let statement = client
        .prepare("SELECT count(*) AS n FROM databricks_workspace.jobs.job_runs WHERE job_id = $1")
        .await
        .expect("prepares");
    assert_eq!(statement.params(), &[tokio_postgres::types::Type::INT8]);
    emu.clear_requests();
    let other = emu.notable().job_ids[2];
    let n: i64 = client
        .query_one(&statement, &[&other])
        .await
        .expect("runs")
        .get("n");
    assert!(n > 0);
    assert!(emu
        .requests()
        .iter()
        .all(|r| r.param("job_id") == Some(other.to_string().as_str())));
    // A text parameter where DataFusion infers nothing, and a timestamp parameter.
    let since = SystemTime::now() - Duration::from_secs(7 * 24 * 3600);
    emu.clear_requests();
    let row = client
        .query_one(
            "SELECT count(*) AS n FROM databricks_workspace.jobs.job_runs \
             WHERE start_time >= $1 AND run_type = $2",
            &[&since, &"JOB_RUN"],
        )
        .await
        .expect("runs");
    let _: i64 = row.get("n");
    let requests = emu.requests();
    assert!(!requests.is_empty());
    assert!(requests
        .iter()
        .all(|r| r.param("start_time_from").is_some() && r.param("run_type") == Some("JOB_RUN")));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_errors_are_sql_errors_and_the_server_keeps_serving() {
    let emu = emulator().await;
    let server = server(&emu, None, None).await;
    let client = connect(server.local_addr()).await;
    let err = client
        .simple_query(
            "SELECT run_id FROM databricks_workspace.jobs.job_runs WHERE deployment_name = 'bad'",
        )
        .await
        .expect_err("a wrong token fails");
    let db = err.as_db_error().expect("a Postgres ErrorResponse");
    assert!(
        db.message().contains("UNAUTHENTICATED") || db.message().contains("401"),
        "{db:?}"
    );
    assert!(!db.message().contains(TOKEN_BAD), "{db:?}");
    // The same error through the extended protocol.
    let err = client
        .query(
            "SELECT run_id FROM databricks_workspace.jobs.job_runs WHERE deployment_name = $1",
            &[&"bad"],
        )
        .await
        .expect_err("fails");
    assert!(err.as_db_error().is_some(), "{err:?}");
    // A missing required parameter and a SQL error are errors too.
    let err = client
        .simple_query("SELECT * FROM databricks_workspace.cleanrooms.task_runs")
        .await
        .expect_err("needs clean_room_name");
    let message = err
        .as_db_error()
        .map(|e| e.message().to_string())
        .unwrap_or_default();
    assert!(message.contains("clean_room_name"), "{message}");
    let err = client.simple_query("SELEC 1").await.expect_err("syntax");
    assert_eq!(
        err.as_db_error().map(|e| e.code().code()),
        Some("42601"),
        "{err:?}"
    );
    // The connection is still usable, and so is the server.
    let rows = simple_rows(
        &client
            .simple_query("SELECT 41 + 1")
            .await
            .expect("still works"),
    );
    assert_eq!(rows, [[Some("42".to_string())]]);
    let other = connect(server.local_addr()).await;
    let n: i64 = other
        .query_one(
            "SELECT count(*) FROM databricks_workspace.jobs.job_runs WHERE active_only = true",
            &[],
        )
        .await
        .expect("another connection works")
        .get(0);
    assert!(n >= 0);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_query_does_not_hold_up_other_connections() {
    let emu = emulator_with_latency(Duration::from_millis(1500)).await;
    let server = server(&emu, None, None).await;
    let slow = connect(server.local_addr()).await;
    let run = emu.notable().job_ids[0];
    let slow_query = tokio::spawn(async move {
        slow.query(
            "SELECT count(*) FROM databricks_workspace.jobs.job_runs WHERE job_id = $1 LIMIT 1",
            &[&run],
        )
        .await
        .map(|rows| rows.len())
    });
    // Wait until the slow query's request has reached the workspace.
    while emu.requests().is_empty() && !slow_query.is_finished() {
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let fast = connect(server.local_addr()).await;
    let rows = simple_rows(&fast.simple_query("SELECT 1").await.expect("answers"));
    assert_eq!(rows, [[Some("1".to_string())]]);
    assert!(
        !slow_query.is_finished(),
        "the other connection was answered while the slow one waited"
    );
    assert_eq!(
        slow_query.await.expect("joins").expect("slow query ends"),
        1
    );
    server.shutdown().await;
}

const PSQL_DT: &str = r#"SELECT n.nspname as "Schema",
  c.relname as "Name",
  CASE c.relkind WHEN 'r' THEN 'table' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' WHEN 'i' THEN 'index' WHEN 'S' THEN 'sequence' WHEN 't' THEN 'TOAST table' WHEN 'f' THEN 'foreign table' WHEN 'p' THEN 'partitioned table' WHEN 'I' THEN 'partitioned index' END as "Type",
  pg_catalog.pg_get_userbyid(c.relowner) as "Owner"
FROM pg_catalog.pg_class c
     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     LEFT JOIN pg_catalog.pg_am am ON am.oid = c.relam
WHERE c.relkind IN ('r','p','')
      AND n.nspname <> 'pg_catalog'
      AND n.nspname !~ '^pg_toast'
      AND n.nspname <> 'information_schema'
  AND pg_catalog.pg_table_is_visible(c.oid)
ORDER BY 1,2;"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drivers_session_commands_and_catalog_queries_work() {
    let emu = emulator().await;
    let server = server(&emu, None, None).await;
    let client = connect(server.local_addr()).await;
    emu.clear_requests();
    for sql in [
        "SET extra_float_digits = 3",
        "SET application_name = 'PostgreSQL JDBC Driver'",
        "BEGIN",
        "COMMIT",
        "ROLLBACK",
    ] {
        client.simple_query(sql).await.expect(sql);
    }
    let text = |sql: &'static str| {
        let client = &client;
        async move {
            simple_rows(&client.simple_query(sql).await.expect(sql))
                .into_iter()
                .map(|r| {
                    r.into_iter()
                        .map(Option::unwrap_or_default)
                        .collect::<Vec<_>>()
                })
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(text("SHOW search_path").await, [["\"$user\", public"]]);
    assert_eq!(
        text("SHOW transaction isolation level").await,
        [["read committed"]]
    );
    assert!(text("SELECT version()").await[0][0].starts_with("PostgreSQL 16"));
    let types =
        text("SELECT typname FROM pg_catalog.pg_type WHERE oid IN (20, 25, 1184) ORDER BY oid")
            .await;
    assert_eq!(types, [["int8"], ["text"], ["timestamptz"]]);
    let tables = text(
        "SELECT table_schema, table_name FROM information_schema.tables \
         WHERE table_catalog = 'databricks_workspace' AND table_schema <> 'information_schema' \
         ORDER BY 2",
    )
    .await;
    assert!(
        tables.contains(&vec!["jobs".to_string(), "job_runs".to_string()]),
        "{tables:?}"
    );
    assert!(
        tables.contains(&vec!["cleanrooms".to_string(), "task_runs".to_string()]),
        "{tables:?}"
    );
    // psql's `\dt` query, as psql 15 sends it; the schema named as information_schema names
    // it (issue 17: one naming).
    let dt = text(PSQL_DT).await;
    assert!(
        dt.contains(&vec![
            "jobs".to_string(),
            "job_runs".to_string(),
            "table".to_string(),
            "jobsql".to_string()
        ]),
        "{dt:?}"
    );
    assert!(text("SELECT pg_catalog.version()").await[0][0].starts_with("PostgreSQL"));
    let described = text("DESCRIBE databricks_workspace.jobs.job_runs").await;
    assert!(described.iter().any(|r| r[0] == "run_id"), "{described:?}");
    // Prepared (extended protocol), DESCRIBE has its kind and description columns too.
    let rows = client
        .query("DESCRIBE databricks_workspace.jobs.job_runs", &[])
        .await
        .expect("DESCRIBE prepared");
    let active = rows
        .iter()
        .find(|r| r.get::<_, String>(0) == "active_only")
        .expect("an active_only row");
    assert_eq!(
        active.get::<_, Option<String>>(3).as_deref(),
        Some("parameter")
    );
    assert!(active
        .get::<_, Option<String>>(4)
        .is_some_and(|d| d.contains("active runs")));
    // The extended protocol answers session commands too (psycopg prepares BEGIN).
    client.execute("BEGIN", &[]).await.expect("BEGIN prepared");
    let path: String = client
        .query_one("SHOW search_path", &[])
        .await
        .expect("SHOW prepared")
        .get(0);
    assert_eq!(path, "\"$user\", public");
    // None of this reached the workspace.
    assert!(emu.requests().is_empty(), "{:?}", emu.requests());
    // Short names resolve in a serve session too (simple and extended protocols).
    let short = text("SELECT count(*) FROM jobs").await;
    let full = text("SELECT count(*) FROM databricks_workspace.jobs.jobs").await;
    assert_eq!(short, full);
    let n: i64 = client
        .query_one("SELECT count(*) FROM jobs.jobs", &[])
        .await
        .expect("jobs.jobs prepared")
        .get(0);
    assert_eq!(n.to_string(), full[0][0]);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passwords_are_checked_and_exposed_addresses_refused() {
    let emu = emulator().await;
    // No login backoff here (see serve_limits for it).
    let mut options = ServeOptions {
        user: Some("analyst".into()),
        password: Some("s3cret".into()),
        ..ServeOptions::new("127.0.0.1:0".parse().expect("addr"))
    };
    options.limits.login_backoff = Duration::ZERO;
    let server = server_with(&emu, options).await;
    let addr = server.local_addr();
    let err = connect_as(addr, "analyst", Some("wrong"))
        .await
        .expect_err("wrong password refused");
    let db = err.as_db_error().expect("a Postgres error");
    assert_eq!(db.code().code(), "28P01", "{db:?}");
    assert!(!db.message().contains("s3cret"));
    assert!(connect_as(addr, "someone", Some("s3cret")).await.is_err());
    let client = connect_as(addr, "analyst", Some("s3cret"))
        .await
        .expect("right password");
    let rows = simple_rows(&client.simple_query("SELECT 1").await.expect("runs"));
    assert_eq!(rows, [[Some("1".to_string())]]);
    server.shutdown().await;

    let factory: ContextFactory =
        Arc::new(|config, env| Ok(SessionContext::new_with_config_rt(config, env)));
    let exposed = ServeOptions::new("0.0.0.0:0".parse().expect("addr"));
    let err = start(exposed.clone(), factory.clone())
        .await
        .err()
        .expect("refused");
    assert!(matches!(err, ServeError::Unprotected(_)), "{err}");
    assert!(err.to_string().contains("--password"), "{err}");
    let protected = ServeOptions {
        password: Some("p".into()),
        ..exposed
    };
    assert!(protected.check().is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insert_and_exec_go_through_the_simple_protocol() {
    let emu = emulator().await;
    let server = server(&emu, None, None).await;
    let client = connect(server.local_addr()).await;
    emu.clear_requests();
    let task = r#"[{"task_key":"main","notebook_task":{"notebook_path":"/Repos/etl/main"}}]"#;
    let messages = client
        .simple_query(&format!(
            "INSERT INTO databricks_workspace.jobs.job_runs (data__run_name, data__tasks) \
             VALUES ('from-psql', '{task}') RETURNING run_id"
        ))
        .await
        .expect("INSERT runs");
    let rows = simple_rows(&messages);
    assert_eq!(rows.len(), 1, "{rows:?}");
    let run: i64 = rows[0][0]
        .as_deref()
        .and_then(|r| r.parse().ok())
        .expect("a run id");
    let requests = emu.requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(requests[0].path, "/api/2.2/jobs/runs/submit");
    assert_eq!(
        requests[0].body.as_ref().map(|b| b["run_name"].clone()),
        Some(serde_json::json!("from-psql"))
    );
    emu.clear_requests();
    let messages = client
        .simple_query(&format!(
            "EXEC databricks_workspace.jobs.job_runs.cancel @run_id = {run}"
        ))
        .await
        .expect("EXEC runs");
    assert_eq!(simple_rows(&messages).len(), 1);
    let requests = emu.requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(requests[0].path, "/api/2.2/jobs/runs/cancel");
    assert_eq!(
        requests[0].body.as_ref().and_then(|b| b["run_id"].as_i64()),
        Some(run)
    );
    // DELETE answers its count as Postgres does.
    emu.clear_requests();
    let messages = client
        .simple_query(&format!(
            "DELETE FROM databricks_workspace.jobs.job_runs WHERE run_id = {run}"
        ))
        .await
        .expect("DELETE runs");
    assert!(
        messages
            .iter()
            .any(|m| matches!(m, SimpleQueryMessage::CommandComplete(1))),
        "{messages:?}"
    );
    assert_eq!(to(&emu.requests(), "/runs/delete").len(), 1);
    // UPDATE and REPLACE answer their count (UPDATE n) in the simple protocol, and a prepared
    // UPDATE of a column (DataFusion's plan, taken over by jobsql's rule) sends the same call.
    let jobs = "databricks_workspace.jobs.jobs";
    let job: i64 = simple_rows(
        &client
            .simple_query(&format!(
                "SELECT job_id FROM {jobs} ORDER BY job_id LIMIT 1"
            ))
            .await
            .expect("a job"),
    )[0][0]
        .as_deref()
        .and_then(|j| j.parse().ok())
        .expect("a job id");
    for (sql, path) in [
        (
            format!("UPDATE {jobs} SET data__new_settings = '{{\"max_concurrent_runs\": 2}}' WHERE job_id = {job}"),
            "/jobs/update",
        ),
        (
            format!("REPLACE {jobs} SET settings = '{{\"name\": \"psql\"}}' WHERE job_id = {job}"),
            "/jobs/reset",
        ),
    ] {
        emu.clear_requests();
        let messages = client.simple_query(&sql).await.expect("runs");
        assert!(
            messages
                .iter()
                .any(|m| matches!(m, SimpleQueryMessage::CommandComplete(1))),
            "{sql}: {messages:?}"
        );
        assert_eq!(to(&emu.requests(), path).len(), 1, "{sql}");
    }
    emu.clear_requests();
    let changed = client
        .execute(
            &format!("UPDATE {jobs} SET name = $1 WHERE job_id = {job}"),
            &[&"prepared"],
        )
        .await
        .expect("a prepared UPDATE");
    assert_eq!(changed, 1);
    let bodies: Vec<serde_json::Value> = to(&emu.requests(), "/jobs/update")
        .iter()
        .filter_map(|r| r.body.clone())
        .collect();
    assert_eq!(
        bodies,
        [serde_json::json!({"job_id": job, "new_settings": {"name": "prepared"}})]
    );
    // EXEC cannot be prepared: a clear error, and no request.
    emu.clear_requests();
    let err = client
        .query(
            &format!("EXEC databricks_workspace.jobs.job_runs.cancel @run_id = {run}"),
            &[],
        )
        .await
        .expect_err("not through the extended protocol");
    let message = err
        .as_db_error()
        .map(|e| e.message().to_string())
        .unwrap_or_default();
    assert!(message.contains("simple query protocol"), "{message}");
    assert!(emu.requests().is_empty());
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_protocols_refuse_dropping_an_api_table() {
    let emu = emulator().await;
    let server = server(&emu, None, None).await;
    let client = connect(server.local_addr()).await;
    let drop = "DROP TABLE IF EXISTS databricks_workspace.jobs.job_runs";
    let simple = client.simple_query(drop).await.expect_err("refused");
    let prepared = client.execute(drop, &[]).await.expect_err("refused");
    for err in [simple, prepared] {
        let db = err.as_db_error().expect("a Postgres error");
        assert!(db.message().contains("cannot be dropped"), "{db:?}");
    }
    // Still there, and still answering.
    let rows = simple_rows(
        &client
            .simple_query(
                "SELECT count(*) FROM databricks_workspace.jobs.job_runs WHERE run_id = 1",
            )
            .await
            .expect("the table is still there"),
    );
    assert_eq!(rows.len(), 1);
    server.shutdown().await;
}
