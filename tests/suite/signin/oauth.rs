//! OAuth M2M (`DATABRICKS_CLIENT_ID` / `DATABRICKS_CLIENT_SECRET`) end to end against the
//! emulator's discovery and token endpoints: a parallel scan whose token expires mid-scan,
//! a wrong secret, and a token endpoint on another host.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jobsql_core::client::{ApiClient, ClientConfig, LogSink, RetryPolicy};
use jobsql_core::provider::ApiRuntime;
use jobsql_core::workspace::{Workspace, WorkspaceResolver};
use jobsql_emulator::{EmulatorConfig, ManualClock, OAuthConfig};

use super::common::*;

const CLIENT_ID: &str = "sp-etl-4711";
const SECRET: &str = "dose-oauth-secret-7a1c9e";

fn oauth_env(host: &str, secret: &str) -> HashMap<String, String> {
    [
        ("DATABRICKS_HOST", host),
        ("DATABRICKS_CLIENT_ID", CLIENT_ID),
        ("DATABRICKS_CLIENT_SECRET", secret),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

fn oauth_config() -> OAuthConfig {
    OAuthConfig {
        client_id: CLIENT_ID.into(),
        client_secret: SECRET.into(),
        token_lifetime: Duration::from_secs(3600),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_parallel_scan_whose_token_expires_refreshes_once_and_loses_no_row() {
    let clock = ManualClock::new(crate::support::emulator::NOW);
    let emu = emulator(EmulatorConfig {
        runs: 20_000,
        jobs: 8,
        clock: Some(Arc::new(clock.clone())),
        oauth: oauth_config(),
        record_limit: 100_000,
        ..EmulatorConfig::default()
    })
    .await;
    let sql = format!("SELECT run_id FROM {RUNS}");

    // With the PAT: the rows to expect.
    let pat = Workspace::new("emu", &emu.base_url(), emu.token()).expect("ws");
    let pat_rt = ApiRuntime::new(
        ApiClient::new(RetryPolicy::default()).expect("client"),
        WorkspaceResolver::from_parts(HashMap::new(), None, None).with_default(pat),
    )
    .with_max_concurrency(16);
    let want: Vec<i64> = ints(&rows(&session(pat_rt), &sql).await, 0);
    assert_eq!(want.len(), 20_000);
    let pat_lists = emu
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("runs/list") && r.status == 200)
        .count();
    emu.clear_requests();

    // As a service principal: the clock jumps past the token's lifetime after 200 attempts.
    let attempts = Arc::new(AtomicUsize::new(0));
    let jumped = Arc::new(AtomicBool::new(false));
    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let (a, j, l, c) = (
        attempts.clone(),
        jumped.clone(),
        lines.clone(),
        clock.clone(),
    );
    let sink = LogSink::new(move |line| {
        l.lock().expect("lock").push(line.to_string());
        if line.contains("runs/list") && a.fetch_add(1, Ordering::SeqCst) == 200 {
            c.advance(Duration::from_secs(2 * 3600));
            j.store(true, Ordering::SeqCst);
        }
    });
    let oauth_client = client(ClientConfig {
        max_concurrency: 16,
        log: Some(sink),
        ..ClientConfig::default()
    });
    let resolver = WorkspaceResolver::from_parts(oauth_env(&emu.base_url(), SECRET), None, None);
    let ws = resolver.resolve(None).expect("resolves");
    assert_eq!(ws.method(), "oauth-m2m");
    let rt = ApiRuntime::new(oauth_client, resolver).with_max_concurrency(16);
    let got: Vec<i64> = ints(&rows(&session(rt), &sql).await, 0);
    assert!(jumped.load(Ordering::SeqCst), "the token expired mid-scan");
    assert_eq!(got.len(), want.len(), "no row lost, none twice");
    assert_eq!(
        got.iter().collect::<BTreeSet<_>>(),
        want.iter().collect::<BTreeSet<_>>()
    );

    let requests = emu.requests();
    let mut tokens: Vec<_> = requests
        .iter()
        .filter(|r| r.path == "/oidc/v1/token")
        .collect();
    tokens.sort_by_key(|r| r.received_us);
    assert_eq!(tokens.len(), 2, "the first token and one refresh");
    for pair in tokens.windows(2) {
        assert!(
            pair[1].received_us >= pair[0].answered_us,
            "token requests overlapped: {pair:?}"
        );
    }
    for t in &tokens {
        assert_eq!((t.method.as_str(), t.status), ("POST", 200));
        // The client authenticated with HTTP Basic: no client id or secret in the form.
        assert_eq!(
            t.body,
            Some(serde_json::json!({"grant_type": "client_credentials", "scope": "all-apis"}))
        );
    }
    let discovery = requests
        .iter()
        .filter(|r| r.path == "/oidc/.well-known/oauth-authorization-server")
        .count();
    assert_eq!(discovery, 2, "discovered before each token request");
    let refused = requests.iter().filter(|r| r.status == 401).count();
    assert!(refused >= 1, "requests in flight met the expired token");
    let answered = |rs: &[jobsql_emulator::RecordedRequest]| {
        rs.iter()
            .filter(|r| r.path.ends_with("runs/list") && r.status == 200)
            .count()
    };
    assert_eq!(
        answered(&requests),
        pat_lists,
        "the same listing as with the PAT: every refused request was sent again"
    );
    let lines = lines.lock().expect("lock").join("\n");
    assert!(lines.contains("token refused; refreshing it"), "{lines}");
    assert!(
        !lines.contains(SECRET) && !lines.contains("emu-oauth-"),
        "{lines}"
    );
}

#[tokio::test]
async fn a_wrong_client_secret_names_the_client_id_never_the_secret() {
    let emu = emulator(EmulatorConfig {
        runs: 50,
        oauth: oauth_config(),
        ..EmulatorConfig::default()
    })
    .await;
    let wrong = "wrong-secret-55c0ffee";
    let resolver = WorkspaceResolver::from_parts(oauth_env(&emu.base_url(), wrong), None, None);
    let rt = ApiRuntime::new(ApiClient::new(RetryPolicy::default()).expect("c"), resolver);
    let e = error(&session(rt), &format!("SELECT run_id FROM {RUNS} LIMIT 1")).await;
    assert!(
        e.contains(&format!("client_id '{CLIENT_ID}'"))
            && e.contains(&format!("{}/oidc/v1/token", emu.base_url()))
            && e.contains("HTTP 401")
            && e.contains("invalid_client"),
        "{e}"
    );
    assert!(!e.contains(wrong), "{e}");
    let requests = emu.requests();
    let paths: Vec<&str> = requests.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/oidc/.well-known/oauth-authorization-server",
            "/oidc/v1/token"
        ],
        "no API request without a token"
    );
}

#[tokio::test]
async fn a_token_endpoint_on_another_host_is_refused_and_never_called() {
    // Something listening on another loopback host, counting connections.
    let other = tokio::net::TcpListener::bind("127.0.0.2:0")
        .await
        .expect("bind");
    let other_addr = other.local_addr().expect("addr");
    let connections = Arc::new(AtomicUsize::new(0));
    let seen = connections.clone();
    tokio::spawn(async move {
        while let Ok((_socket, _)) = other.accept().await {
            seen.fetch_add(1, Ordering::SeqCst);
        }
    });
    let endpoint = format!("http://{other_addr}/oidc/v1/token");
    let doc = serde_json::json!({"token_endpoint": endpoint}).to_string();
    let workspace = Stub::start(move |_, _| Reply::json(200, doc.clone())).await;
    let resolver = WorkspaceResolver::from_parts(oauth_env(&workspace.base, SECRET), None, None);
    let rt = ApiRuntime::new(ApiClient::new(RetryPolicy::default()).expect("c"), resolver);
    let e = error(&session(rt), &format!("SELECT run_id FROM {RUNS} LIMIT 1")).await;
    assert!(
        e.contains(&endpoint) && e.contains("refusing to send the client secret"),
        "{e}"
    );
    assert!(!e.contains(SECRET));
    let seen: Vec<String> = workspace.seen().into_iter().map(|s| s.uri).collect();
    assert_eq!(seen, ["/oidc/.well-known/oauth-authorization-server"]);
    assert_eq!(
        connections.load(Ordering::SeqCst),
        0,
        "nothing sent to {endpoint}"
    );
}

/// A stub workspace serving discovery (naming its own token endpoint, from the `Host` it was
/// asked at), a token endpoint answering `expires_in`, and an empty listing.
async fn token_stub(expires_in: u64) -> Stub {
    Stub::start(move |seen, n| match seen.uri.as_str() {
        "/oidc/.well-known/oauth-authorization-server" => {
            let host = seen
                .headers
                .iter()
                .find(|(k, _)| k == "host")
                .map(|(_, v)| v.clone())
                .unwrap_or_default();
            Reply::json(
                200,
                format!(r#"{{"token_endpoint": "http://{host}/oidc/v1/token"}}"#),
            )
        }
        "/oidc/v1/token" => Reply::json(
            200,
            format!(r#"{{"access_token":"stub-token-{n}","expires_in":{expires_in}}}"#),
        ),
        _ => Reply::json(200, r#"{"runs": []}"#),
    })
    .await
}

#[tokio::test]
async fn a_token_is_used_until_shortly_before_expires_in() {
    for (expires_in, want_tokens) in [(3600, 1), (0, 3)] {
        let stub = token_stub(expires_in).await;
        let resolver = WorkspaceResolver::from_parts(oauth_env(&stub.base, SECRET), None, None);
        let ws = resolver.resolve(None).expect("ws");
        let client = ApiClient::new(RetryPolicy::default()).expect("client");
        for _ in 0..3 {
            let list = jobsql_core::client::ApiRequest::get("/api/2.2/jobs/runs/list", vec![]);
            client.send(&ws, &list).await.expect("sent");
        }
        let seen = stub.seen();
        let tokens: Vec<&str> = seen
            .iter()
            .filter(|s| s.uri == "/oidc/v1/token")
            .map(|s| s.body.as_str())
            .collect();
        assert_eq!(tokens.len(), want_tokens, "expires_in {expires_in}");
        assert!(tokens
            .iter()
            .all(|b| *b == "grant_type=client_credentials&scope=all-apis"));
        let bearer: Vec<String> = seen
            .iter()
            .filter(|s| s.uri.ends_with("runs/list"))
            .map(|s| s.auth.clone().unwrap_or_default())
            .collect();
        let want: Vec<String> = match expires_in {
            0 => (0..3).map(|n| format!("Bearer stub-token-{n}")).collect(),
            _ => vec!["Bearer stub-token-0".to_string(); 3],
        };
        assert_eq!(bearer, want, "expires_in {expires_in}");
    }
}

#[test]
fn the_emulator_command_takes_the_oauth_client_and_lifetime() {
    let emu = crate::support::cli::EmulatorProcess::start(&[
        "--client-id",
        "cmd-client",
        "--client-secret",
        "cmd-secret-19f2",
        "--token-lifetime-secs",
        "7",
    ]);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (status, body) = runtime.block_on(async {
        let r = reqwest::Client::new()
            .post(format!("{}/oidc/v1/token", emu.base_url))
            .basic_auth("cmd-client", Some("cmd-secret-19f2"))
            .form(&[("grant_type", "client_credentials"), ("scope", "all-apis")])
            .send()
            .await
            .expect("answered");
        (
            r.status().as_u16(),
            r.json::<serde_json::Value>().await.expect("json"),
        )
    });
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["expires_in"], 7);
    assert_eq!(body["token_type"], "Bearer");
    assert!(body["access_token"].as_str().is_some_and(|t| !t.is_empty()));
}
