//! The history on S3: `jobsql sync --to s3://...` and `jobsql query --history s3://...`
//! against moto's S3 server (127.0.0.1, a free port, started here and killed after), the same
//! table read by the Python `deltalake` package, and a second sync that adds nothing.

use std::io::{BufRead, BufReader};
use std::process::Child;

use super::common::{jobsql_env, stderr, stdout};
use crate::support::clients::{python, python_spawn, stdout_of};

const MOTO: &str = r#"
import os, sys, boto3
os.dup2(os.open(os.devnull, os.O_WRONLY), 2)
from moto.server import ThreadedMotoServer
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
server.start()
port = server.get_host_and_port()[1]
boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
             aws_access_key_id="test", aws_secret_access_key="test").create_bucket(Bucket="hist")
print("PORT", port, flush=True)
# Nobody reads moto's request log: a full pipe would stall the server.
import os, time
null = os.open(os.devnull, os.O_WRONLY)
os.dup2(null, 1)
os.dup2(null, 2)
time.sleep(3600)
"#;

const COUNT: &str = r#"
import sys
from deltalake import DeltaTable, QueryBuilder
t = DeltaTable(sys.argv[1], storage_options={
    "AWS_ENDPOINT_URL": sys.argv[2], "AWS_ALLOW_HTTP": "true", "AWS_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"})
n = QueryBuilder().register("t", t).execute("SELECT count(*) AS n FROM t").read_all()
print(n.column(0)[0].as_py(), t.version())
"#;

/// moto's S3 server, killed when dropped.
struct Moto {
    child: Child,
    endpoint: String,
}

impl Moto {
    fn start() -> Self {
        let mut child = python_spawn(&["moto", "boto3", "flask"], MOTO, &[]);
        let mut reader = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        while !line.starts_with("PORT ") {
            line.clear();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                break;
            }
        }
        let port: u16 = line
            .trim_start_matches("PORT ")
            .trim()
            .parse()
            .unwrap_or_else(|_| {
                let _ = child.kill();
                panic!("moto did not start: {line:?}")
            });
        Moto {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        }
    }

    fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ACCESS_KEY_ID", "test".to_string()),
            ("AWS_SECRET_ACCESS_KEY", "test".to_string()),
            ("AWS_REGION", "us-east-1".to_string()),
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_ALLOW_HTTP", "true".to_string()),
        ]
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn run(moto: &Moto, args: &[&str]) -> std::process::Output {
    let env = moto.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    jobsql_env(args, &env)
}

#[test]
fn sync_to_s3_reads_back_in_jobsql_and_python_deltalake() {
    let moto = Moto::start();
    let to = "s3://hist/jobsql";
    let first = run(&moto, &["sync", "--demo", "--to", to]);
    assert!(first.status.success(), "{}", stderr(&first));
    let live = run(
        &moto,
        &[
            "query",
            "--demo",
            "--format",
            "csv",
            "SELECT count(*) AS n FROM job_runs",
        ],
    );
    assert!(live.status.success(), "{}", stderr(&live));
    let sql = "SELECT count(*) AS n FROM job_runs_history";
    let kept = run(
        &moto,
        &["query", "--demo", "--history", to, "--format", "csv", sql],
    );
    assert!(kept.status.success(), "{}", stderr(&kept));
    assert_eq!(stdout(&kept), stdout(&live));
    assert_ne!(stdout(&kept), "n\n0\n");

    // A second sync commits nothing new: the count and the Delta version stay.
    let table = format!("{to}/databricks_workspace/jobs/job_runs");
    let before = python(&["deltalake"], COUNT, &[&table, &moto.endpoint]);
    assert!(before.status.success(), "{}", text(&before.stderr));
    let second = run(&moto, &["sync", "--demo", "--to", to]);
    assert!(second.status.success(), "{}", stderr(&second));
    let after = python(&["deltalake"], COUNT, &[&table, &moto.endpoint]);
    let (rows, _version) = stdout_of(&after)
        .trim()
        .split_once(' ')
        .map(|(r, v)| (r.to_string(), v.to_string()))
        .expect("rows and version");
    assert_eq!(
        format!("n\n{rows}\n"),
        stdout(&live),
        "python deltalake's count"
    );
    let again = run(
        &moto,
        &["query", "--demo", "--history", to, "--format", "csv", sql],
    );
    assert_eq!(stdout(&again), stdout(&live));
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}
