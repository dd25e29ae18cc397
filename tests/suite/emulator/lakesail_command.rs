//! `jobsql emulator lakesail`: its arguments map to the configuration, and as a process it
//! prints the base URL, the token and the `export` line, then serves them.

use std::time::Duration;

use jobsql_emulator::lakesail::LakeSailConfig;
use serde_json::Value;

#[test]
fn jobsql_emulator_lakesail_prints_its_url_token_and_exports_and_serves() {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_jobsql"))
        .args([
            "emulator",
            "lakesail",
            "--addr",
            "127.0.0.1:0",
            "--seed",
            "3",
            "--runs",
            "40",
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("jobsql emulator lakesail starts");
    let stdout = child.stdout.take().expect("stdout");
    let lines: Vec<String> = std::io::BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .take_while(|l| !l.starts_with("Serving until"))
        .collect();
    let text = lines.join("\n");
    let base = lines
        .iter()
        .find_map(|l| l.trim().strip_prefix("base URL:"))
        .map(|u| u.trim().to_string())
        .unwrap_or_else(|| panic!("a base URL: {text}"));
    assert!(
        base.starts_with("http://127.0.0.1:") && base.ends_with("/api/v1"),
        "{text}"
    );
    assert!(text.contains("40 runs across 6 jobs (seed 3)"), "{text}");
    assert!(text.contains("token:    dev-ls-token-4e9a"), "{text}");
    assert!(
        text.contains(&format!(
            "export LAKESAIL_API_URL={base} LAKESAIL_TOKEN=dev-ls-token-4e9a"
        )),
        "{text}"
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let page: Value = runtime.block_on(async {
        reqwest::Client::new()
            .get(format!("{base}/me/jobs/runs"))
            .bearer_auth("dev-ls-token-4e9a")
            .send()
            .await
            .expect("request")
            .json()
            .await
            .expect("json")
    });
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(page["items"].as_array().map(Vec::len), Some(40), "{page}");
    assert!(page.get("marker").is_none());
}

#[derive(clap::Parser)]
struct Cli {
    #[command(flatten)]
    args: jobsql_emulator::lakesail::LakeSailArgs,
}

#[test]
fn lakesail_command_arguments_map_to_the_config() {
    use clap::Parser;
    let d = Cli::parse_from(["lakesail"]).args;
    assert_eq!(d.addr.to_string(), "127.0.0.1:8081");
    let (c, def) = (d.config(), LakeSailConfig::default());
    assert!(
        c.clock.is_none() && c.auto_dispatch.is_none(),
        "wall clock, no auto-dispatch"
    );
    assert_eq!(
        (c.token, c.seed, c.jobs, c.runs, c.phase, c.record_limit),
        (def.token, def.seed, def.jobs, def.runs, def.phase, 0)
    );
    let a = Cli::parse_from([
        "lakesail",
        "--token",
        "t",
        "--seed",
        "7",
        "--jobs",
        "2",
        "--runs",
        "9",
        "--latency-ms",
        "5",
        "--fault-rate",
        "0.5",
        "--phase-ms",
        "10",
        "--dispatch-ms",
        "300",
        "--fault-after-commit",
        "runs:2",
        "--drop-after-commit",
        "retry",
    ])
    .args;
    assert!(
        !format!("{a:?}").contains("\"t\""),
        "Debug masks the token: {a:?}"
    );
    let c = a.config();
    assert_eq!((c.token.as_str(), c.seed, c.jobs, c.runs), ("t", 7, 2, 9));
    assert_eq!(
        (c.latency, c.fault_rate, c.phase),
        (Duration::from_millis(5), 0.5, Duration::from_millis(10))
    );
    assert_eq!(c.auto_dispatch, Some(Duration::from_millis(300)));
    let faults: Vec<(String, u32, bool)> = c
        .after_commit_faults
        .iter()
        .map(|f| {
            (
                f.path_suffix.clone(),
                f.times,
                f.mode == jobsql_emulator::LostResponse::Dropped,
            )
        })
        .collect();
    assert_eq!(
        faults,
        [
            ("runs".to_string(), 2, false),
            ("retry".to_string(), 1, true)
        ]
    );
}
