//! Hostile servers that echo credentials, against the real binary: a `Basic` password with
//! spaces and non-ASCII, an OAuth access token received from the token endpoint, and the
//! client secret sent to it, each echoed in error bodies as written, without its first
//! characters, percent-encoded, JSON-escaped and in base64 wrapped over lines. No 8-character
//! piece of any of them reaches stderr, and the requests are the ones the statement needed.

use crate::support::base64::{decode as decode64, encode as encode64};
use crate::support::cli::{jobsql_env, stderr};

use super::common::*;

/// The 8-character pieces of `secret` (and of its bytes' base64 at every offset) a text must
/// not hold.
fn leaked(text: &str, secret: &str) -> Option<String> {
    let chars: Vec<char> = secret.chars().collect();
    for i in 0..=chars.len().saturating_sub(8) {
        let piece: String = chars[i..(i + 8).min(chars.len())].iter().collect();
        if text.contains(&piece) {
            return Some(piece);
        }
    }
    for pad in ["", "x", "xy"] {
        let encoded = encode64(format!("{pad}{secret}").as_bytes(), false, false);
        // The characters that depend on the secret alone, 10 at a time.
        let known = &encoded[[0, 2, 3][pad.len()]..encoded.len() - 2];
        for i in 0..known.len().saturating_sub(10) {
            if text.contains(&known[i..i + 10]) {
                return Some(known[i..i + 10].to_string());
            }
        }
    }
    None
}

/// `value` in every form an echo uses, as one error message.
fn every_form(value: &str) -> String {
    let tail: String = value.chars().skip(3).collect();
    let percent: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
    let wrapped = encode64(format!("Bearer {value}{value}").as_bytes(), false, true)
        .as_bytes()
        .chunks(16)
        .map(|l| String::from_utf8_lossy(l).into_owned())
        .collect::<Vec<_>>()
        .join("\n");
    format!("got {value}; tail {tail}; query ?t={percent}; dump:\n{wrapped}\n")
}

/// A workspace provider signed in with HTTP Basic, in YAML only.
const PROFILE: &str = r#"
provider: acme_cloud
server: { url: "{base_url}", variable: account }
errors: { code: error.code, message: error.message }
sign_in:
  settings:
    base_url: { env: ACME_CLOUD_URL }
    user: { env: ACME_USER }
    password: { env: ACME_PASSWORD, secret: true }
  methods:
    - name: basic
      needs: [user, password]
      scheme: { basic: { username: "{user}", password: "{password}" } }
"#;

const SERVICE: &str = r#"
provider: acme_cloud
service: batch
resources:
  runs:
    methods:
      list: { verb: GET, path: /runs, response: { objects: items } }
    select: [list]
    columns:
      - { name: run_id, type: string, field: runId }
"#;

