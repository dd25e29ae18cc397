//! Real clients driven from tests: Python scripts (psycopg, SQLAlchemy, pgcli, the MCP client,
//! deltalake — the packages `.ci/python-requirements.txt` lists, which `.ci/test` installs into
//! `.venv`) and the `psql` binary (Debian's `postgresql-client`, which `.ci/test` installs when
//! missing).
//!
//! A missing client is a failure that says how to install it, never a skipped test.

use std::io::Write;
use std::process::{Child, Command, Output, Stdio};

/// The Python interpreter: `$JOBSQL_TEST_PYTHON`, else the project's `.venv` (made by
/// `.ci/test`) when it is there, else `python3`.
pub fn python_bin() -> String {
    if let Ok(python) = std::env::var("JOBSQL_TEST_PYTHON") {
        return python;
    }
    let venv = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python");
    if venv.exists() {
        return venv.display().to_string();
    }
    "python3".to_string()
}

/// Runs `script` (Python source, fed on stdin) with `args` as `sys.argv[1..]`; panics with a
/// hint when the interpreter or one of `modules` cannot be imported.
pub fn python(modules: &[&str], script: &str, args: &[&str]) -> Output {
    python_spawn(modules, script, args)
        .wait_with_output()
        .expect("python3 ends")
}

/// [`python`], still running: its stdout and stderr piped (for a test that signals it).
pub fn python_spawn(modules: &[&str], script: &str, args: &[&str]) -> Child {
    require_python(modules);
    let mut child = Command::new(python_bin())
        .arg("-")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(script.as_bytes())
        .expect("script written");
    child
}

/// Panics, naming the install command, unless every module of `modules` imports.
pub fn require_python(modules: &[&str]) {
    let imports: String = modules.iter().map(|m| format!("import {m}\n")).collect();
    let out = Command::new(python_bin())
        .args(["-c", &imports])
        .output()
        .unwrap_or_else(|e| panic!("{} not found ({e}): install Python 3", python_bin()));
    assert!(
        out.status.success(),
        "Python modules {modules:?} missing from {}: run `.ci/test --install-only` (or `python3 -m pip install -r .ci/python-requirements.txt`)\n{}",
        python_bin(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `psql` with `args`, no `~/.psqlrc`, and `PGPASSWORD` when given; panics with a hint when
/// psql is not installed.
pub fn psql(args: &[&str], password: Option<&str>) -> Output {
    psql_command(args, password)
        .output()
        .unwrap_or_else(|e| panic!("psql not found ({e}): install Debian's postgresql-client"))
}

/// [`psql`], started with its output piped (for a test that signals it).
pub fn psql_spawn(args: &[&str], password: Option<&str>) -> Child {
    psql_command(args, password)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("psql not found ({e}): install Debian's postgresql-client"))
}

fn psql_command(args: &[&str], password: Option<&str>) -> Command {
    let mut command = Command::new("psql");
    command.arg("--no-psqlrc").args(args);
    if let Some(password) = password {
        command.env("PGPASSWORD", password);
    }
    command
}

/// stdout of a finished client, or a panic showing both streams.
pub fn stdout_of(out: &Output) -> String {
    assert!(
        out.status.success(),
        "client failed ({}):\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The official Python MCP client: `argv[1]` names a file holding `{"server": {"command", "args", "env"} | {"url"}, "calls":
/// [[tool, arguments], ...]}`; prints `{"tools": [...], "results": [{"is_error", "text",
/// "structured"}, ...]}` as one JSON line.
const MCP_CLIENT: &str = r#"
import asyncio, json, sys
from mcp import Client, StdioServerParameters

async def main():
    plan = json.load(open(sys.argv[1]))
    server = plan["server"]
    target = server["url"] if "url" in server else StdioServerParameters(
        command=server["command"], args=server["args"], env=server["env"])
    async with Client(target) as client:
        listed = await client.list_tools()
        tools = [{"name": t.name, "description": t.description,
                  "input_schema": t.input_schema,
                  "read_only": t.annotations.read_only_hint if t.annotations else None}
                 for t in listed.tools]
        results = []
        for name, arguments in plan["calls"]:
            r = await client.call_tool(name, arguments)
            results.append({"is_error": r.is_error,
                            "text": "".join(c.text for c in r.content if c.type == "text"),
                            "structured": r.structured_content})
    print(json.dumps({"tools": tools, "results": results}))

asyncio.run(main())
"#;

/// The official MCP client run against `server` (`{"command", "args", "env"}` for stdio, or
/// `{"url"}`) with `calls` (`[[tool, arguments], ...]`); its answer, `{"tools", "results"}`.
/// The plan goes through a file: a call may be longer than an argument may be.
pub fn mcp_client(server: serde_json::Value, calls: serde_json::Value) -> serde_json::Value {
    let dir = tempfile::tempdir().expect("temp dir");
    let plan = dir.path().join("plan.json");
    let text = serde_json::json!({"server": server, "calls": calls}).to_string();
    std::fs::write(&plan, text).expect("plan written");
    let out = python(&["mcp"], MCP_CLIENT, &[plan.to_str().expect("utf-8 path")]);
    let stdout = stdout_of(&out);
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| {
        panic!(
            "client output ({e}): {stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}
