//! runs/list: pagination over the whole history, limit/offset, page tokens both ways, every
//! filter, expand_tasks, and the 400s.

use std::collections::HashSet;

use super::common::*;

const LIST: &str = "/api/2.2/jobs/runs/list";

#[tokio::test]
async fn walking_the_whole_history_has_no_duplicates_or_gaps() {
    let h = emu(2000, 20).await;
    let api = Api::new(&h);
    let runs = walk(&api, &[]).await;
    assert_eq!(runs.len(), 2000, "every generated run, once");
    let ids = ids(&runs);
    assert_eq!(
        ids.iter().collect::<HashSet<_>>().len(),
        2000,
        "no duplicates"
    );
    for w in runs.windows(2) {
        let (a, b) = (
            w[0]["start_time"].as_i64().unwrap(),
            w[1]["start_time"].as_i64().unwrap(),
        );
        assert!(
            a > b || (a == b && w[0]["run_id"].as_i64() > w[1]["run_id"].as_i64()),
            "newest first"
        );
    }
    // The same history through offset paging (deprecated, still served).
    let mut by_offset = Vec::new();
    for offset in (0..2000).step_by(25) {
        let page = api
            .ok(LIST, &[("limit", "25"), ("offset", &offset.to_string())])
            .await;
        by_offset.extend(page["runs"].as_array().cloned().unwrap_or_default());
    }
    assert_eq!(super::common::ids(&by_offset), ids);
    // Spread over the last 60 days, none in the future.
    let oldest = runs.last().unwrap()["start_time"].as_i64().unwrap();
    assert!(oldest >= NOW - 60 * 86_400_000 && runs[0]["start_time"].as_i64().unwrap() < NOW);
    h.shutdown().await;
}

