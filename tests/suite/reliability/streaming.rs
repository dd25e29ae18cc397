//! `jobsql query` and `jobsql shell` print a result as it arrives: a proxy in front of the
//! emulator answers the first runs/list page and holds every later one until the test has read
//! the first rows from the binary's stdout. Printing only at the end of the scan cannot pass:
//! the held pages are then let go by a timeout, and the test sees that they were. A failure
//! after the first page keeps the rows printed, and exits 1 with the error.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use jobsql_emulator::{EmulatorConfig, EmulatorHandle};
use tokio::sync::Notify;

use super::common::*;

/// How long the proxy holds the later pages at most (a buffering binary is let go then).
const HOLD: Duration = Duration::from_secs(20);

/// Whether the held pages were let go, and by whom.
#[derive(Default)]
struct Gate {
    open: Notify,
    released_by_test: AtomicBool,
    timed_out: AtomicBool,
}

/// A proxy to `emu` answering the first runs/list request at once and holding the later ones
/// until the gate opens (or [`HOLD`] passes); with `fail_later`, those are answered with a
/// 400 instead of being forwarded.
async fn holding_proxy(emu: &EmulatorHandle, gate: Arc<Gate>, fail_later: bool) -> Stub {
    let target = emu.base_url();
    let http = reqwest::Client::new();
    Stub::start_async(move |seen, n| {
        let (gate, http, target) = (gate.clone(), http.clone(), target.clone());
        Box::pin(async move {
            let listing = seen.uri.split('?').next() == Some(LIST);
            if listing && n >= 1 {
                let opened = gate.open.notified();
                if !gate.released_by_test.load(Ordering::SeqCst)
                    && tokio::time::timeout(HOLD, opened).await.is_err()
                {
                    gate.timed_out.store(true, Ordering::SeqCst);
                }
                if fail_later {
                    return Reply::json(
                        400,
                        r#"{"error_code":"INVALID_PARAMETER_VALUE","message":"page refused by the test"}"#,
                    );
                }
            }
            let mut req = http.get(format!("{target}{}", seen.uri));
            if let Some(auth) = seen.auth {
                req = req.header("authorization", auth);
            }
            match req.send().await {
                Ok(r) => {
                    let status = r.status().as_u16();
                    Reply::json(status, r.bytes().await.map(|b| b.to_vec()).unwrap_or_default())
                }
                Err(e) => Reply::json(502, format!("{{\"message\":\"proxy: {e}\"}}")),
            }
        })
    })
    .await
}

impl Gate {
    fn release(&self) {
        self.released_by_test.store(true, Ordering::SeqCst);
        self.open.notify_waiters();
    }
}

/// 100 runs: four pages of 25, or more requests when the listing is cut into slices.
async fn runs_emulator() -> EmulatorHandle {
    emulator(EmulatorConfig {
        token: TOKEN.to_string(),
        runs: 100,
        jobs: 4,
        ..EmulatorConfig::default()
    })
    .await
}

/// Every run id of `emu`, sorted, read in-process (not through the binary under test).
async fn all_run_ids(emu: &EmulatorHandle) -> Vec<i64> {
    let ctx = session(runtime(fast(2), &[emu_workspace("direct", emu)]));
    let mut ids = ints(
        &rows(&ctx, &format!("SELECT run_id FROM {RUNS} ORDER BY run_id")).await,
        0,
    );
    ids.sort();
    ids
}

fn list_requests(emu: &EmulatorHandle) -> usize {
    emu.requests().iter().filter(|r| r.path == LIST).count()
}

/// What the test saw of a run of the binary.
struct Run {
    /// stdout when the first rows had arrived.
    first: String,
    /// runs/list requests the emulator had answered by then.
    lists_at_first: usize,
    /// Whether the proxy had let the held pages go (by its timeout) by then.
    released_at_first: bool,
    stdout: String,
    stderr: String,
    code: Option<i32>,
}

