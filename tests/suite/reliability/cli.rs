//! The `jobsql` binary under faults: the token in no stdout / stderr across successes, errors,
//! dry runs and `--verbose`; Ctrl-C ends a query stuck on a silent server with exit code 130;
//! bad reliability flags are usage errors; a config file others can read earns a warning.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use jobsql_emulator::EmulatorConfig;

use super::common::*;

/// Environment variables for one run.
type Env<'a> = [(&'a str, &'a str)];

fn temp_file(name: &str, contents: &str, mode: u32) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("jobsql-rel-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, contents).expect("write");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    path
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_appears_nowhere_in_output_errors_dry_runs_or_logs() {
    let emu = emulator(EmulatorConfig {
        token: TOKEN.to_string(),
        runs: 40,
        jobs: 3,
        ..EmulatorConfig::default()
    })
    .await;
    let other = emulator(EmulatorConfig {
        token: "a-different-token".to_string(),
        runs: 5,
        ..EmulatorConfig::default()
    })
    .await;
    let page: serde_json::Value = reqwest::Client::new()
        .get(format!(
            "{}{LIST}?limit=1&completed_only=true",
            emu.base_url()
        ))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("listed")
        .json()
        .await
        .expect("json");
    let run = page["runs"][0]["run_id"].as_i64().expect("a run");
    let base = emu.base_url();
    let host_env = [
        ("DATABRICKS_HOST", base.as_str()),
        ("DATABRICKS_TOKEN", TOKEN),
    ];
    let rejected = [
        ("DATABRICKS_HOST", &*other.base_url()),
        ("DATABRICKS_TOKEN", TOKEN),
    ];
    let unreachable = closed_port();
    let gone = [
        ("DATABRICKS_HOST", unreachable.as_str()),
        ("DATABRICKS_TOKEN", TOKEN),
    ];
    let config = temp_file(
        "profiles.cfg",
        &format!("[DEFAULT]\nhost = {base}\ntoken = {TOKEN}\n\n[bad]\nhost = http://example.com\ntoken = {TOKEN}\n"),
        0o600,
    );
    let profile = [("DATABRICKS_CONFIG_FILE", path_str(&config))];
    let select = format!("SELECT run_id, state FROM {RUNS} WHERE run_id = {run}");
    let delete = format!("DELETE FROM {RUNS} WHERE run_id = {run}");
    let insert = format!("INSERT INTO {RUNS} (data__run_name, data__tasks) VALUES ('x', '[{{\"task_key\": \"t\", \"notebook_task\": {{\"notebook_path\": \"/n\"}}}}]')");
    let bad_profile = format!("SELECT * FROM {RUNS} WHERE deployment_name = 'bad'");
    let cancel = "EXEC databricks_workspace.jobs.job_runs.cancel @run_id = 987654321";
    let cases: Vec<(Vec<&str>, &Env, bool)> = vec![
        (vec!["query", "-v", &select], &host_env, true),
        (
            vec!["query", "-v", "--format", "json", &select],
            &profile,
            true,
        ),
        (vec!["query", "-v", "--dry-run", &delete], &host_env, true),
        (vec!["query", "-v", "--dry-run", &insert], &host_env, true),
        (vec!["query", "-v", cancel], &host_env, false),
        (vec!["query", "-v", &select], &rejected, false),
        (
            vec!["query", "-v", "--retry-budget-secs", "0", &select],
            &gone,
            false,
        ),
        (vec!["query", "-v", &bad_profile], &profile, false),
        (
            vec!["query", "-v", "SELECT nonsense FROM nowhere"],
            &host_env,
            false,
        ),
    ];
    for (args, env, ok) in cases {
        let o = jobsql_env(&args, env);
        let (out, err) = (text(&o.stdout), text(&o.stderr));
        assert_eq!(
            o.status.success(),
            ok,
            "{args:?}\nstdout: {out}\nstderr: {err}"
        );
        assert!(
            !out.contains(TOKEN) && !err.contains(TOKEN),
            "{args:?} shows the token\nstdout: {out}\nstderr: {err}"
        );
        if args[3..].iter().any(|a| a.contains(RUNS)) && !args.contains(&"--dry-run") {
            assert!(
                err.contains("jobsql: GET "),
                "{args:?}: verbose lines: {err}"
            );
        }
        if args.contains(&"--dry-run") {
            assert!(
                out.contains("DRY RUN (not sent): POST ") && out.contains("Bearer ****"),
                "{out}"
            );
        }
        if !ok {
            assert!(err.contains("error: "), "{args:?}: {err}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_abandons_requests_in_flight_and_exits_130() {
    let silent = RawServer::start(vec![Raw::Silent]).await;
    let mut child = Command::new(env!("CARGO_BIN_EXE_jobsql"))
        .args(["query", &format!("SELECT count(*) FROM {RUNS}")])
        .env("DATABRICKS_HOST", &silent.base)
        .env("DATABRICKS_TOKEN", TOKEN)
        .env("DATABRICKS_CONFIG_FILE", "/nonexistent/databrickscfg")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawns");
    // The request is in flight (the server read it and will never answer).
    tokio::time::timeout(Duration::from_secs(60), silent.arrived())
        .await
        .expect("the query reached the server");
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    // A guard, not a measurement: without Ctrl-C handling the query would wait a minute.
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().expect("wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("jobsql did not stop on SIGINT");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let o = child.wait_with_output().expect("output");
    assert_eq!(o.status.code(), Some(130), "{}", text(&o.stderr));
    assert_eq!(text(&o.stderr), "interrupted\n");
    assert_eq!(text(&o.stdout), "");
    assert_eq!(silent.requests(), 1);
}

#[test]
fn bad_reliability_flags_are_usage_errors() {
    for (flag, value, says) in [
        (
            "--retry-budget-secs",
            "-1",
            "must be between 0 and 86400 seconds",
        ),
        ("--retry-budget-secs", "soon", "is not a number of seconds"),
        (
            "--request-timeout-secs",
            "0",
            "a timeout must be more than 0 seconds",
        ),
        (
            "--connect-timeout-secs",
            "NaN",
            "must be between 0 and 86400 seconds",
        ),
        ("--max-concurrency", "0", "0 is not in 1..=256"),
        ("--timeout", "0", "a timeout must be more than 0 seconds"),
        ("--timeout", "later", "is not a number of seconds"),
        ("--max-pages", "0", "0 is not in 1.."),
    ] {
        let o = jobsql_env(
            &["query", "--demo", &format!("{flag}={value}"), "SELECT 1"],
            &[],
        );
        assert_eq!(o.status.code(), Some(2), "{flag} {value}");
        assert!(
            text(&o.stderr).contains(says),
            "{flag} {value}: {}",
            text(&o.stderr)
        );
    }
    let o = jobsql_env(
        &[
            "query",
            "--demo",
            "--keep-going",
            "--retry-budget-secs",
            "1.5",
            "--request-timeout-secs",
            "5",
            "--max-concurrency",
            "2",
            "--timeout",
            "30",
            "--max-pages",
            "1000",
            "SELECT 1 AS one",
        ],
        &[("JOBSQL_CONNECT_TIMEOUT_SECS", "3")],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
}

#[test]
fn a_config_file_others_can_read_earns_a_warning() {
    let contents = format!("[DEFAULT]\nhost = https://h.example.com\ntoken = {TOKEN}\n");
    let open = temp_file("open.cfg", &contents, 0o644);
    let closed = temp_file("closed.cfg", &contents, 0o600);
    let o = jobsql_env(
        &["query", "SELECT 1"],
        &[("DATABRICKS_CONFIG_FILE", path_str(&open))],
    );
    assert!(o.status.success());
    let p = open.display();
    assert_eq!(
        text(&o.stderr),
        format!("warning: {p} holds tokens but other users can access it (mode 644): run `chmod 600 {p}`\n")
    );
    let o = jobsql_env(
        &["query", "SELECT 1"],
        &[("DATABRICKS_CONFIG_FILE", path_str(&closed))],
    );
    assert!(o.status.success());
    assert_eq!(text(&o.stderr), "");
}

/// A corrupted `_delta_log` read with `RUST_BACKTRACE=1` (set by many developers' shells): the
/// error is one line. delta-rs' kernel captures a backtrace into such an error and prints it as
/// part of its message when the environment asks; the binary asks for none. The control run,
/// with `RUST_LIB_BACKTRACE=1` said explicitly, shows the frames this table makes.
#[test]
fn a_corrupted_delta_log_is_one_line_whatever_rust_backtrace_says() {
    let root = tempfile::tempdir().expect("temp dir");
    let log = root
        .path()
        .join("databricks_workspace/jobs/job_runs/_delta_log");
    std::fs::create_dir_all(&log).expect("log dir");
    std::fs::write(
        log.join("00000000000000000000.json"),
        "{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":2}}\n{not json at all\n",
    )
    .expect("log");
    let history = path_str(root.path()).to_string();
    let run = |extra: &[(&str, &str)]| {
        let mut env = vec![
            ("RUST_BACKTRACE", "1"),
            ("JOBSQL_HISTORY", history.as_str()),
        ];
        env.extend_from_slice(extra);
        jobsql_env(&["query", "SELECT count(*) FROM job_runs_history"], &env)
    };
    let out = run(&[]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("error: ") && err.contains("job_runs"),
        "{err}"
    );
    assert!(
        !err.contains("backtrace") && !err.contains("  0: "),
        "{err}"
    );
    let control = text(&run(&[("RUST_LIB_BACKTRACE", "1")]).stderr);
    assert!(
        control.lines().count() > 5,
        "the table makes a backtrace: {control}"
    );
}
