//! Real clients driven from tests: Python scripts (psycopg, SQLAlchemy, pgcli, the MCP client,
//! deltalake — the packages `.ci/python-requirements.txt` lists, which `.ci/run` installs) and
//! the `psql` binary (Debian's `postgresql-client`, which `.ci/run` installs when missing).
//!
//! A missing client is a failure that says how to install it, never a skipped test.

use std::io::Write;
use std::process::{Command, Output, Stdio};

/// The Python interpreter: `$JOBSQL_TEST_PYTHON`, else `python3`.
pub fn python_bin() -> String {
    std::env::var("JOBSQL_TEST_PYTHON").unwrap_or_else(|_| "python3".to_string())
}

/// Runs `script` (Python source, fed on stdin) with `args` as `sys.argv[1..]`; panics with a
/// hint when the interpreter or one of `modules` cannot be imported.
pub fn python(modules: &[&str], script: &str, args: &[&str]) -> Output {
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
    child.wait_with_output().expect("python3 ends")
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
        "Python modules {modules:?} missing: run `python3 -m pip install -r .ci/python-requirements.txt`\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `psql` with `args`, no `~/.psqlrc`, and `PGPASSWORD` when given; panics with a hint when
/// psql is not installed.
#[allow(dead_code)] // until the Postgres server's psql tests land (issue 17, other parts)
pub fn psql(args: &[&str], password: Option<&str>) -> Output {
    let mut command = Command::new("psql");
    command.arg("--no-psqlrc").args(args);
    if let Some(password) = password {
        command.env("PGPASSWORD", password);
    }
    command
        .output()
        .unwrap_or_else(|e| panic!("psql not found ({e}): install Debian's postgresql-client"))
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
