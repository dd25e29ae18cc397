//! Credential hygiene and injection: SQL values reach the API encoded, path parameters stay one
//! segment, hosts and deployment names cannot be bent, and the token appears in no error,
//! `Debug` output or log line — even when a server echoes it.

use std::collections::HashMap;

use jobsql_core::client::ApiRequest;
use jobsql_core::workspace::{Workspace, WorkspaceResolver};

use super::common::*;

const ROOMS: &str = "databricks_workspace.cleanrooms.task_runs";

async fn rooms_stub() -> Stub {
    Stub::fixed(200, r#"{"runs":[]}"#).await
}

#[tokio::test]
async fn every_sql_value_reaches_the_query_string_encoded() {
    let stub = rooms_stub().await;
    let ctx = session(runtime(fast(1), &[stub.workspace("w")]));
    rows(
        &ctx,
        &format!("SELECT * FROM {ROOMS} WHERE clean_room_name = 'r' AND notebook_name = 'a&page_size=1#x?y z/é'"),
    )
    .await;
    let seen = stub.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(
        seen[0].uri,
        "/api/2.0/clean-rooms/r/runs?notebook_name=a%26page_size%3D1%23x%3Fy+z%2F%C3%A9&page_size=100"
    );
}

#[tokio::test]
async fn a_path_parameter_stays_one_segment() {
    let stub = rooms_stub().await;
    let ctx = session(runtime(fast(1), &[stub.workspace("w")]));
    rows(
        &ctx,
        &format!("SELECT * FROM {ROOMS} WHERE clean_room_name = '../x?y#z'"),
    )
    .await;
    let seen = stub.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(
        seen[0].uri,
        "/api/2.0/clean-rooms/..%2Fx%3Fy%23z/runs?page_size=100"
    );
}

#[tokio::test]
async fn a_path_parameter_that_would_climb_is_refused_before_sending() {
    let stub = rooms_stub().await;
    let ctx = session(runtime(fast(1), &[stub.workspace("w")]));
    for name in ["..", "."] {
        let message = error(
            &ctx,
            &format!("SELECT * FROM {ROOMS} WHERE clean_room_name = '{name}'"),
        )
        .await;
        assert!(
            message.contains(&format!("invalid request GET /api/2.0/clean-rooms/{name}/runs?page_size=100: the path segment '{name}' would change the path")),
            "{name}: {message}"
        );
    }
    // An empty name is no name at all.
    let message = error(
        &ctx,
        &format!("SELECT * FROM {ROOMS} WHERE clean_room_name = ''"),
    )
    .await;
    assert_eq!(
        message,
        format!("{ROOMS} cannot be listed without a parameter: add WHERE clean_room_name = '...'")
    );
    assert!(stub.seen().is_empty(), "nothing was sent");
}

#[tokio::test]
async fn a_deployment_name_cannot_bend_the_host() {
    let resolver = WorkspaceResolver::from_parts(
        HashMap::from([("DATABRICKS_TOKEN".to_string(), TOKEN.to_string())]),
        None,
        None,
    );
    for name in ["evil.com/x", "a@evil.com", "x?y", "a b"] {
        let e = resolver.resolve(Some(name)).expect_err(name);
        assert_eq!(
            e.to_string(),
            format!("invalid deployment_name '{name}': use only letters, digits, '-', '_' and '.'")
        );
    }
    let ws = resolver.resolve(Some("acme-prod")).expect("valid");
    assert_eq!(
        ws.base_url().as_str(),
        "https://acme-prod.cloud.databricks.com/"
    );
}

#[test]
fn plain_http_is_refused_except_to_loopback() {
    let e = Workspace::new("w", "http://example.com", TOKEN).expect_err("insecure");
    assert_eq!(
        e.to_string(),
        "refusing http:// for workspace 'w' (http://example.com): plain HTTP is allowed only for loopback hosts (127.0.0.1, localhost, [::1]); use https://"
    );
    for ok in [
        "http://127.0.0.1:1",
        "http://localhost:8080",
        "http://[::1]:9",
    ] {
        assert!(Workspace::new("w", ok, TOKEN).is_ok(), "{ok}");
    }
    let e = Workspace::new("w", "https://user:pw@example.com", TOKEN).expect_err("userinfo");
    assert!(
        e.to_string()
            .contains("credentials in the URL are not allowed"),
        "{e}"
    );
}

#[test]
fn a_malformed_token_is_refused_without_being_shown() {
    for bad in ["dapi secret", "dapi\nsecret", "dapi\u{7f}secret"] {
        let e = Workspace::new("w", "https://h.example.com", bad).expect_err("bad token");
        assert!(!e.to_string().contains("secret"), "{e}");
        assert!(
            e.to_string()
                .starts_with("invalid token for workspace 'w': "),
            "{e}"
        );
    }
}

#[tokio::test]
async fn debug_output_never_shows_the_token() {
    let ws = workspace("w", "https://h.example.com");
    let resolver = WorkspaceResolver::from_parts(
        HashMap::from([
            (
                "DATABRICKS_HOST".to_string(),
                "https://h.example.com".to_string(),
            ),
            ("DATABRICKS_TOKEN".to_string(), TOKEN.to_string()),
        ]),
        Some(format!(
            "[p]\nhost = https://p.example.com\ntoken = {TOKEN}\n"
        )),
        None,
    )
    .with_named(ws.clone());
    let rt = runtime(fast(1), std::slice::from_ref(&ws)).with_dry_run();
    for text in [
        format!("{ws:?}"),
        format!("{ws}"),
        format!("{resolver:?}"),
        format!("{rt:?}"),
        format!("{:?}", resolver.resolve(Some("p"))),
        format!("{:?}", resolver.resolve(None)),
    ] {
        assert!(!text.contains(TOKEN), "{text}");
    }
}

#[tokio::test]
async fn a_server_echoing_the_token_is_redacted() {
    let stub = Stub::start(|seen, _| {
        let echoed = seen.auth.clone().unwrap_or_default();
        Reply::json(
            401,
            format!(r#"{{"error_code":"UNAUTHENTICATED","message":"bad header: {echoed}"}}"#),
        )
    })
    .await;
    let e = fast(1)
        .send(&stub.workspace("w"), &ApiRequest::get("/api/x", vec![]))
        .await
        .expect_err("401");
    assert_eq!(
        e.to_string(),
        "GET /api/x on workspace 'w' failed: HTTP 401 UNAUTHENTICATED: bad header: Bearer ***"
    );
    assert!(!format!("{e:?}").contains(TOKEN));
}

#[tokio::test]
async fn verbose_log_lines_name_each_attempt_but_not_the_token() {
    let stub = Stub::start(|_, n| match n {
        0 => Reply::json(
            503,
            r#"{"error_code":"TEMPORARILY_UNAVAILABLE","message":"later"}"#,
        ),
        _ => Reply::json(200, r#"{"ok":1}"#),
    })
    .await;
    let (logging, lines) = logging();
    logging
        .send(
            &stub.workspace("w"),
            &ApiRequest::get("/api/x", vec![("q".into(), "1".into())]),
        )
        .await
        .expect("recovers");
    let lines = lines.lock().expect("lock").clone();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(
        lines[0].starts_with("GET /api/x?q=1 @ w (attempt 1, ")
            && lines[0].contains("ms): HTTP 503: later; retrying in "),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].starts_with("GET /api/x?q=1 @ w (attempt 2, ")
            && lines[1].ends_with("ms): 8 bytes"),
        "{}",
        lines[1]
    );
    assert!(lines.iter().all(|l| !l.contains(TOKEN)));
}
