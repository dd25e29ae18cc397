//! Hostile input, generated: SQL text (EXEC included) through the parser and through a session
//! on the emulator, mutated YAML through the spec loader, and arbitrary or mutated JSON pages
//! served to a table. Every case must end in `Ok` or `Err` — no panic, no hang.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use datafusion::prelude::SessionContext;
use jobsql_core::session::{run_sql, user_message};
use jobsql_core::spec::load_sources;
use jobsql_core::sql::parse_script;
use jobsql_emulator::{EmulatorConfig, EmulatorHandle};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::Value;

use super::common::*;

fn runner(cases: u32) -> TestRunner {
    TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    })
}

/// Pieces of SQL the front end must cope with in any order.
const SQL_PIECES: &[&str] = &[
    "SELECT",
    "*",
    "count(*)",
    "FROM",
    "databricks_workspace.jobs.job_runs",
    "databricks_workspace.cleanrooms.task_runs",
    "databricks_workspace.jobs.jobs",
    "WHERE",
    "run_id",
    "job_id",
    "start_time",
    "deployment_name",
    "clean_room_name",
    "state['result_state']",
    "=",
    "<",
    ">=",
    "IN",
    "(",
    ")",
    ",",
    "AND",
    "OR",
    "NOT",
    "LIMIT",
    "ORDER BY",
    "'x'",
    "'",
    "\"",
    "''",
    "'emu'",
    "'../x?y#z'",
    "1",
    "-1",
    "0",
    "1.5",
    "99999999999999999999999",
    "NULL",
    "TRUE",
    "now()",
    "INTERVAL '1 day'",
    "EXEC",
    "databricks_workspace.jobs.job_runs.cancel",
    "databricks_workspace.jobs.job_runs.export",
    "databricks_workspace.jobs.job_runs.nope",
    "@",
    "@run_id",
    "@@json",
    "@deployment_name",
    "'{\"run_id\": 1}'",
    "'{\"run_id\":'",
    "'[]'",
    "INSERT INTO",
    "(data__run_name)",
    "(data__tasks)",
    "VALUES",
    "RETURNING",
    "DELETE FROM",
    "--",
    "/*",
    "*/",
    ";",
    "\n",
    "é",
    "\u{0}",
    "\\",
    "$1",
    "::",
    "CAST(",
    "AS BIGINT",
];

fn sql_text() -> impl Strategy<Value = String> {
    prop_oneof![
        1 => any::<String>(),
        4 => prop::collection::vec(prop::sample::select(SQL_PIECES), 0..24).prop_map(|p| p.join(" ")),
        2 => prop::collection::vec(prop::sample::select(SQL_PIECES), 0..24).prop_map(|p| p.concat()),
    ]
}

#[test]
fn the_sql_front_end_never_panics() {
    runner(2_000)
        .run(&sql_text(), |sql| {
            let _ = parse_script(&sql);
            Ok(())
        })
        .expect("no panic");
}

/// Run `sql` with a time limit: an error is fine, a panic or a hang is not.
fn outcome(
    rt: &tokio::runtime::Runtime,
    ctx: &SessionContext,
    sql: &str,
) -> Result<(), TestCaseError> {
    let result = rt
        .block_on(async { tokio::time::timeout(Duration::from_secs(30), run_sql(ctx, sql)).await });
    match result {
        Err(_) => Err(TestCaseError::fail(format!("hangs: {sql}"))),
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => {
            let message = user_message(&e);
            prop_assert!(!message.contains("panicked"), "{}: {}", sql, message);
            prop_assert!(!message.contains(TOKEN), "{}: {}", sql, message);
            Ok(())
        }
    }
}

#[test]
fn statements_run_against_the_emulator_never_panic() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let (_emu, ctx): (EmulatorHandle, SessionContext) = rt.block_on(async {
        let emu = emulator(EmulatorConfig {
            token: TOKEN.to_string(),
            runs: 30,
            jobs: 3,
            phase: Duration::from_millis(10),
            ..EmulatorConfig::default()
        })
        .await;
        let ctx = session(runtime(fast(2), &[workspace("emu", &emu.base_url())]));
        (emu, ctx)
    });
    runner(96)
        .run(&sql_text(), |sql| outcome(&rt, &ctx, &sql))
        .expect("no panic");
}

/// The built-in spec files, as text.
fn spec_files() -> Vec<(String, String)> {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("provider-spec/databricks_workspace");
    ["jobs.yaml", "cleanrooms.yaml"]
        .iter()
        .map(|f| {
            let text = std::fs::read_to_string(dir.join(f)).expect("spec file");
            (f.to_string(), text)
        })
        .collect()
}

/// One edit of a text: (kind, position, replacement index).
type Edit = (u8, usize, usize);

const YAML_TOKENS: &[&str] = &[
    "",
    "null",
    "[]",
    "{}",
    "-1",
    "99999999999999999999",
    "~",
    "'",
    "\"",
    "{{",
    "&a x",
    "*a",
    "!!binary x",
    ": :",
    "- ",
    "\t",
    "path: \"../{x}\"",
    "{ column: nope, ops: [eq] }",
    "ops: [range]",
    "type: nosuchtype",
    "in: nowhere",
    "ref: Missing",
    "select: [nope]",
];