#[tokio::test]
async fn limit_defaults_bounds_and_zero_meaning_maximum() {
    let h = emu(200, 5).await;
    let api = Api::new(&h);
    assert_eq!(
        api.ok(LIST, &[]).await["runs"].as_array().unwrap().len(),
        20
    );
    assert_eq!(
        api.ok(LIST, &[("limit", "0")]).await["runs"]
            .as_array()
            .unwrap()
            .len(),
        25
    );
    assert_eq!(
        api.ok(LIST, &[("limit", "1")]).await["runs"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        api.ok(LIST, &[("limit", "25")]).await["runs"]
            .as_array()
            .unwrap()
            .len(),
        25
    );
    for bad in ["26", "-1", "abc", "1.5", ""] {
        let (s, v) = api.get(LIST, &[("limit", bad)]).await;
        assert_error(s, &v, 400, "INVALID_PARAMETER_VALUE", "limit");
    }
    h.shutdown().await;
}

#[tokio::test]
async fn offset_skips_and_prev_page_token_goes_back() {
    let h = emu(200, 5).await;
    let api = Api::new(&h);
    let first25 = api.ok(LIST, &[("limit", "25")]).await;
    let all = first25["runs"].as_array().unwrap();
    assert!(
        first25.get("prev_page_token").is_none(),
        "no previous page at the start"
    );
    let off = api.ok(LIST, &[("limit", "5"), ("offset", "5")]).await;
    assert_eq!(ids(off["runs"].as_array().unwrap()), ids(&all[5..10]));
    let (s, v) = api.get(LIST, &[("offset", "-3")]).await;
    assert_error(s, &v, 400, "INVALID_PARAMETER_VALUE", "offset");

    let p1 = api.ok(LIST, &[("limit", "10")]).await;
    let next = p1["next_page_token"].as_str().unwrap();
    let p2 = api.ok(LIST, &[("limit", "10"), ("page_token", next)]).await;
    assert_eq!(ids(p2["runs"].as_array().unwrap()), ids(&all[10..20]));
    let prev = p2["prev_page_token"]
        .as_str()
        .expect("a second page has a previous page");
    let back = api.ok(LIST, &[("limit", "10"), ("page_token", prev)]).await;
    assert_eq!(
        ids(back["runs"].as_array().unwrap()),
        ids(p1["runs"].as_array().unwrap())
    );
    assert!(back.get("prev_page_token").is_none());
    assert_eq!(back["next_page_token"], p1["next_page_token"]);
    h.shutdown().await;
}

#[tokio::test]
async fn page_tokens_are_checked() {
    let h = emu(200, 5).await;
    let api = Api::new(&h);
    for bad in [
        "garbage",
        "0100000000000007ce8ac7231d51426f2368f0b531",
        "zz",
    ] {
        let (s, v) = api.get(LIST, &[("page_token", bad)]).await;
        assert_error(s, &v, 400, "INVALID_PARAMETER_VALUE", "page_token");
    }
    let job = h.notable().job_ids[0].to_string();
    let p = api.ok(LIST, &[("job_id", &job), ("limit", "2")]).await;
    let token = p["next_page_token"].as_str().unwrap();
    // The token belongs to the job_id filter: replaying it without, or with another filter, is refused.
    let (s, v) = api.get(LIST, &[("page_token", token)]).await;
    assert_error(s, &v, 400, "INVALID_PARAMETER_VALUE", "page_token");
    let (s, v) = api
        .get(
            LIST,
            &[
                ("page_token", token),
                ("job_id", &job),
                ("active_only", "true"),
            ],
        )
        .await;
    assert_error(s, &v, 400, "INVALID_PARAMETER_VALUE", "page_token");
    // A different limit is fine.
    api.ok(
        LIST,
        &[("page_token", token), ("job_id", &job), ("limit", "7")],
    )
    .await;
    // An empty page_token is no token.
    api.ok(LIST, &[("page_token", "")]).await;
    h.shutdown().await;
}

#[tokio::test]
async fn every_filter_matches_the_filtered_full_history() {
    let h = emu(1500, 8).await;
    let api = Api::new(&h);
    let all = walk(&api, &[]).await;
    let notable = h.notable();

    for job in notable.job_ids.iter().take(3) {
        let got = walk(&api, &[("job_id", &job.to_string())]).await;
        let want: Vec<_> = all
            .iter()
            .filter(|r| r["job_id"].as_i64() == Some(*job))
            .cloned()
            .collect();
        assert!(!want.is_empty());
        assert_eq!(ids(&got), ids(&want), "job_id {job}");
    }
    for t in ["JOB_RUN", "WORKFLOW_RUN", "SUBMIT_RUN"] {
        let got = walk(&api, &[("run_type", t)]).await;
        let want: Vec<_> = all.iter().filter(|r| r["run_type"] == t).cloned().collect();
        assert!(!want.is_empty(), "{t} present");
        assert_eq!(ids(&got), ids(&want), "run_type {t}");
        if t == "SUBMIT_RUN" {
            assert!(
                got.iter().all(|r| r.get("job_id").is_none()),
                "one-time runs have no job_id"
            );
        }
    }
    let active = walk(&api, &[("active_only", "true")]).await;
    assert!(!active.is_empty() && active.iter().all(is_active));
    let mut want_active = notable.active.clone();
    want_active.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(ids(&active), want_active);
    assert!(
        active.iter().all(|r| r["end_time"] == 0),
        "active runs end at 0"
    );
    let completed = walk(&api, &[("completed_only", "true")]).await;
    assert_eq!(completed.len() + active.len(), all.len());
    assert!(completed.iter().all(|r| !is_active(r)));
    api.ok(
        LIST,
        &[("active_only", "false"), ("completed_only", "true")],
    )
    .await;
    let (s, v) = api
        .get(LIST, &[("active_only", "true"), ("completed_only", "true")])
        .await;
    assert_error(s, &v, 400, "INVALID_PARAMETER_VALUE", "active_only");

    // Time range, inclusive at both ends.
    let t1 = all[100]["start_time"].as_i64().unwrap();
    let t2 = all[40]["start_time"].as_i64().unwrap();
    let range = walk(
        &api,
        &[
            ("start_time_from", &t1.to_string()),
            ("start_time_to", &t2.to_string()),
        ],
    )
    .await;
    assert_eq!(ids(&range), ids(&all[40..=100]));
    let exact = walk(
        &api,
        &[
            ("start_time_from", &t1.to_string()),
            ("start_time_to", &t1.to_string()),
        ],
    )
    .await;
    assert_eq!(ids(&exact), vec![all[100]["run_id"].as_i64().unwrap()]);
    let after = walk(
        &api,
        &[
            ("start_time_from", &(t1 + 1).to_string()),
            ("start_time_to", &t2.to_string()),
        ],
    )
    .await;
    assert_eq!(ids(&after), ids(&all[40..100]));
    let only_from = walk(&api, &[("start_time_from", &t2.to_string())]).await;
    assert_eq!(ids(&only_from), ids(&all[..=40]));
    let only_to = walk(&api, &[("start_time_to", &t1.to_string())]).await;
    assert_eq!(ids(&only_to), ids(&all[100..]));

    // Everything at once.
    let job = notable.job_ids[1];
    let got = walk(
        &api,
        &[
            ("job_id", &job.to_string()),
            ("completed_only", "true"),
            ("run_type", "JOB_RUN"),
            ("start_time_to", &t2.to_string()),
        ],
    )
    .await;
    let want: Vec<_> = all
        .iter()
        .filter(|r| {
            r["job_id"].as_i64() == Some(job)
                && !is_active(r)
                && r["run_type"] == "JOB_RUN"
                && r["start_time"].as_i64().unwrap() <= t2
        })
        .cloned()
        .collect();
    assert!(!want.is_empty());
    assert_eq!(ids(&got), ids(&want));
    h.shutdown().await;
}

#[tokio::test]
async fn bad_filter_values_are_400s_naming_the_parameter() {
    let h = emu(100, 4).await;
    let api = Api::new(&h);
    for (name, value) in [
        ("job_id", "abc"),
        ("active_only", "yes"),
        ("completed_only", "1"),
        ("expand_tasks", "maybe"),
        ("run_type", "NIGHTLY"),
        ("start_time_from", "yesterday"),
        ("start_time_to", "-5"),
    ] {
        let (s, v) = api.get(LIST, &[(name, value)]).await;
        assert_error(s, &v, 400, "INVALID_PARAMETER_VALUE", name);
    }
    let (s, v) = api.get(LIST, &[("job_id", "12345")]).await;
    assert_error(
        s,
        &v,
        400,
        "INVALID_PARAMETER_VALUE",
        "Job 12345 does not exist.",
    );
    h.shutdown().await;
}

#[tokio::test]
async fn an_empty_result_omits_runs() {
    let h = emu(100, 4).await;
    let api = Api::new(&h);
    let page = api
        .ok(
            LIST,
            &[("start_time_from", &(NOW + 86_400_000).to_string())],
        )
        .await;
    assert!(page.get("runs").is_none(), "{page}");
    assert_eq!(page["has_more"], false);
    assert!(page.get("next_page_token").is_none());
    h.shutdown().await;
}

#[tokio::test]
async fn expand_tasks_adds_at_most_100_tasks_and_job_clusters() {
    let h = emu(2000, 20).await;
    let api = Api::new(&h);
    let plain = api.ok(LIST, &[("limit", "25")]).await;
    for r in plain["runs"].as_array().unwrap() {
        assert!(
            r.get("tasks").is_none() && r.get("job_clusters").is_none(),
            "no tasks without expand_tasks"
        );
    }
    let big = h.notable().big_multi_task[0];
    let runs = walk(
        &api,
        &[
            ("expand_tasks", "true"),
            ("job_id", &h.notable().job_ids[19].to_string()),
        ],
    )
    .await;
    let run = runs
        .iter()
        .find(|r| r["run_id"] == big)
        .expect("the big run is listed");
    assert_eq!(run["tasks"].as_array().unwrap().len(), 100);
    assert_eq!(run["job_clusters"].as_array().unwrap().len(), 100);
    assert_eq!(run["job_parameters"].as_array().unwrap().len(), 100);
    assert_eq!(run["has_more"], true);
    // job_parameters are listed without expand_tasks too, and cut the same way.
    let plain = walk(&api, &[("job_id", &h.notable().job_ids[19].to_string())]).await;
    let run = plain
        .iter()
        .find(|r| r["run_id"] == big)
        .expect("the big run is listed");
    assert!(run.get("tasks").is_none());
    assert_eq!(run["job_parameters"].as_array().unwrap().len(), 100);
    assert_eq!(run["has_more"], true);
    let small = walk(
        &api,
        &[
            ("expand_tasks", "true"),
            ("limit", "25"),
            ("run_type", "SUBMIT_RUN"),
        ],
    )
    .await;
    assert!(small
        .iter()
        .all(|r| r["tasks"].as_array().map(Vec::len) == Some(1) && r.get("has_more").is_none()));
    h.shutdown().await;
}
