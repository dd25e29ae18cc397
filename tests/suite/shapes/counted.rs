//! Counted pagination: an offset advanced by the objects received, and page numbers from a
//! configurable first page. They stop at a `total`, or on an empty page; a short page ends
//! them only with `short_page_ends: true`. LIMIT stops them (sizing an offset page; page
//! numbers keep full pages). `--max-pages` bounds them too.

use super::common::*;

const TABLE: &str = "acme.work.runs";
const ALL: &str = "SELECT run_id FROM acme.work.runs";

/// An offset API over runs 1..=`n`, answering at most `most` objects a page (whatever the
/// `limit` asked), with the total when `total` is true.
async fn offset_api(n: i64, most: i64, total: bool) -> Stub {
    Stub::start(move |seen, _| {
        let p = params(&seen.uri);
        let offset: i64 = p["offset"].parse().unwrap_or(0);
        let limit: i64 = p.get("limit").and_then(|l| l.parse().ok()).unwrap_or(most);
        let end = (offset + limit.min(most)).min(n);
        let total = if total {
            format!(r#", "total": {n}"#)
        } else {
            String::new()
        };
        Reply::json(
            200,
            format!(r#"{{"items": [{}]{total}}}"#, run_items(offset + 1..=end)),
        )
    })
    .await
}

#[tokio::test]
async fn offset_stops_at_the_total_and_short_pages_do_not_end_it() {
    // Pages of 3 while 4 are asked: every page is short, the total (10) ends the listing.
    let stub = offset_api(10, 3, true).await;
    let yaml = runs_spec(
        "items",
        "{ style: offset, param: offset, total: total, page_size: { param: limit, max: 4 } }",
    );
    let rows = query(&session(&yaml, &stub, None), ALL).await;
    assert_eq!(ids(&rows), (1..=10).collect::<Vec<_>>());
    assert_eq!(
        uris(&stub),
        [
            "/api/v1/runs?limit=4&offset=0",
            "/api/v1/runs?limit=4&offset=3",
            "/api/v1/runs?limit=4&offset=6",
            "/api/v1/runs?limit=4&offset=9"
        ]
    );
    let rows = query(
        &session(&yaml, &stub, None),
        &format!("SELECT run_id FROM {TABLE} LIMIT 6"),
    )
    .await;
    assert_eq!(ids(&rows), (1..=6).collect::<Vec<_>>());
    assert_eq!(
        uris(&stub)[4..],
        [
            "/api/v1/runs?limit=4&offset=0",
            "/api/v1/runs?limit=3&offset=3"
        ]
    );
}

#[tokio::test]
async fn offset_without_a_total_stops_on_an_empty_page_or_on_a_short_one_only_when_opted_in() {
    let stub = offset_api(10, 4, false).await;
    let plain = runs_spec(
        "items",
        "{ style: offset, param: offset, page_size: { param: limit, max: 4 } }",
    );
    let rows = query(&session(&plain, &stub, None), ALL).await;
    assert_eq!(ids(&rows), (1..=10).collect::<Vec<_>>());
    // The page of 2 (offset 8) is short, but only the empty page after it ends the listing.
    assert_eq!(
        uris(&stub),
        [
            "/api/v1/runs?limit=4&offset=0",
            "/api/v1/runs?limit=4&offset=4",
            "/api/v1/runs?limit=4&offset=8",
            "/api/v1/runs?limit=4&offset=10"
        ]
    );
    let opted = runs_spec("items", 
        "{ style: offset, param: offset, short_page_ends: true, page_size: { param: limit, max: 4 } }",
    );
    let rows = query(&session(&opted, &stub, None), ALL).await;
    assert_eq!(ids(&rows), (1..=10).collect::<Vec<_>>());
    assert_eq!(uris(&stub).len(), 4 + 3, "{:?}", uris(&stub));
    assert_eq!(uris(&stub)[6], "/api/v1/runs?limit=4&offset=8");
}

#[tokio::test]
async fn page_numbers_start_where_the_spec_says_and_stop_at_the_total_or_an_empty_page() {
    // `page` from 1 with a total at `meta.total`.
    let stub = Stub::start(|seen, _| {
        let p = params(&seen.uri);
        let page: i64 = p["page"].parse().unwrap_or(1);
        let size: i64 = p["per_page"].parse().unwrap_or(0);
        let from = (page - 1) * size;
        let items = run_items(from + 1..=(from + size).min(10));
        Reply::json(
            200,
            format!(r#"{{"items": [{items}], "meta": {{"total": 10}}}}"#),
        )
    })
    .await;
    let yaml = runs_spec("items", 
        "{ style: page, param: page, first_page: 1, total: meta.total, page_size: { param: per_page, max: 4 } }",
    );
    let rows = query(&session(&yaml, &stub, None), ALL).await;
    assert_eq!(ids(&rows), (1..=10).collect::<Vec<_>>());
    assert_eq!(
        uris(&stub),
        [
            "/api/v1/runs?per_page=4&page=1",
            "/api/v1/runs?per_page=4&page=2",
            "/api/v1/runs?per_page=4&page=3"
        ]
    );
    // LIMIT stops the pages, which stay full (page 2 of 2 would not be runs 3 and 4).
    let rows = query(
        &session(&yaml, &stub, None),
        &format!("SELECT run_id FROM {TABLE} LIMIT 6"),
    )
    .await;
    assert_eq!(ids(&rows), (1..=6).collect::<Vec<_>>());
    assert_eq!(
        uris(&stub)[3..],
        [
            "/api/v1/runs?per_page=4&page=1",
            "/api/v1/runs?per_page=4&page=2"
        ]
    );
    // Pages from 0 and no total: the empty page ends it.
    let zero = Stub::start(|seen, _| {
        let page: i64 = params(&seen.uri)["page"].parse().unwrap_or(0);
        let items = run_items((page * 4 + 1)..=((page + 1) * 4).min(10));
        Reply::json(200, format!(r#"{{"items": [{items}]}}"#))
    })
    .await;
    let yaml = runs_spec(
        "items",
        "{ style: page, param: page, first_page: 0, page_size: { param: per_page, max: 4 } }",
    );
    let rows = query(&session(&yaml, &zero, None), ALL).await;
    assert_eq!(ids(&rows), (1..=10).collect::<Vec<_>>());
    let pages: Vec<String> = uris(&zero)
        .iter()
        .map(|u| params(u)["page"].clone())
        .collect();
    assert_eq!(pages, ["0", "1", "2", "3"]);
}

#[tokio::test]
async fn max_pages_bounds_counted_listings() {
    // Full pages forever, no total.
    let endless = Stub::start(|seen, _| {
        let offset: i64 = params(&seen.uri)["offset"].parse().unwrap_or(0);
        Reply::json(
            200,
            format!(r#"{{"items": [{}]}}"#, run_items(offset + 1..=offset + 2)),
        )
    })
    .await;
    let yaml = runs_spec(
        "items",
        "{ style: offset, param: offset, page_size: { param: limit, max: 2 } }",
    );
    let message = error(&session(&yaml, &endless, Some(4)), ALL).await;
    assert!(
        message.contains("stopped after 4 pages") && message.contains("offset=6"),
        "{message}"
    );
    assert_eq!(endless.seen().len(), 4);
}
