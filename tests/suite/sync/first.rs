//! The first sync: every run the API has, equal to the live listing column by column, from
//! the listing's pages plus one `runs/get` (and its next page) per run whose tasks the listing
//! cut at 100; one Delta version.

use std::collections::BTreeSet;

use datafusion::arrow::array::{Array, ListArray};

use super::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_sync_of_20000_runs_equals_the_live_listing() {
    let (h, _clock) = standing(20_000).await;
    let ctx = on(&h, &[]);
    let dir = history_dir("first");
    h.clear_requests();
    let report = sync(&ctx, &dir, "emu").await;
    let requests = h.requests();

    assert_eq!(report.counts.new, 20_000, "{report:?}");
    assert_eq!(
        (
            report.counts.updated,
            report.counts.unchanged,
            report.counts.kept
        ),
        (0, 0, 0)
    );
    assert_eq!(report.version, Some(1), "created at 0, one commit of data");
    assert_eq!(
        report.listed_since_ms, None,
        "a first sync lists everything"
    );

    let history = history_rows(&ctx, &dir).await;
    let live = live_rows(&ctx, "emu").await;
    assert_eq!(live.num_rows(), 20_000);
    assert_same_rows(&history, &live);
    let ids = run_ids(&history);
    assert_eq!(
        ids.iter().collect::<BTreeSet<_>>().len(),
        20_000,
        "no run twice"
    );

    // The requests: the listing's pages and a get per run listed with more than 100 tasks.
    let tasks = history.column_by_name("tasks").unwrap();
    let tasks = tasks.as_any().downcast_ref::<ListArray>().unwrap();
    let big: BTreeSet<String> = (0..tasks.len())
        .filter(|&i| tasks.value_length(i) > 100)
        .map(|i| ids[i].to_string())
        .collect();
    assert!(!big.is_empty(), "the history has the big job's runs");
    let lists = requests.iter().filter(|r| r.path == LIST).count();
    let gets: BTreeSet<String> = requests
        .iter()
        .filter(|r| r.path == GET && r.param("page_token").is_none())
        .filter_map(|r| r.param("run_id").map(str::to_string))
        .collect();
    assert!(
        requests.iter().all(|r| r.path == LIST || r.path == GET),
        "only reads"
    );
    assert!(requests.iter().all(|r| r.status == 200));
    assert_eq!(
        gets, big,
        "a get for each run whose tasks runs/list cut, and no other"
    );
    assert!(
        (800..=900).contains(&lists),
        "20,000 runs in pages of 25 (plus the slices' last pages): {lists}"
    );
    assert!(requests
        .iter()
        .filter(|r| r.path == LIST)
        .all(|r| r.param("expand_tasks") == Some("true")));

    // On disk: one directory per start date, the Delta log with versions 0 and 1.
    let table = table_dir(&dir);
    assert!(table.join("_delta_log/00000000000000000000.json").exists());
    assert!(table.join("_delta_log/00000000000000000001.json").exists());
    assert!(!table.join("_delta_log/00000000000000000002.json").exists());
    let partitions = std::fs::read_dir(&table)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("start_date="))
        .count();
    assert!(
        (55..=62).contains(&partitions),
        "60 days of runs: {partitions}"
    );
    h.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
