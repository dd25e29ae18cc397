//! A provider added in YAML only and used as a user would: a spec directory with its profile
//! (`provider.yaml`: base URL from a setting with a default, an API key in `X-Api-Key` from an
//! environment variable, errors as `{"error": {"code", "message"}}`) and a service (marker pages,
//! rows under `items`, camelCase fields, RFC 3339 times), queried with `jobsql query
//! --spec-dir` against a stub. No Rust knows it.

use crate::support::cli::{jobsql_env, stderr, stdout};

use super::common::*;

const PROFILE: &str = r#"
provider: acme_cloud
server: { url: "{base_url}", variable: account }
errors: { code: error.code, message: error.message }
sign_in:
  settings:
    base_url: { env: ACME_CLOUD_URL, default: "https://api.acme-cloud.test/v2" }
    api_key: { env: ACME_CLOUD_API_KEY, secret: true }
  methods:
    - name: api-key
      needs: [api_key]
      scheme: { header: { name: X-Api-Key, value: "{api_key}" } }
"#;

const SERVICE: &str = r#"
provider: acme_cloud
service: batch
resources:
  runs:
    methods:
      list:
        verb: GET
        path: /runs
        params: { state: { type: string } }
        response: { objects: items }
        pagination: { style: marker, param: marker, next: marker, page_size: { param: limit, max: 2 } }
    select: [list]
    columns:
      - { name: run_id, type: string, field: runId }
      - { name: job_name, type: string, field: jobName }
      - { name: started_at, type: timestamp_rfc3339, field: startedAt }
    pushdown:
      - { column: state, param: state, ops: [eq] }
    parameters:
      - { name: state, type: string }
"#;

const KEY: &str = "acme-key-3b9d-not-for-others";

/// Three runs on two pages; `state=bad` is refused the way this API refuses.
async fn stub() -> Stub {
    Stub::start(|seen, _| {
        if seen.uri.contains("state=bad") {
            return Reply::json(
                400,
                r#"{"error": {"code": "INVALID_STATE", "message": "state must be one of queued, done"}}"#,
            );
        }
        if seen.uri.contains("marker=m2") {
            Reply::json(
                200,
                r#"{"items": [{"runId": "c", "jobName": "gamma", "startedAt": null}]}"#,
            )
        } else {
            Reply::json(
                200,
                r#"{"items": [{"runId": "a", "jobName": "alpha", "startedAt": "2026-11-30T10:00:00Z"},
                              {"runId": "b", "jobName": "beta", "startedAt": "2026-11-30T12:30:00+02:00"}],
                    "marker": "m2"}"#,
            )
        }
    })
    .await
}

/// The provider's spec directory: one per call, as the tests of this file run at once.
fn spec_dir() -> tempfile::TempDir {
    let root = tempfile::tempdir().expect("temp dir");
    let dir = root.path();
    std::fs::create_dir_all(dir.join("acme_cloud")).expect("dir");
    std::fs::write(dir.join("acme_cloud/provider.yaml"), PROFILE).expect("profile");
    std::fs::write(dir.join("acme_cloud/batch.yaml"), SERVICE).expect("service");
    root
}

async fn run(stub: &Stub, sql: &str) -> std::process::Output {
    let dir = spec_dir();
    let env = [
        ("ACME_CLOUD_URL", stub.base.clone()),
        ("ACME_CLOUD_API_KEY", KEY.to_string()),
    ];
    let args = [
        "query".to_string(),
        "--spec-dir".to_string(),
        dir.path().display().to_string(),
        "--format".to_string(),
        "csv".to_string(),
        sql.to_string(),
    ];
    tokio::task::spawn_blocking(move || {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        jobsql_env(&args, &env)
    })
    .await
    .expect("joins")
}

#[tokio::test]
async fn a_provider_in_yaml_only_pages_signs_in_and_reads_as_its_api_says() {
    let stub = stub().await;
    let o = run(
        &stub,
        "SELECT run_id, job_name, CAST(started_at AS VARCHAR) AS started FROM acme_cloud.batch.runs \
         ORDER BY run_id",
    )
    .await;
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stdout(&o).lines().collect::<Vec<_>>(),
        [
            "run_id,job_name,started",
            "a,alpha,2026-11-30T10:00:00Z",
            "b,beta,2026-11-30T10:30:00Z",
            "c,gamma,",
        ]
    );
    let seen = stub.seen();
    assert_eq!(uris(&stub), ["/runs?limit=2", "/runs?limit=2&marker=m2"]);
    for s in &seen {
        let key: Vec<&str> = s
            .headers
            .iter()
            .filter(|(k, _)| k == "x-api-key")
            .map(|(_, v)| v.as_str())
            .collect();
        assert_eq!(key, [KEY], "{}", s.uri);
        assert_eq!(s.auth, None, "no Authorization header");
    }
    assert!(!stderr(&o).contains(KEY));
}

#[tokio::test]
async fn its_errors_read_at_the_profile_paths_and_never_show_the_key() {
    let stub = stub().await;
    let o = run(
        &stub,
        "SELECT run_id FROM acme_cloud.batch.runs WHERE state = 'bad'",
    )
    .await;
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(
        err.contains("INVALID_STATE") && err.contains("state must be one of queued, done"),
        "{err}"
    );
    assert!(err.contains("HTTP 400"), "{err}");
    assert!(!err.contains(KEY), "{err}");
    assert_eq!(uris(&stub), ["/runs?state=bad&limit=2"]);
}
