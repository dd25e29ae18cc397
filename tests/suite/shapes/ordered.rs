//! A marker listing keeps the cursor styles' optimisations: newest-first reads (`order:`)
//! stop after the pages a LIMIT needs, and a full listing (`parallel:`) is cut into
//! concurrent time slices, each marker-paged to its end, every run returned once.

use std::collections::BTreeMap;

use super::common::*;

fn spec() -> String {
    r#"
provider: acme
service: work
resources:
  runs:
    methods:
      list:
        verb: GET
        path: /api/v1/runs
        params: { from: { type: integer }, to: { type: integer } }
        response: { objects: items }
        pagination: { style: marker, param: marker, next: next, page_size: { param: limit, max: 2 } }
        order: { column: created, direction: desc }
        parallel: { column: created, window_days: 1 }
    select: [list]
    columns:
      - { name: run_id, type: integer, field: runId }
      - { name: created, type: timestamp_ms, field: createdAt }
    pushdown:
      - { column: created, ops: [range], lower: from, upper: to }
"#.to_string()
}

/// Runs 1..=12, run i created at i seconds past a base, listed newest first within the
/// inclusive `from` / `to` (ms), two a page, the marker the position in that listing.
async fn api() -> Stub {
    const BASE: i64 = 1_764_000_000_000;
    Stub::start(|seen, _| {
        let p = params(&seen.uri);
        let bound = |k: &str| p.get(k).map(|v| v.parse::<i64>().expect("ms"));
        let (from, to) = (bound("from"), bound("to"));
        let kept: Vec<(i64, i64)> = (1..=12)
            .rev()
            .map(|i| (i, BASE + i * 1000))
            .filter(|(_, t)| from.is_none_or(|f| *t >= f) && to.is_none_or(|u| *t <= u))
            .collect();
        let at: usize = p.get("marker").map_or(0, |m| m.parse().expect("marker"));
        let limit: usize = p["limit"].parse().expect("limit");
        let end = (at + limit).min(kept.len());
        let items: Vec<String> = kept[at..end]
            .iter()
            .map(|(i, t)| format!(r#"{{"runId": {i}, "createdAt": {t}}}"#))
            .collect();
        let next = if end < kept.len() {
            format!(r#", "next": "{end}""#)
        } else {
            String::new()
        };
        Reply::json(200, format!(r#"{{"items": [{}]{next}}}"#, items.join(",")))
    })
    .await
}

#[tokio::test]
async fn newest_first_with_a_limit_reads_only_the_pages_it_needs() {
    let stub = api().await;
    let rows = query(
        &session(&spec(), &stub, None),
        "SELECT run_id FROM acme.work.runs ORDER BY created DESC LIMIT 3",
    )
    .await;
    assert_eq!(ints(&rows, 0), [Some(12), Some(11), Some(10)]);
    assert_eq!(
        uris(&stub),
        ["/api/v1/runs?limit=2", "/api/v1/runs?limit=1&marker=2"]
    );
}

#[tokio::test]
async fn a_full_marker_listing_is_cut_into_slices_each_run_once() {
    let stub = api().await;
    let rows = query(
        &session(&spec(), &stub, None),
        "SELECT run_id FROM acme.work.runs",
    )
    .await;
    let mut seen: BTreeMap<i64, usize> = BTreeMap::new();
    for id in ints(&rows, 0).into_iter().flatten() {
        *seen.entry(id).or_default() += 1;
    }
    assert_eq!(seen, (1..=12).map(|i| (i, 1)).collect::<BTreeMap<_, _>>());
    let requests = uris(&stub);
    assert_eq!(requests[0], "/api/v1/runs?limit=2");
    let slices = requests[1..]
        .iter()
        .filter(|u| params(u).contains_key("to") && !params(u).contains_key("marker"))
        .count();
    assert!(slices >= 2, "the rest was listed in slices: {requests:?}");
}
