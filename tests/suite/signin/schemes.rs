//! The other schemes, over real HTTP: an API key in a header and HTTP basic on a stub, an
//! Azure service principal's Microsoft Entra token from a stub authority, the
//! `databricks auth token` command (a fake `databricks` script), and the binary's `-v` and
//! `--dry-run` output with OAuth M2M.

use std::collections::HashMap;
use std::sync::Arc;

use jobsql_core::client::{ApiClient, ApiRequest, RetryPolicy};
use jobsql_core::provider::ApiRuntime;
use jobsql_core::spec::ProviderSpec;
use jobsql_core::workspace::WorkspaceResolver;
use jobsql_emulator::EmulatorConfig;

use super::common::*;

const ACME: &str = r#"
provider: acme
server:
  url: "{base}"
  variable: account
sign_in:
  auth_type: method
  settings:
    base: { env: ACME_URL }
    method: { env: ACME_AUTH }
    api_key: { env: ACME_API_KEY, secret: true }
    user: { env: ACME_USER }
    password: { env: ACME_PASSWORD, secret: true }
  methods:
    - name: api-key
      needs: [api_key]
      scheme: { header: { name: X-Api-Key, value: "{api_key}" } }
    - name: basic
      needs: [user, password]
      scheme: { basic: { username: "{user}", password: "{password}" } }
"#;

fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[tokio::test]
async fn an_api_key_header_and_basic_credentials_reach_the_server() {
    let stub = Stub::start(|_, _| Reply::json(200, r#"{"ok": true}"#)).await;
    let profile: Arc<ProviderSpec> = Arc::new(serde_yaml_ng::from_str(ACME).expect("yaml"));
    let key = "acme-key-0b5e11";
    let password = "acme-password-9d2";
    let resolve = |pairs: &[(&str, &str)]| {
        WorkspaceResolver::from_parts_for(profile.clone(), env(pairs), None, None)
            .resolve(None)
            .expect("resolves")
    };
    let by_key = resolve(&[("ACME_URL", &stub.base), ("ACME_API_KEY", key)]);
    let basic = resolve(&[
        ("ACME_URL", &stub.base),
        ("ACME_API_KEY", key),
        ("ACME_AUTH", "basic"),
        ("ACME_USER", "ann"),
        ("ACME_PASSWORD", password),
    ]);
    assert_eq!((by_key.method(), basic.method()), ("api-key", "basic"));
    let client = ApiClient::new(RetryPolicy::default()).expect("client");
    for ws in [&by_key, &basic] {
        client
            .send(ws, &ApiRequest::get("/v1/things", vec![]))
            .await
            .expect("sent");
        let text = format!("{ws:?} {ws}");
        assert!(!text.contains(key) && !text.contains(password), "{text}");
    }
    let seen = stub.seen();
    assert_eq!(seen.len(), 2);
    let header = |i: usize, name: &str| {
        seen[i]
            .headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(header(0, "x-api-key").as_deref(), Some(key));
    assert_eq!(seen[0].auth, None, "no Authorization with an API key");
    // base64("ann:acme-password-9d2")
    assert_eq!(
        seen[1].auth.as_deref(),
        Some("Basic YW5uOmFjbWUtcGFzc3dvcmQtOWQy")
    );
    assert_eq!(header(1, "x-api-key"), None);
}

#[tokio::test]
async fn an_azure_service_principal_gets_an_entra_token() {
    let emu = emulator(EmulatorConfig {
        runs: 40,
        ..EmulatorConfig::default()
    })
    .await;
    // The authority: answers client credentials with a token the workspace accepts.
    let token = emu.token().to_string();
    let entra = Stub::start(move |_, _| {
        Reply::json(
            200,
            format!(r#"{{"token_type":"Bearer","expires_in":3599,"access_token":"{token}"}}"#),
        )
    })
    .await;
    let secret = "az-client-secret~Qx81";
    let config = format!(
        "[azure]\nhost = {}\nazure_client_id = app-1d2\nazure_client_secret = {secret}\nazure_tenant_id = tenant-42\n",
        emu.base_url()
    );
    let resolver = WorkspaceResolver::from_parts(
        env(&[("AZURE_AUTHORITY_HOST", &entra.base)]),
        Some(config),
        None,
    );
    let rt = ApiRuntime::new(ApiClient::new(RetryPolicy::default()).expect("c"), resolver);
    let ctx = session(rt);
    let sql = format!("SELECT run_id FROM {RUNS} WHERE deployment_name = 'azure'");
    assert_eq!(ints(&rows(&ctx, &sql).await, 0).len(), 40);
    assert_eq!(
        ints(&rows(&ctx, &sql).await, 0).len(),
        40,
        "again, cached token"
    );
    let seen = entra.seen();
    assert_eq!(seen.len(), 1, "one token for both queries");
    assert_eq!(
        (seen[0].method.as_str(), seen[0].uri.as_str()),
        ("POST", "/tenant-42/oauth2/v2.0/token")
    );
    let form: HashMap<String, String> = url::form_urlencoded::parse(seen[0].body.as_bytes())
        .into_owned()
        .collect();
    assert_eq!(
        form,
        env(&[
            ("grant_type", "client_credentials"),
            ("scope", "2ff814a6-3304-4ab8-85cb-cd0e6f879c1d/.default"),
            ("client_id", "app-1d2"),
            ("client_secret", secret),
        ])
    );
    assert_eq!(
        seen[0].auth, None,
        "the client is authenticated by form fields"
    );
}

/// A fake `databricks` CLI in a temp dir: logs its arguments, prints `output` (or fails).
fn fake_cli(dir: &std::path::Path, output: &str, fail: bool) -> String {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join("databricks");
    let log = dir.join("calls.log");
    let body = if fail {
        "echo 'Error: cannot get access token: refresh token is invalid' >&2\necho second >&2\nexit 1".to_string()
    } else {
        format!("printf '%s' '{output}'")
    };
    std::fs::write(
        &path,
        format!("#!/bin/sh\necho \"$@\" >> '{}'\n{body}\n", log.display()),
    )
    .expect("script");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    path.display().to_string()
}

#[tokio::test]
async fn the_databricks_cli_prints_the_token() {
    let emu = emulator(EmulatorConfig {
        runs: 30,
        ..EmulatorConfig::default()
    })
    .await;
    let dir = tempfile::tempdir().expect("tmp");
    let output = format!(
        r#"{{"access_token":"{}","token_type":"Bearer","expiry":"2099-01-01T00:00:00Z"}}"#,
        emu.token()
    );
    let cli = fake_cli(dir.path(), &output, false);
    let config = format!(
        "[me]\nhost = {}\nauth_type = databricks-cli\n",
        emu.base_url()
    );
    let resolver = WorkspaceResolver::from_parts(
        env(&[("DATABRICKS_CLI_PATH", &cli)]),
        Some(config.clone()),
        None,
    );
    let rt = ApiRuntime::new(ApiClient::new(RetryPolicy::default()).expect("c"), resolver);
    let ctx = session(rt);
    let sql = format!("SELECT run_id FROM {RUNS} WHERE deployment_name = 'me'");
    assert_eq!(ints(&rows(&ctx, &sql).await, 0).len(), 30);
    assert_eq!(ints(&rows(&ctx, &sql).await, 0).len(), 30);
    let calls = std::fs::read_to_string(dir.path().join("calls.log")).expect("log");
    assert_eq!(
        calls,
        format!("auth token --host {}\n", emu.base_url()),
        "run once: the token is valid until its expiry"
    );

    // A failing CLI: its first stderr line, no request to the workspace.
    let failing = tempfile::tempdir().expect("tmp");
    let cli = fake_cli(failing.path(), "", true);
    let resolver =
        WorkspaceResolver::from_parts(env(&[("DATABRICKS_CLI_PATH", &cli)]), Some(config), None);
    emu.clear_requests();
    let rt = ApiRuntime::new(ApiClient::new(RetryPolicy::default()).expect("c"), resolver);
    let e = error(&session(rt), &sql).await;
    assert!(
        e.contains("sign-in to workspace 'me' (databricks-cli) failed")
            && e.contains("Error: cannot get access token: refresh token is invalid")
            && !e.contains("second"),
        "{e}"
    );
    assert!(emu.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_binary_shows_no_secret_in_verbose_or_dry_run_output() {
    let secret = "bin-oauth-secret-3e7f0a";
    let emu = emulator(EmulatorConfig {
        runs: 60,
        oauth: jobsql_emulator::OAuthConfig {
            client_id: "bin-client".into(),
            client_secret: secret.into(),
            ..Default::default()
        },
        ..EmulatorConfig::default()
    })
    .await;
    let base = emu.base_url();
    let env = [
        ("DATABRICKS_HOST", base.as_str()),
        ("DATABRICKS_CLIENT_ID", "bin-client"),
        ("DATABRICKS_CLIENT_SECRET", secret),
    ];
    let run_with = |args: &[&str], env: &[(&str, &str)]| {
        let out = crate::support::cli::jobsql_env(args, env);
        (
            out.status.code(),
            crate::support::cli::stdout(&out),
            crate::support::cli::stderr(&out),
        )
    };
    let run = |args: &[&str]| run_with(args, &env);
    let select = format!("SELECT run_id FROM {RUNS} LIMIT 3");
    let (code, out, err) = run(&["query", "-v", "--format", "csv", &select]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out.lines().count(), 4, "{out}");
    assert!(err.contains("sign-in oauth-m2m @ "), "{err}");
    let tokens = |emu: &jobsql_emulator::EmulatorHandle| {
        emu.requests()
            .iter()
            .filter(|r| r.path == "/oidc/v1/token" && r.status == 200)
            .count()
    };
    assert_eq!(tokens(&emu), 1, "one token for the process");
    let run_id = out.lines().nth(1).expect("a row").to_string();
    let delete = format!("DELETE FROM {RUNS} WHERE run_id = {run_id}");
    let (code, dry, dry_err) = run(&["query", "--dry-run", "-v", &delete]);
    assert_eq!(code, Some(0), "{dry_err}");
    assert!(
        dry.contains("runs/delete") || dry_err.contains("runs/delete"),
        "{dry}{dry_err}"
    );
    let wrong_secret = "bin-wrong-secret-77aa01";
    let mut wrong_env = env;
    wrong_env[2] = ("DATABRICKS_CLIENT_SECRET", wrong_secret);
    let (code, _, wrong) = run_with(&["query", "-v", &select], &wrong_env);
    assert_eq!(code, Some(1), "{wrong}");
    assert!(
        wrong.contains("client_id 'bin-client'") && !wrong.contains(wrong_secret),
        "{wrong}"
    );
    for text in [&out, &err, &dry, &dry_err, &wrong] {
        assert!(
            !text.contains(secret) && !text.contains("emu-oauth-"),
            "{text}"
        );
    }
    assert!(
        !emu.requests()
            .iter()
            .any(|r| r.path.ends_with("runs/delete")),
        "the dry run deleted nothing"
    );
}
