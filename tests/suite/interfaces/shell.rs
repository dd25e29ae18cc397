//! `jobsql shell`: the binary, with piped input and in a pseudo-terminal, against emulators
//! running in the test (their addresses passed in the environment, as for a real workspace).

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use jobsql_emulator::EmulatorHandle;

use super::common::{emulator, to};

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("jobsql-shell-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// `jobsql shell` pointed at `emu` (the default workspace); `deployment_name = 'slow'` is
/// `slow` when given. HOME is `home`, so the history file lands there.
fn shell_command(emu: &EmulatorHandle, slow: Option<&str>, home: &PathBuf) -> Command {
    let config = home.join("databrickscfg");
    let mut profiles = String::new();
    if let Some(host) = slow {
        profiles.push_str(&format!("[slow]\nhost = {host}\ntoken = slow-token\n"));
    }
    std::fs::write(&config, profiles).expect("config file");
    // Only its owner may read a file of tokens (else jobsql rightly warns).
    std::fs::set_permissions(&config, std::os::unix::fs::PermissionsExt::from_mode(0o600))
        .expect("chmod 600");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_jobsql"));
    cmd.arg("shell")
        .env("DATABRICKS_HOST", emu.base_url())
        .env("DATABRICKS_TOKEN", emu.token())
        .env("DATABRICKS_CONFIG_FILE", &config)
        .env_remove("DATABRICKS_CONFIG_PROFILE")
        .env("HOME", home)
        .env("TERM", "xterm")
        .env_remove("RUST_BACKTRACE");
    cmd
}

/// Run the shell with `script` piped in.
async fn piped(emu: &EmulatorHandle, name: &str, args: &[&str], script: &str) -> Output {
    let home = temp_dir(name);
    let mut cmd = shell_command(emu, None, &home);
    cmd.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let script = script.to_string();
    tokio::task::spawn_blocking(move || {
        let mut child = cmd.spawn().expect("the shell starts");
        if let Some(mut stdin) = child.stdin.take() {
            stdin.write_all(script.as_bytes()).expect("script written");
        }
        child.wait_with_output().expect("the shell ends")
    })
    .await
    .expect("joins")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn piped_statements_run_in_order_over_several_lines() {
    let emu = emulator().await;
    let job = emu.notable().job_ids[0];
    let script = format!(
        "-- a script\nSELECT count(*) AS n\n  FROM databricks_workspace.jobs.job_runs\n  \
         WHERE job_id = {job};\n\\format csv\nSELECT 'a;b' AS s, 2 AS two; SELECT 3 AS three\n"
    );
    let out = piped(&emu, "ok", &["--format", "json"], &script).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 5, "{stdout}");
    let first: serde_json::Value = serde_json::from_str(lines[0]).expect("JSON");
    let n = first[0]["n"].as_i64().expect("a count");
    assert!(n > 0, "{stdout}");
    assert_eq!(&lines[1..], ["s,two", "a;b,2", "three", "3"]);
    // The time of each statement, on stderr.
    assert_eq!(stderr.matches(" in ").count(), 3, "{stderr}");
    assert!(stderr.contains("1 row in "), "{stderr}");
    let requests = emu.requests();
    assert!(!requests.is_empty());
    assert_eq!(to(&requests, "/runs/list").len(), requests.len());
    assert!(requests
        .iter()
        .all(|r| r.param("job_id") == Some(job.to_string().as_str())));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn short_table_names_resolve_in_the_shell() {
    let emu = emulator().await;
    let job = emu.notable().job_ids[0];
    let script = format!(
        "SELECT count(*) AS n FROM job_runs WHERE job_id = {job};\n\
         SELECT count(*) AS n FROM jobs.job_runs WHERE job_id = {job};\n\
         SELECT count(*) AS n FROM databricks_workspace.jobs.job_runs WHERE job_id = {job};\n"
    );
    let out = piped(&emu, "short", &["--format", "csv", "--quiet"], &script).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let counts: Vec<&str> = stdout.lines().filter(|l| *l != "n").collect();
    assert_eq!(counts.len(), 3, "{stdout}");
    assert!(
        counts.iter().all(|c| c == &counts[0]) && counts[0] != "0",
        "{stdout}"
    );
    let requests = emu.requests();
    assert_eq!(to(&requests, "/runs/list").len(), requests.len());
    assert!(requests
        .iter()
        .all(|r| r.param("job_id") == Some(job.to_string().as_str())));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_piped_statement_stops_the_script_with_an_error() {
    let emu = emulator().await;
    let script = "SELECT 1 AS one;\n\
                  SELECT * FROM databricks_workspace.cleanrooms.task_runs;\n\
                  SELECT count(*) FROM databricks_workspace.jobs.job_runs;\n";
    let out = piped(&emu, "err", &["--quiet"], script).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(stdout.contains("| one |"), "{stdout}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(stderr.contains("clean_room_name"), "{stderr}");
    assert!(!stderr.contains(emu.token()), "{stderr}");
    // The statement after the failure never ran.
    assert!(emu.requests().is_empty(), "{:?}", emu.requests());
}

/// A workspace that accepts a request and never answers: reports the request line when one
/// arrives, then whether the client closed the connection (it gave up on the request).
fn hung_workspace() -> (String, mpsc::Receiver<String>, mpsc::Receiver<bool>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("binds");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let (arrived_tx, arrived) = mpsc::channel();
    let (closed_tx, closed) = mpsc::channel();
    std::thread::spawn(move || {
        let Ok((mut socket, _)) = listener.accept() else {
            return;
        };
        let mut head = Vec::new();
        let mut buf = [0u8; 4096];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            match socket.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
        }
        let text = String::from_utf8_lossy(&head);
        let _ = arrived_tx.send(text.lines().next().unwrap_or_default().to_string());
        // Never answer; wait for the client to hang up.
        let closed = loop {
            match socket.read(&mut buf) {
                Ok(0) => break true,
                Ok(_) => continue,
                Err(_) => break false,
            }
        };
        let _ = closed_tx.send(closed);
    });
    (url, arrived, closed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_terminal_ctrl_c_cancels_the_running_query_and_the_shell_goes_on() {
    let emu = emulator().await;
    let (hung_url, arrived, closed) = hung_workspace();
    let home = temp_dir("pty");
    let cmd = shell_command(&emu, Some(&hung_url), &home);
    let wait = Duration::from_secs(30);
    let result = tokio::task::spawn_blocking(move || -> Result<(String, bool), String> {
        let fail = |e: rexpect::error::Error| e.to_string();
        let mut p = rexpect::spawn_with_options(
            cmd,
            rexpect::reader::Options::new()
                .timeout_ms(Some(30_000))
                .strip_ansi_escape_codes(true),
        )
        .map_err(fail)?;
        p.exp_string("jobsql> ").map_err(fail)?;
        // A statement over two lines, a column name completed with Tab.
        p.send_line("SELECT count(*) AS active").map_err(fail)?;
        p.send("FROM databricks_workspace.jobs.job_runs WHERE active_on")
            .map_err(fail)?;
        p.send("\t").map_err(fail)?;
        p.send_line(" = true;").map_err(fail)?;
        p.exp_string("| active |").map_err(fail)?;
        p.exp_string("1 row in ").map_err(fail)?;
        p.exp_string("jobsql> ").map_err(fail)?;
        // A query waiting on a workspace that never answers: Ctrl-C once its request is there.
        p.send_line(
            "SELECT count(*) AS never FROM databricks_workspace.jobs.job_runs \
             WHERE deployment_name = 'slow';",
        )
        .map_err(fail)?;
        let request = arrived
            .recv_timeout(wait)
            .map_err(|_| "no request reached the slow workspace".to_string())?;
        p.send_control('c').map_err(fail)?;
        p.exp_string("cancelled").map_err(fail)?;
        p.exp_string("jobsql> ").map_err(fail)?;
        // The cancelled query's request was dropped: the connection is closed.
        let hung_up = closed.recv_timeout(wait).unwrap_or(false);
        // The shell still works; Ctrl-C at the prompt only clears the line.
        p.send("SELECT 'half a line").map_err(fail)?;
        p.send_control('c').map_err(fail)?;
        p.exp_string("jobsql> ").map_err(fail)?;
        p.send_line("SELECT 40 + 2 AS answer;").map_err(fail)?;
        p.exp_string("| 42     |").map_err(fail)?;
        p.exp_string("jobsql> ").map_err(fail)?;
        p.send_control('d').map_err(fail)?;
        p.exp_eof().map_err(fail)?;
        Ok((request, hung_up))
    })
    .await
    .expect("joins");
    let (request, hung_up) = result.unwrap_or_else(|e| panic!("shell session: {e}"));
    assert!(
        request.starts_with("GET /api/2.2/jobs/runs/list"),
        "{request}"
    );
    assert!(hung_up, "the cancelled request's connection was closed");
    // The first query reached the emulator with its pushdown.
    let requests = emu.requests();
    assert!(requests
        .iter()
        .any(|r| r.path.ends_with("/runs/list") && r.param("active_only") == Some("true")));
    // The history was saved.
    let history = std::fs::read_to_string(home.join(".jobsql_history")).expect("history");
    assert!(history.contains("SELECT 40 + 2 AS answer;"), "{history}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_terminal_a_long_scan_shows_the_progress_line_per_statement() {
    // 300 runs at 25 a page, one request at a time, 150 ms each: a scan of about 2 s.
    let emu = super::common::emulator_with_latency(Duration::from_millis(150)).await;
    let home = temp_dir("progress");
    let mut cmd = shell_command(&emu, None, &home);
    cmd.args(["--max-concurrency", "1"]);
    let result = tokio::task::spawn_blocking(move || -> Result<[String; 3], String> {
        let fail = |e: rexpect::error::Error| e.to_string();
        let mut p = rexpect::spawn_with_options(
            cmd,
            rexpect::reader::Options::new()
                .timeout_ms(Some(60_000))
                .strip_ansi_escape_codes(true),
        )
        .map_err(fail)?;
        p.exp_string("jobsql> ").map_err(fail)?;
        let scan = "SELECT count(*) AS n FROM databricks_workspace.jobs.job_runs;";
        let line = r"[\d,]+ rows, [\d,]+ pages, [\d,]+ rows/s";
        p.send_line(scan).map_err(fail)?;
        // The line appears while the scan runs, before its result.
        let (_, first) = p.exp_regex(line).map_err(fail)?;
        p.exp_string("| n   |").map_err(fail)?;
        p.exp_string("jobsql> ").map_err(fail)?;
        // A quick statement draws no line.
        p.send_line("SELECT 1 AS one;").map_err(fail)?;
        let quick = p.exp_string("jobsql> ").map_err(fail)?;
        // The next long one counts from zero again.
        p.send_line(scan).map_err(fail)?;
        let (_, second) = p.exp_regex(line).map_err(fail)?;
        p.exp_string("jobsql> ").map_err(fail)?;
        p.send_control('d').map_err(fail)?;
        p.exp_eof().map_err(fail)?;
        Ok([first, quick, second])
    })
    .await
    .expect("joins");
    let [first, quick, second] = result.unwrap_or_else(|e| panic!("shell session: {e}"));
    let rows = |line: &str| -> u64 {
        let n = line
            .split(" rows")
            .next()
            .unwrap_or_default()
            .replace(',', "");
        n.trim()
            .parse()
            .unwrap_or_else(|_| panic!("a row count in {line:?}"))
    };
    assert!(rows(&first) <= 300, "{first}");
    assert!(
        quick.contains("| one |") && !quick.contains(" pages, "),
        "{quick}"
    );
    // Counts from the second statement alone: never past the 300 runs of the history.
    assert!(rows(&second) <= 300, "{second}");
}
