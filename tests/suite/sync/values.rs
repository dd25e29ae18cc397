//! Hostile values in a history table, fuzzed (proptest): quotes, semicolons, `--`, `/* */`,
//! SQL payloads (`1); DELETE FROM … WHERE …`, `'); INSERT INTO …`, `COPY (…) TO '<file>'`),
//! NUL and other control bytes, backslashes, unicode, `{value}`, `$1`, `%s`, `.`/`..`/empty,
//! now and then a 10 MB string, and non-UTF-8 bytes. Each value is written by Python
//! `deltalake` (+ pyarrow) into copies of three history tables a real first sync made
//! (Databricks job_runs, clean-room task_runs, LakeSail job_runs), in every column the sync reads
//! back for a row still active: the string key columns (LakeSail's job_id and job_run_id), every
//! other text column of that row (top level; nested text fields too, cut to 64 KiB), and the
//! workspace column the sync filters on (a second active row, of another workspace). Both rows
//! sit in the partition of the newest run, which every re-sync lists again, so the rewrite of that
//! partition reads them back whole. Column types are the ones the sync wrote; only the
//! non-UTF-8 value needs a binary column, which the type check must refuse, naming it. A fourth
//! copy of job_runs also has the value as the partition value (`start_date`, a date) of that
//! partition's files in the Delta log: refused before any request, naming the table.
//!
//! The real binary then re-syncs each table against the emulators over HTTP. For each case and
//! table: the process exits with a code (no signal, no panic, a stderr under 4 KiB), its peak
//! RSS (VmHWM, polled) stays under [`RSS_BASE_MB`] plus [`RSS_PER_HOSTILE_BYTE`] times the
//! hostile bytes in the table, and the emulators see only the requests
//! the sync plans: GETs of the listing, and by key a get of the runs that were active, the
//! hostile key only as percent-encoded path segments that decode to exactly its bytes. A key
//! that cannot be sent (`.`, `..`: a segment that would change the path; a URL over the 16 KiB
//! jobsql sends) fails the sync with one line, before that get, committing nothing; an empty
//! key is no path parameter (the listing answers it); everything else syncs, and the hostile
//! rows are still there afterwards, byte for byte (read back by Python). No file appears where
//! a COPY payload points.

use std::collections::BTreeSet;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::{json, Value};

use crate::support::cli::temp_dir;
use crate::support::clients::{python, stdout_of};
use crate::support::process;

mod scripts;
use scripts::{CHECK, PRELUDE, WRITE};

/// Cases drawn from the whole strategy; three more are drawn from its rare arms (a 10 MB
/// string, non-UTF-8 bytes, an empty or dot value) so that each run has one of each.
const CASES: u32 = 12;

/// The size of a huge value.
const HUGE: usize = 10 * 1024 * 1024;

/// Nested text fields (inside structs and lists) get the value cut to this many bytes (at a
/// character boundary): a 10 MB value in each of dozens of nested fields is not a row anyone
/// has, the top-level columns already carry it whole.
const NESTED: usize = 64 * 1024;

/// The peak resident set a sync may reach: this much ...
const RSS_BASE_MB: u64 = 300;

/// ... plus this many times the bytes of hostile text in the table (rows A and B). Measured:
/// a sync with no large value stays well under the base; with 10 MB in each of the 13 text
/// columns of a job_runs row (about 142 MB), the rewrite of its partition peaks near 1.3 GB
/// (Parquet decoding, the merge's row encoding of the whole row, the Parquet writer's buffers).
const RSS_PER_HOSTILE_BYTE: u64 = 10;

/// A stderr longer than this is not "one clear line".
const STDERR_BOUND: usize = 4096;

/// The re-sync's overlap (the binary's default): rows starting before `mark - overlap` and
/// still active are fetched by key.
const OVERLAP_SECS: u64 = 600;

/// A hostile value: text for a string column, or bytes that are not UTF-8 (only a binary
/// column can hold them).
#[derive(Clone, Debug)]
enum Hostile {
    Text(String),
    Bytes(Vec<u8>),
}

impl Hostile {
    fn json(&self) -> Value {
        match self {
            Hostile::Text(s) => json!({ "text": s }),
            Hostile::Bytes(b) => {
                let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
                json!({ "hex": hex })
            }
        }
    }

