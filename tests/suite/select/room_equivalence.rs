//! Random predicates on clean-room task runs: every result equals the answer computed here from
//! the raw JSON pages of `GET /api/2.0/clean-rooms/{room}/runs` (fetched with reqwest).

use std::collections::BTreeSet;

use serde_json::Value;

use super::common::*;

const TASK_RUNS: &str = "databricks_workspace.cleanrooms.task_runs";

/// (room, collaborator_job_run_id, notebook, start_ms, alias, has an expiration time)
type Row = (String, i64, String, i64, String, bool);
type Eval = Box<dyn Fn(&Row) -> bool>;

/// Every task run of `room`, from the raw pages.
async fn raw_task_runs(emulator: &jobsql_emulator::EmulatorHandle, room: &str) -> Vec<Value> {
    let client = reqwest::Client::new();
    let (mut out, mut token) = (Vec::new(), None::<String>);
    loop {
        let mut q = vec![("page_size".to_string(), "100".to_string())];
        q.extend(token.iter().map(|t| ("page_token".to_string(), t.clone())));
        let page: Value = client
            .get(format!(
                "{}/api/2.0/clean-rooms/{room}/runs",
                emulator.base_url()
            ))
            .bearer_auth(emulator.token())
            .query(&q)
            .send()
            .await
            .expect("request")
            .json()
            .await
            .expect("json");
        out.extend(page["runs"].as_array().into_iter().flatten().cloned());
        match page["next_page_token"].as_str() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => return out,
        }
    }
}

#[tokio::test]
async fn clean_room_task_runs_give_exactly_the_raw_api_answer() {
    let env = env(50).await;
    let rooms = env.emulator.notable().clean_rooms;
    assert!(rooms.len() >= 2);
    let mut all = Vec::new();
    for room in &rooms {
        for r in raw_task_runs(&env.emulator, room).await {
            let info = &r["collaborator_job_run_info"];
            all.push((
                room.clone(),
                info["collaborator_job_run_id"].as_i64().expect("id"),
                r["notebook_name"].as_str().unwrap_or_default().to_string(),
                r["start_time"].as_i64().expect("start"),
                info["collaborator_alias"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                r.get("output_schema_expiration_time").is_some(),
            ));
        }
    }
    let notebooks: Vec<String> = all
        .iter()
        .map(|r| r.2.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let times: Vec<i64> = all.iter().map(|r| r.3).collect();
    let mut rng = Rng(77);
    for case in 0..40 {
        let (r1, r2) = (rng.pick(&rooms).clone(), rng.pick(&rooms).clone());
        let (nb, nb2) = (rng.pick(&notebooks).clone(), rng.pick(&notebooks).clone());
        let t = *rng.pick(&times);
        let room_atom: (String, Vec<String>) = if rng.below(2) == 0 {
            (format!("clean_room_name = '{r1}'"), vec![r1.clone()])
        } else {
            (
                format!("clean_room_name IN ('{r1}', '{r2}')"),
                vec![r1.clone(), r2.clone()],
            )
        };
        let mut sql = vec![room_atom.0];
        let mut evals: Vec<Eval> = Vec::new();
        for _ in 0..rng.below(3) {
            let (s, e): (String, Eval) = match rng.below(7) {
                0 => (format!("notebook_name = '{nb}'"), {
                    let nb = nb.clone();
                    Box::new(move |r| r.2 == nb)
                }),
                1 => (format!("notebook_name IN ('{nb}', '{nb2}')"), {
                    let (a, b) = (nb.clone(), nb2.clone());
                    Box::new(move |r| r.2 == a || r.2 == b)
                }),
                2 => (
                    "notebook_name LIKE 'a%'".into(),
                    Box::new(|r| r.2.starts_with('a')),
                ),
                3 => (
                    format!("start_time > to_timestamp_millis({t})"),
                    Box::new(move |r| r.3 > t),
                ),
                4 => (
                    "collaborator_job_run_info['collaborator_alias'] = 'creator'".into(),
                    Box::new(|r| r.4 == "creator"),
                ),
                5 => (
                    "output_schema_expiration_time IS NULL".into(),
                    Box::new(|r| !r.5),
                ),
                _ => (format!("clean_room_name = '{r2}'"), {
                    let r2 = r2.clone();
                    Box::new(move |r| r.0 == r2)
                }),
            };
            sql.push(s);
            evals.push(e);
        }
        let predicate = sql.join(" AND ");
        let mut want: Vec<(String, i64)> = all
            .iter()
            .filter(|r| room_atom.1.contains(&r.0) && evals.iter().all(|e| e(r)))
            .map(|r| (r.0.clone(), r.1))
            .collect();
        want.sort();
        want.dedup();
        let (batches, requests) = env
            .run(&format!("SELECT clean_room_name, collaborator_job_run_info['collaborator_job_run_id'] FROM {TASK_RUNS} WHERE {predicate}"))
            .await;
        let mut got = pairs(&batches);
        got.sort();
        assert_same(&got, &want, &format!("case {case}: WHERE {predicate}"));
        assert!(requests
            .iter()
            .all(|r| r.path.starts_with("/api/2.0/clean-rooms/") && r.status == 200));
    }
}
