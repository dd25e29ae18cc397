//! The 2.1 and 2.0 prefixes page as those versions do: lists of a run or job whole, and 2.0's
//! runs/list by offset only (limit up to 1000, no page tokens), its jobs/list unpaged.

use serde_json::Value;

use super::common::*;

fn len(v: &Value) -> usize {
    v.as_array().map_or(0, Vec::len)
}

#[tokio::test]
async fn runs_list_pages_per_version() {
    let h = emu(200, 5).await;
    let api = Api::new(&h);
    let v22 = api.ok("/api/2.2/jobs/runs/list", &[("limit", "5")]).await;
    let v21 = api.ok("/api/2.1/jobs/runs/list", &[("limit", "5")]).await;
    assert_eq!(v21, v22, "2.1 lists runs as 2.2 does");
    assert!(v21["next_page_token"].is_string() && v21["has_more"] == true);

    let v20 = api.ok("/api/2.0/jobs/runs/list", &[("limit", "5")]).await;
    assert_eq!(
        ids(&v20["runs"].as_array().unwrap()[..]),
        ids(&v22["runs"].as_array().unwrap()[..])
    );
    assert_eq!(v20["has_more"], true);
    assert!(v20.get("next_page_token").is_none() && v20.get("prev_page_token").is_none());
    let second = api
        .ok(
            "/api/2.0/jobs/runs/list",
            &[
                ("limit", "5"),
                ("offset", "5"),
                ("page_token", v22["next_page_token"].as_str().unwrap()),
            ],
        )
        .await;
    assert!(second.get("prev_page_token").is_none());
    let by_token = api
        .ok(
            "/api/2.2/jobs/runs/list",
            &[
                ("limit", "5"),
                ("page_token", v22["next_page_token"].as_str().unwrap()),
            ],
        )
        .await;
    // The same runs (2.2 cuts a listed run's job_parameters at 100, 2.0 does not).
    assert_eq!(
        ids(&second["runs"].as_array().unwrap()[..]),
        ids(&by_token["runs"].as_array().unwrap()[..]),
        "2.0 pages by offset"
    );

    let everything = walk(&api, &[]).await;
    let all = api
        .ok("/api/2.0/jobs/runs/list", &[("limit", "1000")])
        .await;
    assert_eq!(ids(&all["runs"].as_array().unwrap()[..]), ids(&everything));
    assert_eq!(all["has_more"], false);
    assert_eq!(
        len(&api.ok("/api/2.0/jobs/runs/list", &[("limit", "0")]).await["runs"]),
        everything.len(),
        "0 means the maximum, 1000"
    );
    assert_eq!(
        len(&api.ok("/api/2.0/jobs/runs/list", &[("limit", "26")]).await["runs"]),
        26
    );
    for (v, bad) in [("2.0", "1001"), ("2.1", "26"), ("2.2", "26")] {
        let (s, b) = api
            .get(&format!("/api/{v}/jobs/runs/list"), &[("limit", bad)])
            .await;
        assert_error(s, &b, 400, "INVALID_PARAMETER_VALUE", "limit");
    }
    h.shutdown().await;
}