    /// A short description (length and start, escaped) for messages.
    fn shown(&self) -> String {
        match self {
            Hostile::Text(s) => {
                let head: String = s.chars().take(48).collect();
                format!("text of {} bytes {head:?}", s.len())
            }
            Hostile::Bytes(b) => format!("bytes {:?}", &b[..b.len().min(24)]),
        }
    }
}

/// Where the second COPY payload writes, if anything runs it.
fn copy_tmp() -> PathBuf {
    PathBuf::from(format!("/tmp/jobsql-pwned-{}.csv", std::process::id()))
}

/// Pieces a hostile text is made of.
fn piece(copy_to: &str) -> impl Strategy<Value = String> {
    let fixed: Vec<String> = vec![
        "'".into(),
        "\"".into(),
        "''".into(),
        ";".into(),
        "--".into(),
        "/*".into(),
        "*/".into(),
        "\0".into(),
        "\\".into(),
        "\\'".into(),
        "{value}".into(),
        "{}".into(),
        "$1".into(),
        "%s".into(),
        "%00".into(),
        "%2e%2E".into(),
        "/".into(),
        "?a=1&b=2#f".into(),
        "..".into(),
        "\r\n".into(),
        "é🦀\u{202e}\u{feff}".into(),
        "1); DELETE FROM databricks_workspace.jobs.job_runs WHERE run_id > 0 --".into(),
        "1'); DELETE FROM lakesail.jobs.job_runs WHERE job_id IN ('J1".into(),
        "'); INSERT INTO databricks_workspace.jobs.job_runs (data__run_name) VALUES ('pwned') --"
            .into(),
        "\"); INSERT INTO lakesail.jobs.job_runs (job_id) VALUES (\"J1\"); --".into(),
        format!("'); COPY (SELECT 1) TO '{copy_to}' STORED AS CSV; --"),
        format!("1; COPY (SELECT 'x') TO '{}'", copy_tmp().display()),
        "'; DROP TABLE job_runs; SELECT '".into(),
        "x' OR '1'='1".into(),
    ];
    prop_oneof![
        6 => proptest::sample::select(fixed),
        1 => proptest::collection::vec(any::<char>(), 1..6)
            .prop_map(|c| c.into_iter().collect::<String>()),
        1 => (0u8..0x20).prop_map(|b| char::from(b).to_string()),
    ]
}

/// A hostile text of up to a few hundred bytes.
fn text(copy_to: &str) -> impl Strategy<Value = String> {
    proptest::collection::vec(piece(copy_to), 1..10).prop_map(|p| p.concat())
}

/// A hostile text repeated to at least [`HUGE`] bytes.
fn huge(copy_to: &str) -> impl Strategy<Value = Hostile> {
    text(copy_to).prop_map(|t| {
        let mut s = String::with_capacity(HUGE + t.len());
        while s.len() < HUGE {
            s.push_str(&t);
        }
        Hostile::Text(s)
    })
}

/// Bytes with one that never occurs in UTF-8.
fn bytes() -> impl Strategy<Value = Hostile> {
    (
        proptest::collection::vec(any::<u8>(), 0..16),
        proptest::sample::select(vec![0xffu8, 0xfe, 0xc0, 0xc1, 0xf5]),
        proptest::collection::vec(any::<u8>(), 0..16),
    )
        .prop_map(|(mut a, bad, c)| {
            a.push(bad);
            a.extend(c);
            Hostile::Bytes(a)
        })
}

/// Values no path segment may be.
fn dots() -> impl Strategy<Value = Hostile> {
    proptest::sample::select(vec!["", ".", ".."]).prop_map(|s| Hostile::Text(s.to_string()))
}

/// A hostile value: mostly a text of pieces; now and then 10 MB, bytes, or a dot or empty.
fn hostile(copy_to: &str) -> impl Strategy<Value = Hostile> {
    prop_oneof![
        27 => text(copy_to).prop_map(Hostile::Text),
        1 => huge(copy_to),
        1 => bytes(),
        1 => dots(),
    ]
}

