//! Cursor pagination: a token at a dotted path of the body (empty on the last page), and a
//! marker (absent on the last page, LakeSail's `limit` + `marker`). A short page does not end
//! either; LIMIT sizes the last page; `--max-pages` and a repeated cursor stop the listing.

use super::common::*;

const TABLE: &str = "acme.work.runs";

/// Runs 1..=`n` from `start` (the cursor's number), `limit` of them.
fn slice(n: i64, start: i64, limit: i64) -> (String, i64) {
    let end = (start + limit).min(n);
    (run_items(start + 1..=end), end)
}

#[tokio::test]
async fn token_at_a_nested_path_pages_until_it_is_empty_and_limit_sizes_the_last_page() {
    let stub = Stub::start(|seen, _| {
        let p = params(&seen.uri);
        let start = p
            .get("page_token")
            .and_then(|t| t.strip_prefix('t')?.parse().ok())
            .unwrap_or(0);
        let limit = p["limit"].parse().unwrap_or(0);
        let (items, end) = slice(10, start, limit);
        let next = if end < 10 {
            format!("t{end}")
        } else {
            String::new()
        };
        Reply::json(
            200,
            format!(r#"{{"data": {{"items": [{items}]}}, "meta": {{"next_token": "{next}"}}}}"#),
        )
    })
    .await;
    let yaml = runs_spec(
        "data.items",
        "{ style: token, param: page_token, next: meta.next_token, page_size: { param: limit, max: 4 } }",
    );
    let ctx = session(&yaml, &stub, None);
    let rows = query(&ctx, &format!("SELECT run_id FROM {TABLE}")).await;
    assert_eq!(ids(&rows), (1..=10).collect::<Vec<_>>());
    assert_eq!(
        uris(&stub),
        [
            "/api/v1/runs?limit=4",
            "/api/v1/runs?limit=4&page_token=t4",
            "/api/v1/runs?limit=4&page_token=t8"
        ]
    );
    let ctx = session(&yaml, &stub, None);
    let rows = query(&ctx, &format!("SELECT run_id FROM {TABLE} LIMIT 6")).await;
    assert_eq!(ids(&rows), (1..=6).collect::<Vec<_>>());
    assert_eq!(
        uris(&stub)[3..],
        ["/api/v1/runs?limit=4", "/api/v1/runs?limit=2&page_token=t4"]
    );
}

#[tokio::test]
async fn marker_pages_until_it_is_absent_and_a_short_page_does_not_end_them() {
    // The first page is short (3 of the 4 asked) but names a marker: the listing goes on.
    let stub = Stub::start(|seen, _| {
        let p = params(&seen.uri);
        let start = p.get("marker").and_then(|m| m.parse().ok()).unwrap_or(0);
        let limit = if start == 0 {
            3
        } else {
            p["limit"].parse().unwrap_or(0)
        };
        let (items, end) = slice(9, start, limit);
        let marker = if end < 9 {
            format!(r#", "marker": "{end}""#)
        } else {
            String::new()
        };
        Reply::json(200, format!(r#"{{"items": [{items}]{marker}}}"#))
    })
    .await;
    let yaml = runs_spec(
        "items",
        "{ style: marker, param: marker, next: marker, page_size: { param: limit, max: 4 } }",
    );
    let rows = query(
        &session(&yaml, &stub, None),
        &format!("SELECT run_id FROM {TABLE}"),
    )
    .await;
    assert_eq!(ids(&rows), (1..=9).collect::<Vec<_>>());
    assert_eq!(
        uris(&stub),
        [
            "/api/v1/runs?limit=4",
            "/api/v1/runs?limit=4&marker=3",
            "/api/v1/runs?limit=4&marker=7"
        ]
    );
}

#[tokio::test]
async fn max_pages_and_a_repeated_marker_stop_a_marker_listing() {
    // Always a new marker: stopped at --max-pages, exactly that many requests.
    let endless = Stub::start(|_, n| {
        Reply::json(
            200,
            format!(
                r#"{{"items": [{}], "marker": "m{n}"}}"#,
                run_items([n as i64])
            ),
        )
    })
    .await;
    let yaml = runs_spec("items", "{ style: marker, param: marker, next: marker }");
    let message = error(
        &session(&yaml, &endless, Some(5)),
        &format!("SELECT run_id FROM {TABLE}"),
    )
    .await;
    assert!(
        message.contains("stopped after 5 pages") && message.contains("--max-pages 5"),
        "{message}"
    );
    assert!(message.contains("marker=m3"), "{message}");
    assert_eq!(endless.seen().len(), 5);
    // The same marker again: an error after the second page, not a loop.
    let stuck =
        Stub::start(|_, _| Reply::json(200, r#"{"items": [{"runId": 1}], "marker": "same"}"#))
            .await;
    let message = error(
        &session(&yaml, &stuck, None),
        &format!("SELECT run_id FROM {TABLE}"),
    )
    .await;
    assert!(
        message.contains("page 2 returned a `marker` already followed"),
        "{message}"
    );
    assert_eq!(uris(&stuck), ["/api/v1/runs", "/api/v1/runs?marker=same"]);
}