#[tokio::test]
async fn runs_get_and_expand_tasks_return_whole_lists_before_2_2() {
    let h = emu(300, 6).await;
    let api = Api::new(&h);
    let big = h.notable().big_multi_task[0];
    let id = big.to_string();
    let p22 = api.ok("/api/2.2/jobs/runs/get", &[("run_id", &id)]).await;
    assert_eq!(len(&p22["tasks"]), 100);
    assert!(p22["next_page_token"].is_string());
    for v in ["2.1", "2.0"] {
        let whole = api
            .ok(&format!("/api/{v}/jobs/runs/get"), &[("run_id", &id)])
            .await;
        assert_eq!(len(&whole["tasks"]), 130, "{v}");
        assert!(len(&whole["job_clusters"]) > 100 && len(&whole["job_parameters"]) > 100);
        assert!(whole.get("next_page_token").is_none(), "{v}");
        assert_eq!(whole["tasks"][0], p22["tasks"][0]);
        // A page token means nothing there.
        let again = api
            .ok(
                &format!("/api/{v}/jobs/runs/get"),
                &[
                    ("run_id", &id),
                    ("page_token", p22["next_page_token"].as_str().unwrap()),
                ],
            )
            .await;
        assert_eq!(again, whole);
    }
    let heavy = h.notable().repaired[0].to_string();
    let q = [("run_id", heavy.as_str()), ("include_history", "true")];
    assert_eq!(
        len(&api.ok("/api/2.2/jobs/runs/get", &q).await["repair_history"]),
        100
    );
    assert!(len(&api.ok("/api/2.1/jobs/runs/get", &q).await["repair_history"]) > 100);

    let job = h.notable().job_ids.last().copied().unwrap().to_string();
    let q = [
        ("job_id", job.as_str()),
        ("run_type", "JOB_RUN"),
        ("expand_tasks", "true"),
        ("limit", "1"),
    ];
    let l22 = api.ok("/api/2.2/jobs/runs/list", &q).await;
    assert_eq!(
        (len(&l22["runs"][0]["tasks"]), &l22["runs"][0]["has_more"]),
        (100, &Value::Bool(true))
    );
    let l21 = api.ok("/api/2.1/jobs/runs/list", &q).await;
    assert_eq!(len(&l21["runs"][0]["tasks"]), 130);
    assert!(l21["runs"][0].get("has_more").is_none());
    h.shutdown().await;
}

#[tokio::test]
async fn jobs_get_and_list_per_version() {
    let h = emu(200, 23).await;
    let api = Api::new(&h);
    let big = h.notable().job_ids.last().copied().unwrap().to_string();
    let p22 = api.ok("/api/2.2/jobs/get", &[("job_id", &big)]).await;
    assert_eq!(len(&p22["settings"]["tasks"]), 100);
    for v in ["2.1", "2.0"] {
        let whole = api
            .ok(&format!("/api/{v}/jobs/get"), &[("job_id", &big)])
            .await;
        assert_eq!(len(&whole["settings"]["tasks"]), 130, "{v}");
        assert_eq!(len(&whole["settings"]["job_clusters"]), 105);
        assert!(whole.get("next_page_token").is_none());
        assert_eq!(whole["settings"]["name"], p22["settings"]["name"]);
    }
    let q = [("expand_tasks", "true"), ("limit", "100")];
    let l22 = api.ok("/api/2.2/jobs/list", &q).await;
    let l21 = api.ok("/api/2.1/jobs/list", &q).await;
    let last = |l: &Value| l["jobs"].as_array().unwrap().last().cloned().unwrap();
    assert_eq!(
        (
            len(&last(&l22)["settings"]["tasks"]),
            &last(&l22)["has_more"]
        ),
        (100, &Value::Bool(true))
    );
    assert_eq!(len(&last(&l21)["settings"]["tasks"]), 130);
    assert!(last(&l21).get("has_more").is_none());
    // 2.1 pages jobs as 2.2 does; 2.0 lists every job with its settings, unpaged.
    let first21 = api.ok("/api/2.1/jobs/list", &[]).await;
    assert_eq!(
        (len(&first21["jobs"]), &first21["has_more"]),
        (20, &Value::Bool(true))
    );
    let all20 = api.ok("/api/2.0/jobs/list", &[("limit", "2")]).await;
    let jobs = all20["jobs"].as_array().unwrap();
    assert_eq!(
        jobs.iter()
            .map(|j| j["job_id"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        h.notable().job_ids
    );
    assert!(jobs.iter().all(|j| j["settings"]["tasks"].is_array()));
    assert_eq!(all20.as_object().map(|o| o.len()), Some(1), "only jobs");
    h.shutdown().await;
}