/// One history table the sync keeps, as this test rewrites and re-syncs it.
struct Target {
    /// A short name for messages and directories.
    name: &'static str,
    /// What `--table` names.
    table: &'static str,
    /// The table's directory under a history root.
    dir: &'static str,
    /// The workspace column.
    workspace: &'static str,
    /// The key columns.
    key: &'static [&'static str],
    /// The integer key columns (a hostile row gets fresh numbers there).
    int_key: &'static [&'static str],
    start: &'static str,
    active: &'static str,
    /// The column made binary for a non-UTF-8 value.
    binary: &'static str,
    /// Whether the value also goes, in the Delta log, into the partition value (`start_date`)
    /// of the files of the newest run's partition (whose type, date, it cannot be).
    partition: bool,
}

const TARGETS: [Target; 4] = [
    Target {
        name: "job_runs",
        table: "job_runs",
        dir: "databricks_workspace/jobs/job_runs",
        workspace: "deployment_name",
        key: &["run_id"],
        int_key: &["run_id"],
        start: "start_time",
        active: "end_time",
        binary: "deployment_name",
        partition: false,
    },
    Target {
        name: "partition",
        table: "job_runs",
        dir: "databricks_workspace/jobs/job_runs",
        workspace: "deployment_name",
        key: &["run_id"],
        int_key: &["run_id"],
        start: "start_time",
        active: "end_time",
        binary: "deployment_name",
        partition: true,
    },
    Target {
        name: "task_runs",
        table: "cleanrooms.task_runs",
        dir: "databricks_workspace/cleanrooms/task_runs",
        workspace: "deployment_name",
        key: &["collaborator_workspace_id", "collaborator_task_run_id"],
        int_key: &["collaborator_workspace_id", "collaborator_task_run_id"],
        start: "start_time",
        active: "run_duration",
        binary: "clean_room_name",
        partition: false,
    },
    Target {
        name: "lakesail",
        table: "lakesail.jobs.job_runs",
        dir: "lakesail/jobs/job_runs",
        workspace: "endpoint",
        key: &["job_id", "job_run_id"],
        int_key: &[],
        start: "created_at",
        active: "finished_at",
        binary: "job_run_id",
        partition: false,
    },
];

/// What one run of the binary did.
struct Ran {
    status: ExitStatus,
    stderr: String,
    peak_mb: u64,
}

/// `jobsql args` with `env` (no machine settings): its exit status, stderr and peak resident
/// set: the kernel's VmHWM of its own memory, polled every few milliseconds until it exits
/// (`waitid` with `WNOWAIT`, so the pid is not reused while polled). Not `wait4`'s
/// `ru_maxrss`: a child spawned by vfork/posix_spawn carries over the high-water mark of the
/// parent's memory at exec, which here is this test process's (and its 10 MB values).
fn run_measured(args: &[&str], env: &[(&str, &str)], scratch: &Path) -> Ran {
    let err_path = scratch.join("stderr");
    let mut child = process::command(args, env)
        .env("HOME", scratch)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&err_path).expect("stderr file"))
        .spawn()
        .expect("jobsql starts");
    let pid = child.id();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let poller = {
        let done = done.clone();
        std::thread::spawn(move || {
            let mut peak_kb = 0u64;
            while !done.load(std::sync::atomic::Ordering::SeqCst) {
                if let Some(kb) = process::peak_kb(pid) {
                    peak_kb = peak_kb.max(kb);
                }
                std::thread::sleep(std::time::Duration::from_millis(3));
            }
            peak_kb
        })
    };
    // SAFETY: a zeroed siginfo_t is a valid value for waitid to fill.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    // SAFETY: waits (without reaping) for our own child, writing into the local.
    let exited =
        unsafe { libc::waitid(libc::P_PID, pid, &mut info, libc::WEXITED | libc::WNOWAIT) };
    assert_eq!(exited, 0, "waitid: {}", std::io::Error::last_os_error());
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let peak_kb = poller.join().expect("the poller");
    // Reaped now, the poller stopped.
    let status = child.wait().expect("jobsql is reaped");
    Ran {
        status,
        stderr: String::from_utf8_lossy(&std::fs::read(&err_path).expect("stderr")).into_owned(),
        peak_mb: peak_kb / 1024,
    }
}

/// The start of `text` (a message may hold a 10 MB value).
fn head(text: &str) -> String {
    let t = text.trim();
    let cut: String = t.chars().take(400).collect();
    if cut.len() < t.len() {
        format!("{cut}… ({} bytes)", t.len())
    } else {
        cut
    }
}

