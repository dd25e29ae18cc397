//! Pages named by URL: a next URL in the body (absolute or relative; `null` on the last page)
//! and the `Link` header's `rel="next"` (RFC 8288). A URL is followed only on the workspace's
//! scheme, host and port: one elsewhere is an error naming its origin, and it gets no request.
//! The page size is set in the URL followed, so LIMIT still sizes the last page.

use std::sync::{Arc, OnceLock};

use super::common::*;

const ALL: &str = "SELECT run_id FROM acme.work.runs";

/// Where the next page is: this stub's own base (set once it listens), or another's.
type Base = Arc<OnceLock<String>>;

/// Runs 1..=10 from cursor `c`, `limit` a page; the next page's URL from `next(base, end)`.
fn page(uri: &str) -> (String, i64, bool) {
    let p = params(uri);
    let start: i64 = p.get("c").and_then(|c| c.parse().ok()).unwrap_or(0);
    let limit: i64 = p.get("limit").and_then(|l| l.parse().ok()).unwrap_or(4);
    let end = (start + limit).min(10);
    (run_items(start + 1..=end), end, end < 10)
}

#[tokio::test]
async fn a_next_url_in_the_body_is_followed_absolute_or_relative_until_null() {
    let base: Base = Arc::default();
    let own = base.clone();
    let stub = Stub::start(move |seen, _| {
        let (items, end, more) = page(&seen.uri);
        let next = match (more, end) {
            (false, _) => "null".to_string(),
            // The second page's link is relative to the page's URL.
            (true, 8) => format!(r#""/api/v1/runs?c={end}&limit=4""#),
            (true, _) => format!(
                r#""{}/api/v1/runs?c={end}&limit=4""#,
                own.get().expect("base")
            ),
        };
        Reply::json(
            200,
            format!(r#"{{"items": [{items}], "links": {{"next": {next}}}}}"#),
        )
    })
    .await;
    base.set(stub.base.clone()).expect("once");
    let yaml = runs_spec(
        "items",
        "{ style: next_url, next: links.next, page_size: { param: limit, max: 4 } }",
    );
    let rows = query(&session(&yaml, &stub, None), ALL).await;
    assert_eq!(ids(&rows), (1..=10).collect::<Vec<_>>());
    assert_eq!(
        uris(&stub),
        [
            "/api/v1/runs?limit=4",
            "/api/v1/runs?c=4&limit=4",
            "/api/v1/runs?c=8&limit=4"
        ]
    );
    // LIMIT sizes the page in the URL followed.
    let rows = query(&session(&yaml, &stub, None), &format!("{ALL} LIMIT 6")).await;
    assert_eq!(ids(&rows), (1..=6).collect::<Vec<_>>());
    assert_eq!(
        uris(&stub)[3..],
        ["/api/v1/runs?limit=4", "/api/v1/runs?c=4&limit=2"]
    );
}

#[tokio::test]
async fn a_link_header_is_followed_over_a_bare_array_until_no_next() {
    let base: Base = Arc::default();
    let own = base.clone();
    let stub = Stub::start(move |seen, _| {
        let (items, end, more) = page(&seen.uri);
        let root = own.get().expect("base");
        let mut reply = Reply::json(200, format!("[{items}]"));
        let link = if more {
            format!(r#"<{root}/api/v1/runs?limit=4>; rel="first", <{root}/api/v1/runs?c={end}&limit=4>; rel="next""#)
        } else {
            format!(r#"<{root}/api/v1/runs?limit=4>; rel="first""#)
        };
        reply.headers.push(("link", link));
        reply
    })
    .await;
    base.set(stub.base.clone()).expect("once");
    let yaml = runs_spec(".", "{ style: link, page_size: { param: limit, max: 4 } }");
    let rows = query(&session(&yaml, &stub, None), ALL).await;
    assert_eq!(ids(&rows), (1..=10).collect::<Vec<_>>());
    assert_eq!(
        uris(&stub),
        [
            "/api/v1/runs?limit=4",
            "/api/v1/runs?c=4&limit=4",
            "/api/v1/runs?c=8&limit=4"
        ]
    );
}

#[tokio::test]
async fn a_next_page_on_another_origin_is_an_error_and_gets_no_request() {
    // Same host, another port: another origin. It would answer, but must never be asked.
    let elsewhere = Stub::fixed(200, r#"{"items": []}"#).await;
    let other = elsewhere.base.clone();
    let in_body = {
        let other = other.clone();
        Stub::start(move |_, _| {
            Reply::json(
                200,
                format!(r#"{{"items": [{{"runId": 1}}], "next": "{other}/api/v1/runs?c=1"}}"#),
            )
        })
        .await
    };
    let yaml = runs_spec("items", "{ style: next_url, next: next }");
    let message = error(&session(&yaml, &in_body, None), ALL).await;
    assert!(
        message.contains(&format!("the next page is on {other}"))
            && message.contains(&in_body.base)
            && message.contains("not followed"),
        "{message}"
    );
    let in_header = {
        let other = other.clone();
        Stub::start(move |_, _| {
            let mut reply = Reply::json(200, r#"[{"runId": 1}]"#);
            reply
                .headers
                .push(("link", format!(r#"<{other}/api/v1/runs?c=1>; rel="next""#)));
            reply
        })
        .await
    };
    let yaml = runs_spec(".", "{ style: link }");
    let message = error(&session(&yaml, &in_header, None), ALL).await;
    assert!(
        message.contains(&format!("the next page is on {other}")),
        "{message}"
    );
    assert_eq!(uris(&in_body), ["/api/v1/runs"]);
    assert_eq!(uris(&in_header), ["/api/v1/runs"]);
    assert!(elsewhere.seen().is_empty(), "{:?}", uris(&elsewhere));
}

#[tokio::test]
async fn a_repeated_next_url_and_max_pages_stop_url_listings() {
    let base: Base = Arc::default();
    let own = base.clone();
    let stuck = Stub::start(move |_, _| {
        let next = format!("{}/api/v1/runs?c=1", own.get().expect("base"));
        Reply::json(
            200,
            format!(r#"{{"items": [{{"runId": 1}}], "next": "{next}"}}"#),
        )
    })
    .await;
    base.set(stuck.base.clone()).expect("once");
    let message = error(
        &session(
            &runs_spec("items", "{ style: next_url, next: next }"),
            &stuck,
            None,
        ),
        ALL,
    )
    .await;
    assert!(
        message.contains("page 2 returned a `next` already followed"),
        "{message}"
    );
    assert_eq!(uris(&stuck), ["/api/v1/runs", "/api/v1/runs?c=1"]);
    let endless = Stub::start(|_, n| {
        let mut reply = Reply::json(200, r#"[{"runId": 1}]"#);
        reply
            .headers
            .push(("link", format!(r#"</api/v1/runs?c={n}>; rel="next""#)));
        reply
    })
    .await;
    let message = error(
        &session(&runs_spec(".", "{ style: link }"), &endless, Some(3)),
        ALL,
    )
    .await;
    assert!(
        message.contains("stopped after 3 pages") && message.contains("c=1"),
        "{message}"
    );
    assert_eq!(
        uris(&endless),
        ["/api/v1/runs", "/api/v1/runs?c=0", "/api/v1/runs?c=1"]
    );
}
