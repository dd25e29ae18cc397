//! Clients and workspaces for tests: the secret token that must appear in no output, retry
//! policies that wait milliseconds, a port where nothing listens, and a client whose log lines
//! are kept for inspection.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use jobsql_core::client::{ApiClient, ClientConfig, LogSink, RetryPolicy};
use jobsql_core::workspace::Workspace;
use jobsql_emulator::EmulatorHandle;

/// The token every stub and test workspace uses: it must appear in no output.
pub const TOKEN: &str = "dapi-reliability-secret-7f3a9c";

/// Retries in milliseconds: `max_attempts`, waits of at most 5 ms (`Retry-After` included).
pub fn fast_policy(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        max_total: Duration::from_secs(20),
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
    }
}

/// A client with [`fast_policy`].
pub fn fast(max_attempts: u32) -> ApiClient {
    ApiClient::new(fast_policy(max_attempts)).expect("client")
}

/// A client with `config`.
pub fn client(config: ClientConfig) -> ApiClient {
    ApiClient::with_config(config).expect("client")
}

/// A client with [`fast_policy`]`(3)` whose log lines (`-v`) are collected in the returned list.
pub fn logging() -> (ApiClient, Arc<Mutex<Vec<String>>>) {
    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = lines.clone();
    let logging = client(ClientConfig {
        retry: fast_policy(3),
        log: Some(LogSink::new(move |l| {
            sink.lock().expect("lock").push(l.to_string())
        })),
        ..ClientConfig::default()
    });
    (logging, lines)
}

/// A workspace `name` at `base` with [`TOKEN`].
pub fn workspace(name: &str, base: &str) -> Workspace {
    Workspace::new(name, base, TOKEN).expect("workspace")
}

/// A workspace `name` on `emu` (its own token).
pub fn emu_workspace(name: &str, emu: &EmulatorHandle) -> Workspace {
    Workspace::new(name, &emu.base_url(), emu.token()).expect("workspace")
}

/// A base URL where nothing listens.
pub fn closed_port() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    format!("http://{addr}")
}