/// Percent-decoding of a path segment.
fn decode(segment: &str) -> Vec<u8> {
    let b = segment.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| char::from(c).to_digit(16);
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push(u8::try_from(h * 16 + l).expect("a byte"));
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

/// A request as both emulators record it.
struct Seen {
    method: String,
    path: String,
    query: Vec<(String, String)>,
}

/// Whether `value` is a key jobsql cannot put in a LakeSail path (refused before sending):
/// a segment that changes the path, or a URL over 16 KiB. (An empty value is no path
/// parameter at all: the key's filter is not pushed, the listing answers it.)
fn unsendable(value: &str, base_url: &str) -> bool {
    let encoded = jobsql_core::request::encode_segment(value);
    let path = format!("/workloads/jobs/{encoded}/runs/{encoded}");
    matches!(value, "." | "..") || base_url.len() + path.len() > jobsql_core::client::MAX_URL_BYTES
}

/// What is wrong with the requests one re-sync of `target` sent: anything but a GET of its
/// listing, or of a get by a key of `allowed` (decoded); `hostile` is the key a get must name
/// once, or `None` when none may.
fn wrong_requests(
    target: &Target,
    sent: &[Seen],
    allowed: &BTreeSet<Vec<Vec<u8>>>,
    hostile: Option<&Vec<Vec<u8>>>,
    rooms: &BTreeSet<String>,
) -> Vec<String> {
    let mut wrong = Vec::new();
    let mut hostile_gets = 0;
    for r in sent {
        let shown = format!("{} {} {:?}", r.method, r.path, r.query);
        let shown: String = shown.chars().take(300).collect();
        if r.method != "GET" {
            wrong.push(format!("not a GET: {shown}"));
            continue;
        }
        let key: Option<Vec<Vec<u8>>> = match target.name {
            "job_runs" | "partition" => match r.path.as_str() {
                "/api/2.2/jobs/runs/list" => None,
                "/api/2.2/jobs/runs/get" => {
                    let ids: Vec<&String> = r
                        .query
                        .iter()
                        .filter(|(k, _)| k == "run_id")
                        .map(|(_, v)| v)
                        .collect();
                    match ids.as_slice() {
                        [id] => Some(vec![id.as_bytes().to_vec()]),
                        _ => {
                            wrong.push(format!("a get without one run_id: {shown}"));
                            continue;
                        }
                    }
                }
                _ => {
                    wrong.push(format!("unplanned: {shown}"));
                    continue;
                }
            },
            "task_runs" => {
                let room = r
                    .path
                    .strip_prefix("/api/2.0/clean-rooms/")
                    .and_then(|p| p.strip_suffix("/runs"))
                    .map(decode);
                let listed = r.path == "/api/2.0/clean-rooms"
                    || room.is_some_and(|room| {
                        rooms.contains(&String::from_utf8_lossy(&room).into_owned())
                    });
                if !listed {
                    wrong.push(format!("unplanned: {shown}"));
                }
                None
            }
            _ => {
                if r.path == "/api/v1/me/jobs/runs" {
                    None
                } else {
                    let parts: Option<Vec<&str>> = r
                        .path
                        .strip_prefix("/api/v1/workloads/jobs/")
                        .map(|p| p.split('/').collect());
                    match parts.as_deref() {
                        Some([job, "runs", run]) if r.query.is_empty() => {
                            let encoded = |s: &str| {
                                s.bytes()
                                    .all(|b| b.is_ascii_alphanumeric() || b"-._~%".contains(&b))
                            };
                            if !encoded(job) || !encoded(run) {
                                wrong.push(format!("a segment not percent-encoded: {shown}"));
                            }
                            Some(vec![decode(job), decode(run)])
                        }
                        _ => {
                            wrong.push(format!("unplanned: {shown}"));
                            continue;
                        }
                    }
                }
            }
        };
        if let Some(key) = key {
            if Some(&key) == hostile {
                hostile_gets += 1;
            } else if !allowed.contains(&key) {
                wrong.push(format!("a get of a key that was not active: {shown}"));
            }
        }
    }
    let want = usize::from(hostile.is_some());
    if hostile_gets != want {
        wrong.push(format!(
            "{hostile_gets} gets of the hostile key, not {want}"
        ));
    }
    wrong
}

/// The number of commits in a Delta table's log.
fn commits(table: &Path) -> usize {
    std::fs::read_dir(table.join("_delta_log"))
        .map(|d| {
            d.filter_map(Result::ok)
                .filter(|e| e.file_name().to_string_lossy().ends_with(".json"))
                .count()
        })
        .unwrap_or(0)
}

/// The cases: [`CASES`] from the whole strategy, then one from each rare arm; the seed printed
/// (`JOBSQL_VALUES_SEED` replays a run).
fn cases(copy_to: &str) -> Vec<Hostile> {
    let seed: u64 = std::env::var("JOBSQL_VALUES_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(27)
        });
    eprintln!("values: seed {seed} (JOBSQL_VALUES_SEED={seed} replays it)");
    let mut seed_bytes = [0u8; 32];
    seed_bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes);
    let mut runner = TestRunner::new_with_rng(
        Config {
            cases: CASES,
            failure_persistence: None,
            ..Config::default()
        },
        rng,
    );
    let mut out: Vec<Hostile> = (0..CASES)
        .map(|_| {
            hostile(copy_to)
                .new_tree(&mut runner)
                .expect("a value")
                .current()
        })
        .collect();
    out.push(huge(copy_to).new_tree(&mut runner).expect("huge").current());
    out.push(bytes().new_tree(&mut runner).expect("bytes").current());
    out.push(dots().new_tree(&mut runner).expect("dots").current());
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_values_in_every_column_read_back_send_nothing_unplanned_and_stay_data() {
    let began = std::time::Instant::now();
    let dir = temp_dir("sync-values");
    let copy_to = dir.join("pwned-copy.csv");
    let copy_tmp = copy_tmp();
    let _ = std::fs::remove_file(&copy_tmp);
    let cases = cases(&copy_to.display().to_string());
    for (i, value) in cases.iter().enumerate() {
        eprintln!("values: case {i}: {}", value.shown());
    }

    // The emulators and the first syncs (the templates), by the binary.
    let (dbx, _clock) = super::common::standing(40).await;
    let (sail, _sail_clock) = crate::support::lakesail::clocked(1_000).await;
    let dbx_url = dbx.base_url();
    let sail_url = sail.base_url();
    let env: Vec<(&str, &str)> = vec![
        ("DATABRICKS_HOST", dbx_url.as_str()),
        ("DATABRICKS_TOKEN", dbx.token()),
        ("LAKESAIL_API_URL", sail_url.as_str()),
        ("LAKESAIL_TOKEN", sail.token()),
    ];
    let template = dir.join("template");
    for (n, t) in TARGETS.iter().enumerate() {
        if TARGETS[..n].iter().any(|o| o.table == t.table) {
            continue;
        }
        let to = template.display().to_string();
        let made = run_measured(&["sync", "--to", &to, "--table", t.table], &env, &dir);
        assert_eq!(made.status.code(), Some(0), "{}: {}", t.name, made.stderr);
    }
    let rooms: BTreeSet<String> = dbx
        .requests()
        .iter()
        .filter_map(|r| {
            r.path
                .strip_prefix("/api/2.0/clean-rooms/")
                .and_then(|p| p.strip_suffix("/runs"))
                .map(|p| String::from_utf8_lossy(&decode(p)).into_owned())
        })
        .collect();
    assert!(!rooms.is_empty(), "the first task_runs sync listed rooms");

    // Every case's tables, written by Python in one go.
    let mut jobs = Vec::new();
    for (i, value) in cases.iter().enumerate() {
        for (n, t) in TARGETS.iter().enumerate() {
            let fresh = 7_000_000_000_000_i64 + i64::try_from(i * 10 + n).expect("small");
            let ints: serde_json::Map<String, Value> = t
                .int_key
                .iter()
                .enumerate()
                .map(|(k, c)| {
                    (
                        c.to_string(),
                        json!(fresh + i64::try_from(k).expect("0 or 1")),
                    )
                })
                .collect();
            jobs.push(json!({
                "template": template.join(t.dir).display().to_string(),
                "path": dir.join(format!("case-{i}")).join(t.name).join(t.dir).display().to_string(),
                "workspace": t.workspace,
                "key": t.key,
                "start": t.start,
                "active": t.active,
                "overlap": OVERLAP_SECS,
                "ints": ints,
                "value": value.json(),
                "binary": matches!(value, Hostile::Bytes(_)).then_some(t.binary),
                "partition": t.partition,
            }));
        }
    }
    let job_file = dir.join("jobs.json");
    std::fs::write(&job_file, Value::from(jobs.clone()).to_string()).expect("jobs written");
    let written = python(
        &["deltalake", "pyarrow"],
        &format!("{PRELUDE}{WRITE}"),
        &[job_file.to_str().expect("a path"), &NESTED.to_string()],
    );
    let report: Vec<Value> =
        serde_json::from_str(stdout_of(&written).trim()).expect("the writer's report");
    eprintln!(
        "values: {} tables written in {:.1?}",
        report.len(),
        began.elapsed()
    );

    let mut wrong = Vec::new();
    // The largest peak RSS of the runs without and with megabytes of hostile text.
    let mut peaks = [(0u64, 0u64, String::new()), (0u64, 0u64, String::new())];
    let mut outcomes = (0usize, 0usize, 0usize);
    let mut checks = Vec::new();
    for (i, value) in cases.iter().enumerate() {
        for (n, t) in TARGETS.iter().enumerate() {
            let job = &jobs[i * TARGETS.len() + n];
            let info = &report[i * TARGETS.len() + n];
            let root = dir.join(format!("case-{i}")).join(t.name);
            let table = root.join(t.dir);
            let before = commits(&table);
            let what = format!("case {i} ({}) in {}", value.shown(), t.name);
            let key_bytes = |v: &Value| match v {
                Value::String(s) => s.as_bytes().to_vec(),
                other => other.to_string().into_bytes(),
            };
            let allowed: BTreeSet<Vec<Vec<u8>>> = info["active"]
                .as_array()
                .expect("active keys")
                .iter()
                .map(|k| k.as_array().expect("a key").iter().map(key_bytes).collect())
                .collect();
            // The hostile key as the get must name it, and whether it can be sent at all.
            let (hostile_key, refused): (Option<Vec<Vec<u8>>>, bool) = match (value, t.name) {
                (Hostile::Bytes(_), _) => (None, true),
                (Hostile::Text(_), "task_runs") => (None, false),
                (Hostile::Text(_), "job_runs" | "partition") => {
                    let id = job["ints"]["run_id"].to_string().into_bytes();
                    (Some(vec![id]), false)
                }
                (Hostile::Text(s), _) if s.is_empty() => (None, false),
                (Hostile::Text(s), _) => {
                    if unsendable(s, &sail_url) {
                        (None, true)
                    } else {
                        (Some(vec![s.as_bytes().to_vec(); 2]), false)
                    }
                }
            };

            dbx.clear_requests();
            sail.clear_requests();
            let to = root.display().to_string();
            let ran = run_measured(&["sync", "--to", &to, "--table", t.table], &env, &dir);
            let mut sent: Vec<Seen> = dbx
                .requests()
                .into_iter()
                .map(|r| Seen {
                    method: r.method,
                    path: r.path,
                    query: r.query,
                })
                .collect();
            sent.extend(sail.requests().into_iter().map(|r| Seen {
                method: r.method,
                path: r.path,
                query: r.query,
            }));
            let mut problems = Vec::new();
            if ran.status.code().is_none() {
                problems.push(format!("ended by signal {:?}", ran.status.signal()));
            }
            if ran.stderr.contains("panicked") || ran.stderr.len() > STDERR_BOUND {
                problems.push(format!(
                    "stderr of {} bytes: {}",
                    ran.stderr.len(),
                    head(&ran.stderr)
                ));
            }
            let hostile_mb = info["hostile_bytes"].as_u64().expect("hostile bytes") / (1 << 20);
            let bound = RSS_BASE_MB + RSS_PER_HOSTILE_BYTE * hostile_mb;
            if ran.peak_mb >= bound {
                problems.push(format!(
                    "peak RSS {} MB, over {bound} MB ({hostile_mb} MB of hostile text)",
                    ran.peak_mb
                ));
            }
            let slot = usize::from(hostile_mb > 0);
            if ran.peak_mb > peaks[slot].0 {
                peaks[slot] = (ran.peak_mb, hostile_mb, what.clone());
            }
            if t.partition {
                // A partition value that is not a date: refused before any request, naming the
                // table and the type (delta-rs' kernel), or the column (jobsql's reader, for an
                // empty value); or, should one read as no partition, a sync like any other.
                let fresh = job["ints"]["run_id"].to_string().into_bytes();
                let mut allowed = allowed.clone();
                allowed.insert(vec![fresh]);
                match ran.status.code() {
                    Some(0) => problems.extend(wrong_requests(t, &sent, &allowed, None, &rooms)),
                    Some(1)
                        if sent.is_empty()
                            && (ran.stderr.contains("partition value start_date=")
                                || (ran.stderr.contains("date")
                                    && ran.stderr.contains(&table.display().to_string()))) => {}
                    code => problems.push(format!(
                        "exit {code:?}, {} requests: {}",
                        sent.len(),
                        head(&ran.stderr)
                    )),
                }
            } else {
                match value {
                    Hostile::Bytes(_) => {
                        let location = table.display().to_string();
                        let named = ran.stderr.contains(&format!(
                            "its column {} is binary, not string as the spec says",
                            t.binary
                        )) && ran.stderr.contains(&location);
                        if ran.status.code() != Some(1) || !named || !sent.is_empty() {
                            problems.push(format!(
                                "not refused before any request: exit {:?}, {} requests: {}",
                                ran.status.code(),
                                sent.len(),
                                head(&ran.stderr)
                            ));
                        }
                    }
                    Hostile::Text(s) => {
                        problems.extend(wrong_requests(
                            t,
                            &sent,
                            &allowed,
                            hostile_key.as_ref(),
                            &rooms,
                        ));
                        if refused {
                            let said = ran.stderr.contains("would change the path")
                                || ran.stderr.contains("the URL would be");
                            if ran.status.code() != Some(1) || !said {
                                problems.push(format!(
                                    "an unsendable key not refused: exit {:?}: {}",
                                    ran.status.code(),
                                    head(&ran.stderr)
                                ));
                            }
                        } else if ran.status.code() != Some(0) {
                            problems.push(format!(
                                "failed: exit {:?}: {}",
                                ran.status.code(),
                                head(&ran.stderr)
                            ));
                        } else {
                            let mut check = job.clone();
                            check["own"] = info["workspace"].clone();
                            check["value"] = json!({ "text": s });
                            checks.push(check);
                        }
                    }
                }
            }
            match ran.status.code() {
                Some(0) => outcomes.0 += 1,
                Some(_) => {
                    outcomes.1 += 1;
                    if commits(&table) != before {
                        problems.push("a failed sync committed".into());
                    }
                }
                None => outcomes.2 += 1,
            }
            if !problems.is_empty() {
                wrong.push(format!("{what}:\n  {}", problems.join("\n  ")));
            }
        }
    }

    // The hostile rows of every committed re-sync, read back by Python.
    let check_file = dir.join("checks.json");
    std::fs::write(&check_file, Value::from(checks.clone()).to_string()).expect("checks written");
    let checked = python(
        &["deltalake", "pyarrow"],
        &format!("{PRELUDE}{CHECK}"),
        &[check_file.to_str().expect("a path"), &NESTED.to_string()],
    );
    let checked: serde_json::Map<String, Value> =
        serde_json::from_str(stdout_of(&checked).trim()).expect("the checker's report");
    for (path, problems) in &checked {
        let problems = problems.as_array().expect("a list");
        if !problems.is_empty() {
            wrong.push(format!("after the re-sync of {path}: {problems:?}"));
        }
    }
    assert_eq!(checked.len(), checks.len(), "every committed table checked");

    eprintln!(
        "values: {} cases x {} tables: {} synced (hostile rows kept byte for byte: {}), {} refused, \
         {} by signal; {:.1?} in all",
        cases.len(),
        TARGETS.len(),
        outcomes.0,
        checks.len(),
        outcomes.1,
        outcomes.2,
        began.elapsed()
    );
    eprintln!(
        "values: peak RSS max {} MB with small values ({}); {} MB with {} MB of hostile text \
         ({}); bound {RSS_BASE_MB} MB + {RSS_PER_HOSTILE_BYTE} x the hostile text",
        peaks[0].0, peaks[0].2, peaks[1].0, peaks[1].1, peaks[1].2
    );
    assert!(
        wrong.is_empty(),
        "{} of {} runs went wrong:\n{}",
        wrong.len(),
        cases.len() * TARGETS.len(),
        wrong.join("\n")
    );
    assert!(!copy_to.exists(), "COPY wrote {}", copy_to.display());
    assert!(!copy_tmp.exists(), "COPY wrote {}", copy_tmp.display());
    dbx.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