async fn binary(args: Vec<String>, env: Vec<(&'static str, String)>) -> std::process::Output {
    tokio::task::spawn_blocking(move || {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        jobsql_env(&args, &env)
    })
    .await
    .expect("joins")
}

#[tokio::test]
async fn a_basic_password_with_spaces_and_non_ascii_is_masked_in_every_echo() {
    for password in ["correct horse battery staple", "pässwörd für alle 7"] {
        let stub = Stub::start(|seen, _| {
            let header = seen.auth.clone().unwrap_or_default();
            let decoded = header
                .strip_prefix("Basic ")
                .map(|b| format!("decoded {}", String::from_utf8_lossy(&decode64(b))))
                .unwrap_or_default();
            let message = format!("refused {header}; {decoded}; {}", every_form(&decoded));
            let body = serde_json::json!({"error": {"code": "DENIED", "message": message}});
            Reply::json(403, body.to_string())
        })
        .await;
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(dir.path().join("acme_cloud")).expect("dir");
        std::fs::write(dir.path().join("acme_cloud/provider.yaml"), PROFILE).expect("profile");
        std::fs::write(dir.path().join("acme_cloud/batch.yaml"), SERVICE).expect("service");
        let args = [
            "query",
            "--spec-dir",
            &dir.path().display().to_string(),
            "SELECT run_id FROM acme_cloud.batch.runs",
        ]
        .map(String::from)
        .to_vec();
        let env = vec![
            ("ACME_CLOUD_URL", stub.base.clone()),
            ("ACME_USER", "admin".to_string()),
            ("ACME_PASSWORD", password.to_string()),
        ];
        let out = binary(args, env).await;
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(err.contains("HTTP 403 DENIED: refused Basic ***"), "{err}");
        assert_eq!(leaked(&err, password), None, "{err}");
        let header = format!(
            "Basic {}",
            encode64(format!("admin:{password}").as_bytes(), false, true)
        );
        assert!(!err.contains(&header[6..]), "{err}");
        let seen = stub.seen();
        assert_eq!(seen.len(), 1, "one request, no retry");
        assert_eq!(
            (seen[0].uri.as_str(), seen[0].auth.as_deref()),
            ("/runs", Some(&*header))
        );
    }
}

const CLIENT_ID: &str = "sp-echo-0042";
const CLIENT_SECRET: &str = "dose-echoed-secret-5b7e2c91";
const ACCESS_TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.echo-access-7f3a9c1e5d.sig";
const REFRESH_TOKEN: &str = "rt-echo-never-used-0c4d8e2a";

#[tokio::test]
async fn an_oauth_access_token_and_client_secret_echoed_by_servers_are_masked() {
    // Run 1: the token endpoint answers; the API echoes the access token in every form.
    // Run 2: the token endpoint refuses, echoing the client's Basic header and its secret.
    for refuse in [false, true] {
        let stub = Stub::start(move |seen, _| match seen.uri.as_str() {
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
            "/oidc/v1/token" if refuse => {
                let header = seen.auth.clone().unwrap_or_default();
                let description = format!(
                    "bad client {header}: {}",
                    every_form(&String::from_utf8_lossy(&decode64(&header[6..])))
                );
                let body = serde_json::json!({"error": "invalid_client", "error_description": description});
                Reply::json(401, body.to_string())
            }
            "/oidc/v1/token" => Reply::json(
                200,
                serde_json::json!({
                    "access_token": ACCESS_TOKEN,
                    "refresh_token": REFRESH_TOKEN,
                    "expires_in": 3600,
                })
                .to_string(),
            ),
            _ => {
                let token = seen.auth.clone().unwrap_or_default();
                let token = token.trim_start_matches("Bearer ");
                let message = format!("{} and {}", every_form(token), every_form(REFRESH_TOKEN));
                let body = serde_json::json!({"error_code": "BAD_REQUEST", "message": message});
                Reply::json(400, body.to_string())
            }
        })
        .await;
        let args = [
            "query",
            "SELECT run_id FROM databricks_workspace.jobs.job_runs LIMIT 1",
        ]
        .map(String::from)
        .to_vec();
        let env = vec![
            ("DATABRICKS_HOST", stub.base.clone()),
            ("DATABRICKS_CLIENT_ID", CLIENT_ID.to_string()),
            ("DATABRICKS_CLIENT_SECRET", CLIENT_SECRET.to_string()),
        ];
        let out = binary(args, env).await;
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{err}");
        for secret in [CLIENT_SECRET, ACCESS_TOKEN, REFRESH_TOKEN] {
            assert_eq!(leaked(&err, secret), None, "{err}");
        }
        let paths: Vec<String> = stub
            .seen()
            .iter()
            .map(|s| s.uri.split('?').next().unwrap_or_default().to_string())
            .collect();
        if refuse {
            assert!(
                err.contains("invalid_client: bad client Basic ***"),
                "{err}"
            );
            assert_eq!(
                paths,
                [
                    "/oidc/.well-known/oauth-authorization-server",
                    "/oidc/v1/token"
                ]
            );
        } else {
            assert!(
                err.contains("HTTP 400 BAD_REQUEST: got ***; tail ***;"),
                "{err}"
            );
            assert_eq!(
                paths,
                [
                    "/oidc/.well-known/oauth-authorization-server",
                    "/oidc/v1/token",
                    "/api/2.2/jobs/runs/list"
                ]
            );
        }
    }
}
