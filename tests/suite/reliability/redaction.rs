//! Redaction cannot be bypassed: a token cut by the 200-character quote, echoed in a value that
//! does not fit its column, in an EXEC response, encoded (percent, base64 in a Basic header,
//! JSON-escaped), or belonging to another workspace, is masked in every error, `-v` line,
//! warning and result — and server text cannot send terminal escape sequences.

use datafusion::arrow::array::AsArray;
use jobsql_core::client::ApiRequest;
use jobsql_core::workspace::Workspace;

use super::common::*;

/// The token's first 8 characters: no prefix this long may survive anywhere.
fn prefix() -> &'static str {
    &TOKEN[..8]
}

/// A body whose first 200 characters (the quote's length) end 28 characters into the token.
fn html_cutting_the_token() -> String {
    format!(
        "<html>{}{TOKEN}</html>",
        "a".repeat(200 - "<html>".len() - 28)
    )
}

fn html(status: u16, body: String) -> Reply {
    Reply {
        status,
        headers: vec![("content-type", "text/html".into())],
        body: body.into_bytes(),
        delay: std::time::Duration::ZERO,
    }
}

#[tokio::test]
async fn a_token_cut_by_the_quote_leaves_no_prefix() {
    let stub = Stub::start(|_, _| html(502, html_cutting_the_token())).await;
    let e = fast(3)
        .send(&stub.workspace("w"), &ApiRequest::get("/api/x", vec![]))
        .await
        .expect_err("502");
    let text = e.to_string();
    assert!(!text.contains(prefix()), "{text}");
    assert_eq!(
        text,
        format!(
            "GET /api/x on workspace 'w' failed: HTTP 502: the response is not the API's JSON error: \"<html>{}***</html>\"",
            "a".repeat(166)
        )
    );
    assert_eq!(stub.seen().len(), 1, "a 502 is not retried");
}

#[tokio::test]
async fn an_echoed_token_in_a_value_that_does_not_fit_is_masked() {
    let stub = Stub::start(|seen, _| {
        let echoed = seen
            .auth
            .as_deref()
            .and_then(|a| a.strip_prefix("Bearer "))
            .unwrap_or_default()
            .to_string();
        Reply::json(200, format!(r#"{{"runs":[{{"run_id":"{echoed}"}}]}}"#))
    })
    .await;
    let ctx = session(runtime(fast(1), &[stub.workspace("w")]));
    let message = error(&ctx, &format!("SELECT run_id FROM {RUNS} LIMIT 1")).await;
    assert!(!message.contains(prefix()), "{message}");
    assert!(
        message.starts_with(&format!(
            "{RUNS}: a value in the response does not fit its column (run_id \"***\"): "
        )),
        "{message}"
    );
    let seen = stub.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].uri, format!("{LIST}?limit=1"));
}

