//! `jobsql mcp` driven by the official Python MCP client (`mcp`, pinned in
//! `.ci/python-requirements.txt`) over stdio: the client starts the `jobsql` binary, pointed at
//! an emulator running in the test, lists the tools and calls them. Each test asserts the
//! answers (compared with the same SQL run by the library on the same emulator) and the
//! requests the emulator saw.

use jobsql_emulator::EmulatorHandle;
use serde_json::{json, Value};

use super::common::{emulator, to};
use crate::support::clients::mcp_client;
use crate::support::requests::mutations;
use crate::support::session::{on, query};
use crate::support::{LIST, RUNS};

/// The environment of `jobsql mcp`: `emu` the default workspace, nothing else of the machine's.
fn server_env(emu: &EmulatorHandle) -> Value {
    json!({
        "DATABRICKS_HOST": emu.base_url(),
        "DATABRICKS_TOKEN": emu.token(),
        "DATABRICKS_CONFIG_FILE": "/nonexistent/databrickscfg",
    })
}

/// Run the client against `server` with `calls`; the parsed answer.
pub async fn client(server: Value, calls: Value) -> Value {
    tokio::task::spawn_blocking(move || mcp_client(server, calls))
        .await
        .expect("the client ran")
}

/// `jobsql mcp EXTRA` over stdio against `emu`, with `calls`.
async fn stdio(emu: &EmulatorHandle, extra: &[&str], calls: Value) -> Value {
    let mut args = vec!["mcp".to_string()];
    args.extend(extra.iter().map(|s| s.to_string()));
    let server = json!({
        "command": env!("CARGO_BIN_EXE_jobsql"),
        "args": args,
        "env": server_env(emu),
    });
    client(server, calls).await
}

fn result(answer: &Value, i: usize) -> &Value {
    &answer["results"][i]
}