fn mutate(text: &str, edits: &[Edit]) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    for &(kind, at, pick) in edits {
        if lines.is_empty() {
            break;
        }
        let i = at % lines.len();
        let token = YAML_TOKENS[pick % YAML_TOKENS.len()];
        match kind % 6 {
            0 => {
                lines.remove(i);
            }
            1 => {
                let l = lines[i].clone();
                lines.insert(i, l);
            }
            2 => {
                let j = pick % lines.len();
                lines.swap(i, j)
            }
            3 => lines[i] = format!("{}{}", " ".repeat(pick % 7), lines[i].trim_start()),
            4 => {
                // Replace the value after the first ':'.
                if let Some(colon) = lines[i].find(':') {
                    let key = lines[i][..=colon].to_string();
                    lines[i] = format!("{key} {token}");
                }
            }
            _ => lines.insert(i, token.to_string()),
        }
    }
    let mut out = lines.join("\n");
    if let Some(&(_, at, pick)) = edits.first() {
        if pick % 5 == 0 && !out.is_empty() {
            let mut cut = at % out.len();
            while !out.is_char_boundary(cut) {
                cut -= 1;
            }
            out.truncate(cut);
        }
    }
    out
}

#[test]
fn the_spec_loader_never_panics_on_mutated_yaml() {
    let files = spec_files();
    let edits = prop::collection::vec((any::<u8>(), any::<usize>(), any::<usize>()), 1..8);
    runner(600)
        .run(
            &(0..files.len(), edits, any::<bool>()),
            |(f, edits, both)| {
                let (name, text) = &files[f];
                let mut sources = vec![(name.clone(), mutate(text, &edits))];
                if both {
                    sources.push(files[(f + 1) % files.len()].clone());
                }
                let _ = load_sources(sources);
                Ok(())
            },
        )
        .expect("no panic");
    runner(300)
        .run(&any::<String>(), |text| {
            let _ = load_sources([("x.yaml".to_string(), text)]);
            Ok(())
        })
        .expect("no panic");
}

/// Field names a page can hold, so generated objects hit the decoder's real paths.
const KEYS: &[&str] = &[
    "runs",
    "run_id",
    "job_id",
    "state",
    "life_cycle_state",
    "result_state",
    "tasks",
    "task_key",
    "start_time",
    "end_time",
    "next_page_token",
    "has_more",
    "run_name",
    "cluster_instance",
    "job_clusters",
    "repair_history",
    "job_parameters",
    "iterations",
    "schedule",
    "status",
    "run_duration",
    "cluster_spec",
    "trigger_info",
    "x",
];

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        prop_oneof![
            any::<String>(),
            prop::sample::select(KEYS).prop_map(str::to_string)
        ]
        .prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..8).prop_map(|kv| {
                Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
            }),
        ]
    })
}

/// A page body: arbitrary JSON, arbitrary runs, or a real page with its bytes mutated.
fn page(real: String) -> impl Strategy<Value = Vec<u8>> {
    let mutated = prop::collection::vec((any::<u8>(), any::<usize>(), any::<u8>()), 1..6).prop_map(
        move |edits| {
            let mut bytes = real.clone().into_bytes();
            for (kind, at, b) in edits {
                if bytes.is_empty() {
                    break;
                }
                let i = at % bytes.len();
                match kind % 4 {
                    0 => bytes.truncate(i),
                    1 => {
                        bytes.remove(i);
                    }
                    2 => bytes[i] = b,
                    _ => bytes
                        .splice(i..i, b"\"x\":null,".iter().copied())
                        .for_each(drop),
                }
            }
            bytes
        },
    );
    prop_oneof![
        json_value().prop_map(|v| v.to_string().into_bytes()),
        prop::collection::vec(json_value(), 0..5).prop_map(|runs| {
            serde_json::json!({ "runs": runs, "has_more": true })
                .to_string()
                .into_bytes()
        }),
        mutated,
    ]
}

#[test]
fn the_response_decoder_never_panics_on_hostile_pages() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let body = Arc::new(Mutex::new(Vec::<u8>::new()));
    let served = body.clone();
    let (ctx, real) = rt.block_on(async move {
        let emu = emulator(EmulatorConfig {
            runs: 30,
            jobs: 3,
            ..EmulatorConfig::default()
        })
        .await;
        let real: String = reqwest::Client::new()
            .get(format!(
                "{}{LIST}?limit=3&expand_tasks=true",
                emu.base_url()
            ))
            .bearer_auth(emu.token())
            .send()
            .await
            .expect("listed")
            .text()
            .await
            .expect("text");
        let stub = Stub::start(move |seen, _| {
            if seen.uri.contains("page_token=") {
                Reply::json(200, r#"{"runs":[]}"#)
            } else {
                Reply::json(200, served.lock().expect("lock").clone())
            }
        })
        .await;
        let ctx = session(runtime(fast(1), &[stub.workspace("w")]));
        (ctx, real)
    });
    let queries = [
        format!("SELECT * FROM {RUNS}"),
        format!("SELECT count(*) FROM {RUNS}"),
        format!("SELECT run_id, tasks, job_clusters FROM {RUNS} LIMIT 2"),
        format!("SELECT run_id FROM {RUNS} WHERE run_id = 5"),
    ];
    runner(200)
        .run(&(page(real), 0..queries.len()), |(page, q)| {
            *body.lock().expect("lock") = page;
            outcome(&rt, &ctx, &queries[q])
        })
        .expect("no panic");
}