#[tokio::test]
async fn an_exec_response_echoing_the_token_is_masked() {
    // runs/export's views are EXEC result columns: a view whose content echoes the
    // Authorization header shows it masked.
    let stub = Stub::start(|seen, _| {
        let auth = seen.auth.clone().unwrap_or_default();
        Reply::json(
            200,
            format!(r#"{{"views":[{{"name":"n","type":"NOTEBOOK","content":"{auth}"}}]}}"#),
        )
    })
    .await;
    let ctx = session(runtime(fast(1), &[stub.workspace("w")]));
    let batches = rows(&ctx, &format!("EXEC {RUNS}.export @run_id = 7")).await;
    let content = batches[0]
        .column_by_name("content")
        .expect("the content column")
        .as_string::<i32>()
        .value(0)
        .to_string();
    assert_eq!(content, "Bearer ***");
    let seen = stub.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(
        (seen[0].method.as_str(), seen[0].uri.as_str()),
        ("GET", "/api/2.2/jobs/runs/export?run_id=7")
    );
}

fn base64(bytes: &[u8]) -> String {
    crate::support::base64::encode(bytes, false, true)
}

#[tokio::test]
async fn encoded_echoes_of_the_token_are_masked() {
    // A token whose encodings all differ from it.
    const ODD: &str = "dapi/odd+tok=en\"42";
    let percent: String = url::form_urlencoded::byte_serialize(ODD.as_bytes()).collect();
    let basic = base64(format!("token:{ODD}").as_bytes());
    let json = serde_json::to_string(ODD).expect("json");
    let message = format!("query ?t={percent} header Basic {basic} body {{\"t\":{json}}}");
    let body = serde_json::json!({"error_code": "UNAUTHENTICATED", "message": message});
    let stub = Stub::start(move |_, _| Reply::json(401, body.to_string())).await;
    let ws = Workspace::new("w", &stub.base, ODD).expect("workspace");
    let e = fast(1)
        .send(&ws, &ApiRequest::get("/api/x", vec![]))
        .await
        .expect_err("401");
    assert_eq!(
        e.to_string(),
        "GET /api/x on workspace 'w' failed: HTTP 401 UNAUTHENTICATED: query ?t=*** header Basic *** body {\"t\":\"***\"}"
    );
    assert_eq!(
        stub.seen()[0].auth.as_deref(),
        Some(&*format!("Bearer {ODD}"))
    );
}

#[tokio::test]
async fn the_token_of_another_workspace_is_masked_too() {
    const OTHER: &str = "dapi-other-workspace-5e8d01";
    let stub =
        Stub::start(|_, _| Reply::json(400, format!(r#"{{"message":"mixed up with {OTHER}"}}"#)))
            .await;
    let other = Workspace::new("other", "https://other.example.com", OTHER).expect("workspace");
    let ctx = session(runtime(fast(1), &[stub.workspace("w"), other]));
    let message = error(&ctx, &format!("SELECT run_id FROM {RUNS} LIMIT 1")).await;
    assert!(
        message.ends_with("HTTP 400: mixed up with ***"),
        "{message}"
    );
    assert_eq!(stub.seen().len(), 1);
}

#[tokio::test]
async fn verbose_lines_and_warnings_mask_a_cut_token() {
    let flaky = Stub::start(|_, n| match n {
        0 => html(503, html_cutting_the_token()),
        _ => Reply::json(200, r#"{"runs":[]}"#),
    })
    .await;
    let broken = Stub::start(|_, _| html(500, html_cutting_the_token())).await;
    let (logging, lines) = logging();
    let rt = runtime(logging, &[flaky.workspace("a"), broken.workspace("b")]).with_keep_going();
    let warnings = rt.warnings.clone();
    let ctx = session(rt);
    rows(
        &ctx,
        &format!("SELECT count(*) FROM {RUNS} WHERE deployment_name IN ('a', 'b')"),
    )
    .await;
    let lines = lines.lock().expect("lock").clone();
    assert_eq!(lines.len(), 3, "a: 503 then 200, b: 500: {lines:?}");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("HTTP 503") && l.contains("***")),
        "{lines:?}"
    );
    let warnings = warnings.take();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("skipped workspace 'b'") && warnings[0].contains("***"),
        "{warnings:?}"
    );
    for text in lines.iter().chain(&warnings) {
        assert!(!text.contains(prefix()), "{text}");
    }
    assert_eq!((flaky.seen().len(), broken.seen().len()), (2, 1));
}

#[tokio::test]
async fn server_text_cannot_send_terminal_escape_sequences() {
    let stub = Stub::fixed(
        400,
        r#"{"error_code":"BAD","message":"bad \u001b]0;pwned\u0007\u001b[2J\rdone\u009b\u202e"}"#,
    )
    .await;
    let ctx = session(runtime(fast(1), &[stub.workspace("w")]));
    let message = error(&ctx, &format!("SELECT run_id FROM {RUNS} LIMIT 1")).await;
    assert!(
        message.ends_with(r"HTTP 400 BAD: bad \x1b]0;pwned\x07\x1b[2J\x0ddone\u{9b}\u{202e}"),
        "{message}"
    );
    assert!(!message.chars().any(|c| c.is_control()), "{message:?}");
    // The same for a body that is not the API's JSON, quoted.
    let html_stub = Stub::start(|_, _| html(502, "<p>\u{1b}[31mred\u{7}</p>".into())).await;
    let e = fast(1)
        .send(
            &html_stub.workspace("w"),
            &ApiRequest::get("/api/x", vec![]),
        )
        .await
        .expect_err("502");
    assert!(
        e.to_string().ends_with(r#""<p>\x1b[31mred\x07</p>""#),
        "{e}"
    );
}

/// The emulator's default token shares no 8-character prefix with what jobsql writes itself:
/// an idempotency token (`jobsql-…`) in a message is shown whole, while the emulator's token is
/// masked (it once was `jobsql-emulator-token`, and about one idempotency token in sixteen lost
/// its head to the prefix rule).
#[test]
fn the_emulator_token_does_not_mask_idempotency_tokens() {
    let emulator_token = jobsql_emulator::EmulatorConfig::default().token;
    jobsql_core::redact::register(&emulator_token);
    for token in [
        "jobsql-e7c1d9a03f5b2e8c4d6a1f09b3e7c52d",
        &jobsql_core::request::args::new_idempotency_token(),
    ] {
        let line = format!("re-run with idempotency_token '{token}'");
        assert_eq!(jobsql_core::redact::outgoing(&line), line);
    }
    assert!(
        !jobsql_core::redact::outgoing(&format!("sent {emulator_token}")).contains(&emulator_token)
    );
}
