//! Object stores for the cloud history tests, each an independent implementation of its
//! cloud's API on 127.0.0.1 with a free port, started here and killed when dropped:
//! moto's S3 server (PyPI `moto[server]`) and Azurite's Blob service (npm `azurite`, which
//! `.ci/run` installs under `.ci/node`; it checks Shared Key signatures, so a wrong key fails
//! as on Azure).

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, Stdio};

use crate::support::clients::{python, python_spawn, stdout_of};

/// Azurite's well-known development account and its key (public, documented by Microsoft).
pub const AZURITE_ACCOUNT: &str = "devstoreaccount1";
/// The key of [`AZURITE_ACCOUNT`].
pub const AZURITE_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/// A running store: its process and the environment that points clients at it (the standard
/// variables, which jobsql and Python `deltalake` both read).
pub struct Server {
    child: Child,
    /// `KEY=value` pairs for jobsql and for `deltalake`'s storage options.
    pub env: Vec<(String, String)>,
}

impl Server {
    /// [`Server::env`] with `key` set to `value` (added or replaced).
    pub fn env_with(&self, key: &str, value: &str) -> Vec<(String, String)> {
        let mut env: Vec<_> = self.env.iter().filter(|(k, _)| k != key).cloned().collect();
        env.push((key.to_string(), value.to_string()));
        env
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

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

/// moto's S3 server with a bucket `hist`.
pub fn moto() -> Server {
    let mut child = python_spawn(&["moto", "boto3", "flask"], MOTO, &[]);
    let stdout = child.stdout.take().expect("stdout");
    let port = match wait_for(stdout, "PORT ") {
        Some(port) => port,
        None => {
            let _ = child.kill();
            panic!("moto did not start")
        }
    };
    let endpoint = format!("http://127.0.0.1:{port}");
    let env = [
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ENDPOINT_URL", endpoint.as_str()),
        ("AWS_ALLOW_HTTP", "true"),
    ];
    Server {
        child,
        env: owned(&env),
    }
}

/// Creates a container with a Shared Key signed request (Azure's documented scheme), with
/// Python's standard library only.
const CREATE_CONTAINER: &str = r#"
import sys, base64, hmac, hashlib, urllib.request
from email.utils import formatdate
endpoint, account, key, container = sys.argv[1:5]
date, version = formatdate(usegmt=True), "2021-08-06"
to_sign = ("PUT" + "\n" * 12 + f"x-ms-date:{date}\nx-ms-version:{version}\n"
           + f"/{account}/{account}/{container}\nrestype:container")
sig = base64.b64encode(hmac.new(base64.b64decode(key), to_sign.encode(), hashlib.sha256).digest())
req = urllib.request.Request(f"{endpoint}/{account}/{container}?restype=container", method="PUT",
    headers={"x-ms-date": date, "x-ms-version": version,
             "Authorization": f"SharedKey {account}:{sig.decode()}"})
print(urllib.request.urlopen(req).status)
"#;

/// The Azurite binary `.ci/run` installs (`npm ci --prefix .ci/node`).
fn azurite_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".ci/node/node_modules/.bin/azurite-blob")
}

/// Azurite's Blob service (in memory) with a container `hist`.
pub fn azurite() -> Server {
    let bin = azurite_bin();
    assert!(
        bin.exists(),
        "Azurite is not installed: run `npm ci --prefix .ci/node` (from the repository root)"
    );
    let mut child = Command::new(&bin)
        .args(["--blobHost", "127.0.0.1", "--blobPort", "0"])
        .args(["--inMemoryPersistence", "--extentMemoryLimit", "256"])
        .args(["--silent", "--skipApiVersionCheck"])
        .current_dir(std::env::temp_dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{} does not run: {e}", bin.display()));
    let stdout = child.stdout.take().expect("stdout");
    let port = match wait_for(
        stdout,
        "Azurite Blob service successfully listens on http://127.0.0.1:",
    ) {
        Some(port) => port,
        None => {
            let _ = child.kill();
            panic!("Azurite did not start")
        }
    };
    let endpoint = format!("http://127.0.0.1:{port}");
    let created = python(
        &[],
        CREATE_CONTAINER,
        &[&endpoint, AZURITE_ACCOUNT, AZURITE_KEY, "hist"],
    );
    assert_eq!(stdout_of(&created).trim(), "201", "container created");
    let env = [
        ("AZURE_STORAGE_USE_EMULATOR", "true"),
        ("AZURITE_BLOB_STORAGE_URL", endpoint.as_str()),
        ("AZURE_STORAGE_ACCOUNT_NAME", AZURITE_ACCOUNT),
        ("AZURE_STORAGE_ACCOUNT_KEY", AZURITE_KEY),
    ];
    Server {
        child,
        env: owned(&env),
    }
}

/// Reads `out` up to the line starting with `prefix` and returns the port after it; the rest
/// of the output is drained in the background (a full pipe would stall the server).
fn wait_for(out: ChildStdout, prefix: &str) -> Option<u16> {
    let mut reader = BufReader::new(out);
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return None;
        }
        if let Some(rest) = line.trim().strip_prefix(prefix) {
            let port = rest.trim().parse().ok();
            std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
            return port;
        }
    }
}

fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}
