//! A made-up provider shaped like LakeSail's API, from YAML only: camelCase fields read into
//! snake_case columns (scalars, a struct, a list, JSON text), rows under `items`, marker pages,
//! and times in three encodings (RFC 3339 with offsets, epoch seconds, epoch milliseconds),
//! all `Timestamp(ms, UTC)` in SQL; a time range pushed as RFC 3339 text, exactly, and as
//! epoch seconds, rounded outwards and checked again on the rows.

use chrono::DateTime;
use datafusion::arrow::datatypes::{DataType, TimeUnit};

use super::common::*;

fn spec() -> String {
    r#"
provider: acme
service: jobs
resources:
  job_runs:
    key: [job_run_id]
    methods:
      list:
        verb: GET
        path: /me/jobs/runs
        params:
          created_after: { type: string }
          created_before: { type: string }
          started_from: { type: integer }
          started_to: { type: integer }
        response: { objects: items }
        pagination: { style: marker, param: marker, next: marker, page_size: { param: limit, max: 2 } }
    select: [list]
    columns:
      - { name: job_run_id, type: string, field: id }
      - { name: job_id, type: string, field: jobId }
      - { name: attempt, type: integer }
      - { name: run_state, field: runState, type: object, fields: [ { name: code, type: string }, { name: since, type: timestamp_rfc3339 } ] }
      - { name: retries_at, field: retriesAt, type: array, items: { type: timestamp_s } }
      - { name: parameters, type: json }
      - { name: created_at, type: timestamp_rfc3339, field: createdAt }
      - { name: started_at, type: timestamp_s, field: startedAt }
      - { name: finished_at, type: timestamp_ms, field: finishedAt }
    pushdown:
      - { column: created_at, ops: [range], lower: created_after, upper: created_before, encoding: rfc3339 }
      - { column: started_at, ops: [range], lower: started_from, upper: started_to, encoding: epoch_s }
"#.to_string()
}

/// Five runs: times in each encoding (null and 0 for "not set"), an offset on one.
const RUNS: [&str; 5] = [
    r#"{"id": "R1", "jobId": "J1", "attempt": 1, "runState": {"code": "running", "since": "2026-11-01T10:00:00+02:00"}, "retriesAt": [1700000000, 0], "parameters": {"a": 1}, "createdAt": "2026-11-01T08:00:00Z", "startedAt": 1761984000, "finishedAt": 0}"#,
    r#"{"id": "R2", "jobId": "J1", "attempt": 2, "runState": null, "retriesAt": [], "parameters": null, "createdAt": "2026-11-01T12:30:00.250+01:00", "startedAt": 0, "finishedAt": 1761990000123}"#,
    r#"{"id": "R3", "jobId": "J2", "attempt": 1, "createdAt": "2026-11-02T00:00:00Z", "startedAt": 1761990000, "finishedAt": null}"#,
    r#"{"id": "R4", "jobId": "J2", "attempt": 1, "createdAt": "1970-01-01T00:00:00Z", "startedAt": 1761990001}"#,
    r#"{"id": "R5", "jobId": "J3", "attempt": 3, "createdAt": null, "startedAt": null}"#,
];

fn rfc3339(text: &str) -> i64 {
    DateTime::parse_from_rfc3339(text)
        .expect("RFC 3339")
        .timestamp_millis()
}

