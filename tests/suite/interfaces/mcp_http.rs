//! `jobsql mcp --addr`: streamable HTTP, driven by the Python MCP client, and the loopback-only
//! default (a non-loopback address refused unless `--allow-remote`).

use serde_json::json;

use super::common::{emulator, to};
use super::mcp::client;
use crate::support::batches::ints;
use crate::support::cli::{jobsql, stderr};
use crate::support::process::McpProcess;
use crate::support::session::{on, query};
use crate::support::LIST;

#[tokio::test(flavor = "multi_thread")]
async fn a_query_over_streamable_http() {
    let emu = emulator().await;
    let host = emu.base_url();
    let server = McpProcess::start(
        &[],
        &[
            ("DATABRICKS_HOST", &host),
            ("DATABRICKS_TOKEN", emu.token()),
        ],
    );
    assert!(
        server.url.starts_with("http://127.0.0.1:"),
        "{}",
        server.url
    );
    assert!(server.url.ends_with("/mcp"), "{}", server.url);
    let ctx = on(&emu, &[]);
    let job = ints(
        &query(
            &ctx,
            "SELECT job_id FROM job_runs WHERE job_id IS NOT NULL ORDER BY run_id LIMIT 1",
        )
        .await,
        0,
    )[0]
    .expect("a job_id");
    let sql = format!("SELECT count(*) AS n FROM job_runs WHERE job_id = {job}");
    let want = ints(&query(&ctx, &sql).await, 0)[0].expect("a count");
    assert!(want > 0, "the job has runs");
    emu.clear_requests();
    let answer = client(
        json!({"url": server.url}),
        json!([["query", {"sql": sql}], ["query", {"sql": "DELETE FROM job_runs WHERE run_id = 1"}]]),
    )
    .await;
    let names: Vec<&str> = answer["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .map(|t| t["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["query", "list_tables", "describe_table", "explain"]);
    let r = &answer["results"][0];
    assert_eq!(r["is_error"], false, "{r}");
    let n = r["structured"]["rows"][0]["n"].as_i64().expect("a count");
    let requests = emu.requests();
    let lists = to(&requests, LIST);
    assert!(!lists.is_empty(), "{requests:?}");
    for l in &lists {
        assert_eq!(l.param("job_id"), Some(job.to_string().as_str()), "{l:?}");
    }
    assert_eq!(n, want);
    let refused = &answer["results"][1];
    assert_eq!(refused["is_error"], true, "{refused}");
    assert!(requests.iter().all(|r| r.method == "GET"), "{requests:?}");
}

#[test]
fn a_non_loopback_address_is_refused_unless_allowed() {
    let out = jobsql(&["mcp", "--addr", "0.0.0.0:0"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.starts_with("error: refusing to listen on 0.0.0.0:0") && err.contains("--allow-remote"),
        "{err}"
    );
    // --allow-remote needs --addr.
    let out = jobsql(&["mcp", "--allow-remote"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}