/// `(run_id, job_id)` pairs of the structured rows.
fn pairs(rows: &Value) -> Vec<(i64, i64)> {
    rows.as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            (
                r["run_id"].as_i64().expect("run_id"),
                r["job_id"].as_i64().expect("job_id"),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_tools_are_listed_and_a_query_answers_the_sessions_rows_pushed_down() {
    let emu = emulator().await;
    let ctx = on(&emu, &[]);
    let job = crate::support::batches::ints(
        &query(
            &ctx,
            &format!("SELECT job_id FROM {RUNS} WHERE job_id IS NOT NULL ORDER BY run_id LIMIT 1"),
        )
        .await,
        0,
    )[0]
    .expect("a job_id");
    let sql = format!("SELECT run_id, job_id FROM {RUNS} WHERE job_id = {job} ORDER BY run_id");
    let want: Vec<(i64, i64)> = {
        let batches = query(&ctx, &sql).await;
        let runs = crate::support::batches::ints(&batches, 0);
        let jobs = crate::support::batches::ints(&batches, 1);
        runs.into_iter()
            .zip(jobs)
            .map(|(r, j)| (r.expect("run_id"), j.expect("job_id")))
            .collect()
    };
    assert!(!want.is_empty(), "the job has runs");
    emu.clear_requests();
    // The short name resolves as in `jobsql query`.
    let short = format!("SELECT run_id, job_id FROM job_runs WHERE job_id = {job} ORDER BY run_id");
    let answer = stdio(&emu, &[], json!([["query", {"sql": short}]])).await;

    let names: Vec<&str> = answer["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .map(|t| t["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["query", "list_tables", "describe_table", "explain"]);
    let query_tool = &answer["tools"][0];
    assert_eq!(query_tool["input_schema"]["required"], json!(["sql"]));
    assert_eq!(query_tool["read_only"], true);
    assert!(
        query_tool["description"]
            .as_str()
            .expect("description")
            .contains("read-only"),
        "{query_tool}"
    );

    let r = result(&answer, 0);
    assert_eq!(r["is_error"], false, "{r}");
    assert_eq!(pairs(&r["structured"]["rows"]), want);
    assert_eq!(r["structured"]["truncated"], false);
    let text = r["text"].as_str().expect("text");
    assert!(
        text.starts_with(&format!("{} rows; columns: run_id, job_id\n", want.len())),
        "{text}"
    );
    // job_id = ... went to the API: every listing asked for that job only.
    let requests = emu.requests();
    let lists = to(&requests, LIST);
    assert!(!lists.is_empty(), "{requests:?}");
    for r in &lists {
        assert_eq!(r.param("job_id"), Some(job.to_string().as_str()), "{r:?}");
    }
    assert!(mutations(&requests).is_empty(), "{requests:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn writes_are_refused_without_allow_writes_and_sent_with_it() {
    let emu = emulator().await;
    let insert = "INSERT INTO databricks_workspace.jobs.jobs (data__name) VALUES ('from-mcp')";
    let exec = "EXEC databricks_workspace.jobs.jobs.run_now @job_id = 1";
    emu.clear_requests();
    let answer = stdio(
        &emu,
        &[],
        json!([["query", {"sql": insert}], ["query", {"sql": exec}], ["query", {"sql": "SET datafusion.execution.batch_size = 100"}]]),
    )
    .await;
    for (i, verb) in [(0, "INSERT"), (1, "EXEC"), (2, "SET")] {
        let r = result(&answer, i);
        assert_eq!(r["is_error"], true, "{r}");
        let text = r["text"].as_str().expect("text");
        assert!(text.starts_with(&format!("{verb} is refused")), "{text}");
        assert!(text.contains("--allow-writes"), "{text}");
    }
    let requests = emu.requests();
    assert!(requests.is_empty(), "nothing sent: {requests:?}");

    let answer = stdio(
        &emu,
        &["--allow-writes"],
        json!([["query", {"sql": insert}]]),
    )
    .await;
    let r = result(&answer, 0);
    assert_eq!(r["is_error"], false, "{r}");
    assert_eq!(answer["tools"][0]["read_only"], false);
    let requests = emu.requests();
    let posts = mutations(&requests);
    assert_eq!(posts.len(), 1, "{requests:?}");
    assert_eq!(posts[0].path, "/api/2.2/jobs/create");
    assert_eq!(posts[0].body.as_ref().expect("body")["name"], "from-mcp");
}

#[tokio::test(flavor = "multi_thread")]
async fn errors_are_tool_errors_with_the_short_message_and_no_token() {
    let emu = emulator().await;
    let answer = stdio(
        &emu,
        &[],
        json!([
            ["query", {"sql": "SELECT * FROM no_such_table"}],
            ["query", {"sql": "SELEC 1"}],
            ["query", {"sql": "SELECT 1; SELECT 2"}],
            ["query", {"wrong": "x"}],
            ["describe_table", {"table": "nope"}],
            ["query", {"sql": "SELECT 1 AS one"}],
        ]),
    )
    .await;
    let texts: Vec<String> = (0..5)
        .map(|i| {
            let r = result(&answer, i);
            assert_eq!(r["is_error"], true, "{r}");
            r["text"].as_str().expect("text").to_string()
        })
        .collect();
    assert!(texts[0].contains("no_such_table"), "{}", texts[0]);
    assert!(texts[1].contains("SELEC"), "{}", texts[1]);
    assert_eq!(texts[2], "one statement per call, please: this SQL holds 2");
    assert!(texts[3].contains("unknown field `wrong`"), "{}", texts[3]);
    assert!(texts[4].contains("nope"), "{}", texts[4]);
    // The session goes on after errors.
    assert_eq!(
        result(&answer, 5)["structured"]["rows"],
        json!([{"one": 1}])
    );
    let all = answer.to_string();
    assert!(!all.contains(emu.token()), "the token leaked: {all}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_row_cap_is_stated_and_reading_stops_there() {
    let emu = emulator().await;
    // The whole listing, for comparison: 300 runs.
    let all = query(&on(&emu, &[]), &format!("SELECT run_id FROM {RUNS}")).await;
    let full = emu.requests().len();
    assert_eq!(crate::support::batches::rows(&all), 300);
    emu.clear_requests();
    // A plain scan: the cap (+1) is pushed to the API as the page size; a filter the API
    // cannot apply: the reading stops at the cap.
    let plain = "SELECT run_id FROM job_runs";
    let filtered = "SELECT run_id FROM job_runs WHERE run_id % 2 = 0";
    let answer = stdio(
        &emu,
        &["--max-rows", "5"],
        json!([["query", {"sql": plain}]]),
    )
    .await;
    let requests = emu.requests();
    emu.clear_requests();
    let answer2 = stdio(
        &emu,
        &["--max-rows", "5"],
        json!([["query", {"sql": filtered}]]),
    )
    .await;
    for answer in [&answer, &answer2] {
        let r = result(answer, 0);
        assert_eq!(r["is_error"], false, "{r}");
        let text = r["text"].as_str().expect("text");
        assert!(
            text.starts_with("showing 5 of ≥6 rows (the server's cap, --max-rows 5); add LIMIT"),
            "{text}"
        );
        assert_eq!(r["structured"]["row_count"], 5);
        assert_eq!(r["structured"]["truncated"], true);
        assert_eq!(r["structured"]["rows"].as_array().expect("rows").len(), 5);
    }
    let ids = answer2["results"][0]["structured"]["rows"]
        .as_array()
        .expect("rows")
        .clone();
    assert!(
        ids.iter()
            .all(|r| r["run_id"].as_i64().expect("id") % 2 == 0),
        "{ids:?}"
    );
    assert!(
        answer["tools"][0]["description"]
            .as_str()
            .expect("description")
            .contains("At most 5 rows"),
        "the cap is in the tool's description"
    );
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(requests[0].param("limit"), Some("6"), "{requests:?}");
    assert!(full > 1, "the full listing took {full} requests");
}

#[tokio::test(flavor = "multi_thread")]
async fn tables_are_listed_described_with_their_pushdown_and_explained_without_requests() {
    let emu = emulator().await;
    emu.clear_requests();
    let sql = "SELECT run_id FROM job_runs WHERE job_id = 17";
    let answer = stdio(
        &emu,
        &[],
        json!([
            ["list_tables", {}],
            ["describe_table", {"table": "job_runs"}],
            ["explain", {"sql": sql}],
        ]),
    )
    .await;
    let tables = &result(&answer, 0)["structured"]["tables"];
    let runs = tables
        .as_array()
        .expect("tables")
        .iter()
        .find(|t| t["name"] == RUNS)
        .expect("job_runs is listed");
    assert_eq!(runs["short_name"], "job_runs");
    assert!(runs["description"].as_str().expect("description").len() > 10);
    assert!(result(&answer, 0)["text"]
        .as_str()
        .expect("text")
        .contains(&format!("{RUNS} (or job_runs): ")));

    let described = result(&answer, 1);
    assert_eq!(described["is_error"], false, "{described}");
    assert_eq!(described["structured"]["table"], RUNS);
    let columns = described["structured"]["columns"]
        .as_array()
        .expect("columns");
    let column = |name: &str| {
        columns
            .iter()
            .find(|c| c["column_name"] == name)
            .unwrap_or_else(|| panic!("{name} described"))
    };
    assert_eq!(column("job_id")["pushed_down"], json!(["=", "IN (...)"]));
    assert_eq!(
        column("start_time")["pushed_down"],
        json!(["<, <=, >, >=, BETWEEN"])
    );
    assert_eq!(column("run_name")["pushed_down"], json!([]));
    assert_eq!(column("active_only")["kind"], "parameter");
    assert!(column("job_id")["description"].as_str().is_some());
    let text = described["text"].as_str().expect("text");
    assert!(
        text.contains("- job_id Int64") && text.contains("[WHERE = | IN (...) sent to the API]"),
        "{text}"
    );

    let explained = result(&answer, 2);
    assert_eq!(explained["is_error"], false, "{explained}");
    let plan = explained["text"].as_str().expect("plan");
    assert!(plan.contains("runs/list"), "{plan}");
    assert!(plan.contains("job_id"), "{plan}");
    let requests = emu.requests();
    assert!(requests.is_empty(), "nothing sent: {requests:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn files_on_the_machine_are_opened_only_under_allow_files() {
    let emu = emulator().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("secrets.csv");
    std::fs::write(&file, "name,value\naws,AKIA-not-for-the-model\n").expect("written");
    let path = file.display().to_string();
    let read = format!("SELECT value FROM '{path}'");
    let copy = format!(
        "COPY (SELECT 1 AS one) TO '{}' STORED AS CSV",
        dir.path().join("out.csv").display()
    );
    // Without --allow-files: neither a read nor (with --allow-writes) a write opens a file.
    let answer = stdio(
        &emu,
        &["--allow-writes"],
        json!([["query", {"sql": read}], ["query", {"sql": copy}]]),
    )
    .await;
    for i in 0..2 {
        let r = result(&answer, i);
        assert_eq!(r["is_error"], true, "{r}");
        assert!(
            r["text"].as_str().expect("text").contains("--allow-files"),
            "{r}"
        );
    }
    assert!(!answer.to_string().contains("AKIA"), "{answer}");
    assert!(!dir.path().join("out.csv").exists());
    // With it, files under that directory are tables.
    let dir_arg = dir.path().display().to_string();
    let answer = stdio(
        &emu,
        &["--allow-files", &dir_arg],
        json!([["query", {"sql": read}]]),
    )
    .await;
    let r = result(&answer, 0);
    assert_eq!(r["is_error"], false, "{r}");
    assert_eq!(
        r["structured"]["rows"],
        json!([{"value": "AKIA-not-for-the-model"}])
    );
}

/// `explain` wraps the statement as parsed: a COPY (whose printed form does not parse back)
/// is explained, and explaining it writes no file even where files are allowed; `explain` of
/// an EXPLAIN is refused by kind.
#[tokio::test(flavor = "multi_thread")]
async fn explain_of_a_copy_shows_its_plan_and_writes_nothing() {
    let emu = emulator().await;
    emu.clear_requests();
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("runs.csv");
    let copy = format!(
        "COPY (SELECT run_id FROM job_runs WHERE job_id = 17) TO '{}' STORED AS CSV \
         OPTIONS ('format.has_header' 'true')",
        out.display()
    );
    let dir_arg = dir.path().display().to_string();
    let answer = stdio(
        &emu,
        &["--allow-writes", "--allow-files", &dir_arg],
        json!([
            ["explain", {"sql": copy}],
            ["explain", {"sql": "EXPLAIN SELECT 1"}],
        ]),
    )
    .await;
    let explained = result(&answer, 0);
    assert_eq!(explained["is_error"], false, "{explained}");
    let plan = explained["text"].as_str().expect("plan");
    assert!(plan.contains("CopyTo"), "{plan}");
    assert!(plan.contains("runs/list"), "{plan}");
    assert!(!out.exists(), "explain wrote nothing");
    let nested = result(&answer, 1);
    assert_eq!(nested["is_error"], true, "{nested}");
    assert!(
        nested["text"]
            .as_str()
            .expect("text")
            .contains("give explain the statement itself, without EXPLAIN"),
        "{nested}"
    );
    let requests = emu.requests();
    assert!(requests.is_empty(), "nothing sent: {requests:?}");
}