/// The API: the runs its bounds keep (created in RFC 3339, started in seconds; inclusive),
/// two a page, with a marker while more remain.
async fn api() -> Stub {
    Stub::start(|seen, _| {
        let p = params(&seen.uri);
        let kept: Vec<&str> = RUNS
            .iter()
            .copied()
            .filter(|run| {
                let v: serde_json::Value = serde_json::from_str(run).expect("run");
                let created = v["createdAt"].as_str().map(rfc3339);
                let started = v["startedAt"].as_i64();
                let within = |value: Option<i64>, lo: Option<i64>, hi: Option<i64>| match value {
                    Some(t) => lo.is_none_or(|lo| t >= lo) && hi.is_none_or(|hi| t <= hi),
                    None => lo.is_none() && hi.is_none(),
                };
                let n = |k: &str| p.get(k).map(|v| v.parse::<i64>().expect("seconds"));
                within(
                    created,
                    p.get("created_after").map(|t| rfc3339(t)),
                    p.get("created_before").map(|t| rfc3339(t)),
                ) && within(started, n("started_from"), n("started_to"))
            })
            .collect();
        let from: usize = p.get("marker").map_or(0, |m| m.parse().expect("marker"));
        let limit: usize = p["limit"].parse().expect("limit");
        let end = (from + limit).min(kept.len());
        let marker = if end < kept.len() {
            format!(r#", "marker": "{end}""#)
        } else {
            String::new()
        };
        Reply::json(
            200,
            format!(r#"{{"items": [{}]{marker}}}"#, kept[from..end].join(",")),
        )
    })
    .await
}

fn millis(rows: &[datafusion::arrow::record_batch::RecordBatch], i: usize) -> Vec<Option<i64>> {
    use datafusion::arrow::array::{Array, TimestampMillisecondArray};
    rows.iter()
        .flat_map(|b| {
            let a = b
                .column(i)
                .as_any()
                .downcast_ref::<TimestampMillisecondArray>()
                .expect("Timestamp(ms)");
            (0..a.len())
                .map(|r| a.is_valid(r).then(|| a.value(r)))
                .collect::<Vec<_>>()
        })
        .collect()
}

#[tokio::test]
async fn camel_case_fields_and_three_time_encodings_read_as_one_timestamp_type() {
    let stub = api().await;
    let ctx = session(&spec(), &stub, None);
    let rows = query(
        &ctx,
        "SELECT job_run_id, job_id, attempt, run_state['code'], parameters, created_at, started_at, \
         finished_at, run_state['since'], retries_at[2] \
         FROM acme.jobs.job_runs ORDER BY job_run_id",
    )
    .await;
    let text = |i| strings(&rows, i);
    assert_eq!(
        text(0),
        ["R1", "R2", "R3", "R4", "R5"].map(|s| Some(s.to_string()))
    );
    assert_eq!(
        text(1),
        ["J1", "J1", "J2", "J2", "J3"].map(|s| Some(s.to_string()))
    );
    assert_eq!(
        ints(&rows, 2),
        [Some(1), Some(2), Some(1), Some(1), Some(3)]
    );
    assert_eq!(text(3)[..2], [Some("running".to_string()), None]);
    assert_eq!(text(4)[..3], [Some(r#"{"a": 1}"#.to_string()), None, None]);
    assert_eq!(
        millis(&rows, 5),
        [
            Some(rfc3339("2026-11-01T08:00:00Z")),
            Some(rfc3339("2026-11-01T11:30:00.250Z")),
            Some(rfc3339("2026-11-02T00:00:00Z")),
            Some(0), // RFC 3339's epoch is a time, not "not set"
            None,
        ]
    );
    assert_eq!(
        millis(&rows, 6),
        [
            Some(1_761_984_000_000),
            None,
            Some(1_761_990_000_000),
            Some(1_761_990_001_000),
            None
        ]
    );
    assert_eq!(
        millis(&rows, 7),
        [None, Some(1_761_990_000_123), None, None, None]
    );
    assert_eq!(millis(&rows, 8)[0], Some(rfc3339("2026-11-01T08:00:00Z")));
    assert_eq!(
        millis(&rows, 9)[0],
        None,
        "an epoch 0 in a list is NULL too"
    );
    let utc_ms = DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()));
    for i in [5, 6, 7, 8, 9] {
        assert_eq!(rows[0].schema().field(i).data_type(), &utc_ms, "column {i}");
    }
    // Five runs, two a page: three marker pages.
    assert_eq!(
        uris(&stub),
        [
            "/me/jobs/runs?limit=2",
            "/me/jobs/runs?limit=2&marker=2",
            "/me/jobs/runs?limit=2&marker=4"
        ]
    );
}

#[tokio::test]
async fn a_range_is_pushed_as_rfc_3339_exactly_and_as_epoch_seconds_rounded_outwards() {
    let stub = api().await;
    let ctx = session(&spec(), &stub, None);
    let (lo, hi) = (
        rfc3339("2026-11-01T08:00:00Z"),
        rfc3339("2026-11-02T00:00:00Z"),
    );
    let rows = query(
        &ctx,
        &format!(
            "SELECT job_run_id FROM acme.jobs.job_runs \
             WHERE created_at > to_timestamp_millis({lo}) AND created_at < to_timestamp_millis({hi})"
        ),
    )
    .await;
    assert_eq!(strings(&rows, 0), [Some("R2".to_string())]);
    assert_eq!(
        uris(&stub).iter().map(|u| params(u)).collect::<Vec<_>>()[0]
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>(),
        [
            "created_after=2026-11-01T08:00:00.001Z",
            "created_before=2026-11-01T23:59:59.999Z",
            "limit=2"
        ]
    );
    // `> 1761990000.5 s`: sent as `started_from=1761990000` (a second that also holds
    // earlier instants), so R3 at .000 comes back from the API and is filtered out here.
    let rows = query(
        &ctx,
        "SELECT job_run_id FROM acme.jobs.job_runs \
         WHERE started_at > to_timestamp_millis(1761990000500) AND started_at <= to_timestamp_millis(1761990000999)",
    )
    .await;
    assert!(
        rows.iter().all(|b| b.num_rows() == 0),
        "{:?}",
        strings(&rows, 0)
    );
    let last = uris(&stub).pop().expect("a request");
    assert_eq!(
        params(&last).into_iter().collect::<Vec<_>>(),
        [
            ("limit".to_string(), "2".to_string()),
            ("started_from".to_string(), "1761990000".to_string()),
            ("started_to".to_string(), "1761990001".to_string())
        ]
    );
    let rows = query(
        &ctx,
        "SELECT job_run_id FROM acme.jobs.job_runs WHERE started_at >= to_timestamp_millis(1761990000000) LIMIT 5",
    )
    .await;
    assert_eq!(
        strings(&rows, 0),
        [Some("R3".to_string()), Some("R4".to_string())]
    );
}