/// Run `cmd` (its stdin given `input`), wait until its stdout satisfies `has_rows`, note what
/// had happened by then, open the gate, and collect the rest.
async fn watch(
    mut cmd: Command,
    input: Option<String>,
    emu: &EmulatorHandle,
    gate: &Gate,
    has_rows: fn(&str) -> bool,
) -> Run {
    cmd.stdin(if input.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("the binary starts");
    if let (Some(mut stdin), Some(input)) = (child.stdin.take(), input) {
        stdin.write_all(input.as_bytes()).expect("script written");
    }
    let (tx, rx) = mpsc::channel::<Vec<u8>>();
    let mut stdout = child.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    let first = tokio::task::spawn_blocking(move || {
        while let Ok(chunk) = rx.recv() {
            seen.extend_from_slice(&chunk);
            if has_rows(&String::from_utf8_lossy(&seen)) {
                break;
            }
        }
        (seen, rx)
    });
    let (first, rx) = first.await.expect("joins");
    let lists_at_first = list_requests(emu);
    let released_at_first = gate.timed_out.load(Ordering::SeqCst);
    gate.release();
    let output = tokio::task::spawn_blocking(move || {
        let mut rest = first.clone();
        while let Ok(chunk) = rx.recv() {
            rest.extend_from_slice(&chunk);
        }
        let _ = reader.join();
        let status = child.wait_with_output().expect("the binary ends");
        (first, rest, status)
    })
    .await
    .expect("joins");
    let (first, all, status) = output;
    Run {
        first: String::from_utf8_lossy(&first).into_owned(),
        lists_at_first,
        released_at_first,
        stdout: String::from_utf8_lossy(&all).into_owned(),
        stderr: String::from_utf8_lossy(&status.stderr).into_owned(),
        code: status.status.code(),
    }
}

/// `jobsql <args>` against `base` (the proxy), one request at a time.
fn jobsql(base: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_jobsql"));
    cmd.args(args)
        .args(["--max-concurrency", "1"])
        .env("DATABRICKS_HOST", base)
        .env("DATABRICKS_TOKEN", TOKEN)
        .env_remove("DATABRICKS_CONFIG_PROFILE")
        .env("DATABRICKS_CONFIG_FILE", "/nonexistent/databrickscfg")
        .env_remove("RUST_BACKTRACE");
    cmd
}

fn csv_has_rows(text: &str) -> bool {
    text.lines().count() >= 2
}

fn ndjson_has_rows(text: &str) -> bool {
    text.contains('\n')
}

fn json_has_rows(text: &str) -> bool {
    text.contains('}')
}

/// The run ids printed in `format`.
fn printed_ids(format: &str, stdout: &str) -> Vec<i64> {
    let mut ids: Vec<i64> = match format {
        "csv" => stdout
            .lines()
            .skip(1)
            .map(|l| l.parse().expect("a run id"))
            .collect(),
        "ndjson" => stdout
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).expect("a JSON line");
                v["run_id"].as_i64().expect("run_id")
            })
            .collect(),
        _ => {
            let v: serde_json::Value = serde_json::from_str(stdout).expect("one JSON array");
            v.as_array()
                .expect("an array")
                .iter()
                .map(|r| r["run_id"].as_i64().expect("run_id"))
                .collect()
        }
    };
    ids.sort();
    ids
}

/// The first rows arrived while the later pages were held by the proxy, not after.
fn assert_streamed(run: &Run, what: &str) {
    assert!(
        !run.released_at_first,
        "{what}: nothing was printed until the proxy let the held pages go: the result was \
         buffered (first output: {:?})",
        run.first
    );
    assert_eq!(
        run.lists_at_first, 1,
        "{what}: the first rows came after {} runs/list requests, not after the first page",
        run.lists_at_first
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_prints_the_first_rows_while_later_pages_are_still_held() {
    let emu = runs_emulator().await;
    let expected = all_run_ids(&emu).await;
    let sql = format!("SELECT run_id FROM {RUNS}");
    for (format, has_rows) in [
        ("csv", csv_has_rows as fn(&str) -> bool),
        ("ndjson", ndjson_has_rows),
        ("json", json_has_rows),
    ] {
        let gate = Arc::new(Gate::default());
        let proxy = holding_proxy(&emu, gate.clone(), false).await;
        emu.clear_requests();
        let cmd = jobsql(&proxy.base, &["query", "--format", format, &sql]);
        let run = watch(cmd, None, &emu, &gate, has_rows).await;
        assert_eq!(run.code, Some(0), "{format}: {}", run.stderr);
        assert_streamed(&run, format);
        // The whole result, bigger than the first page, came in the end.
        assert_eq!(printed_ids(format, &run.stdout), expected, "{format}");
        let lists = list_requests(&emu);
        assert!(lists > 1, "{format}: {lists} runs/list requests");
        let held = proxy
            .seen()
            .iter()
            .filter(|s| s.uri.split('?').next() == Some(LIST))
            .count();
        assert_eq!(
            held, lists,
            "{format}: every listing went through the proxy"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shell_prints_the_first_rows_while_later_pages_are_still_held() {
    let emu = runs_emulator().await;
    let expected = all_run_ids(&emu).await;
    let gate = Arc::new(Gate::default());
    let proxy = holding_proxy(&emu, gate.clone(), false).await;
    emu.clear_requests();
    let mut cmd = jobsql(&proxy.base, &["shell", "--format", "csv", "--quiet"]);
    cmd.env("HOME", std::env::temp_dir());
    let script = format!("SELECT run_id\n  FROM {RUNS};\n");
    let run = watch(cmd, Some(script), &emu, &gate, csv_has_rows).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_streamed(&run, "shell");
    assert_eq!(printed_ids("csv", &run.stdout), expected);
    assert!(list_requests(&emu) > 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_failing_after_rows_were_printed_keeps_them_and_exits_1() {
    let emu = runs_emulator().await;
    let expected = all_run_ids(&emu).await;
    let gate = Arc::new(Gate::default());
    let proxy = holding_proxy(&emu, gate.clone(), true).await;
    emu.clear_requests();
    let sql = format!("SELECT run_id FROM {RUNS}");
    let cmd = jobsql(&proxy.base, &["query", "--format", "csv", &sql]);
    let run = watch(cmd, None, &emu, &gate, csv_has_rows).await;
    assert_streamed(&run, "failing scan");
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(
        run.stderr.starts_with("error: ") && run.stderr.contains("page refused by the test"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains(TOKEN), "{}", run.stderr);
    // The first page's rows stay printed: some, not all, of the runs.
    let printed = printed_ids("csv", &run.stdout);
    assert!(
        !printed.is_empty() && printed.len() < expected.len(),
        "{printed:?}"
    );
    assert!(
        printed.iter().all(|id| expected.contains(id)),
        "{printed:?}"
    );
    assert_eq!(
        list_requests(&emu),
        1,
        "only the first page reached the emulator"
    );
}
