//! `--dry-run`: mutations are recorded, never sent; reads still run.

use super::common::*;

#[tokio::test]
async fn a_dry_run_sends_no_mutation_but_lists_every_request() {
    let env = env().await;
    let (ctx, log) = session(&env.emulator, true);
    let log = log.expect("dry-run log");
    let (done, _) = env
        .run(&format!(
            "SELECT run_id FROM {RUNS} WHERE completed_only = true LIMIT 2"
        ))
        .await;
    let done: Vec<i64> = ints(&done, 0).into_iter().flatten().collect();
    env.emulator.clear_requests();
    let task = r#"[{"task_key":"t"}]"#;
    let script = format!(
        "INSERT INTO {RUNS} (data__run_name, data__tasks) VALUES ('never', '{task}');\
         DELETE FROM {RUNS} WHERE run_id = {};\
         DELETE FROM {RUNS} WHERE run_id IN ({}, {}) AND run_name IS NOT NULL;\
         EXEC {RUNS}.cancel @run_id = {};",
        done[0], done[0], done[1], done[1]
    );
    let results = jobsql_core::session::run_sql(&ctx, &script)
        .await
        .expect("dry run");
    assert_eq!(
        count(&results[0].batches),
        1,
        "INSERT: one row would be submitted"
    );
    assert_eq!(count(&results[1].batches), 1);
    assert_eq!(
        count(&results[2].batches),
        2,
        "the read ran: both runs match"
    );
    let requests = env.emulator.requests();
    assert!(
        mutations(&requests).is_empty(),
        "nothing was sent: {requests:?}"
    );
    assert!(!requests.is_empty(), "the DELETE's read did run");

    let planned = log.take();
    let lines: Vec<String> = planned.iter().map(|p| p.to_string()).collect();
    assert_eq!(planned.len(), 5, "{lines:#?}");
    let base = env.emulator.base_url();
    assert!(
        lines[0].starts_with(&format!(
            "POST {}/api/2.2/jobs/runs/submit {{",
            base.trim_end_matches('/')
        )),
        "{}",
        lines[0]
    );
    assert!(lines[0].contains("\"run_name\":\"never\""), "{}", lines[0]);
    assert!(
        lines[1].contains(&format!("runs/delete {{\"run_id\":{}}}", done[0])),
        "{}",
        lines[1]
    );
    assert!(lines[4].contains("runs/cancel"), "{}", lines[4]);
    for line in &lines {
        assert!(line.contains("Bearer ****"), "{line}");
        assert!(
            !line.contains(env.emulator.token()),
            "the token is masked: {line}"
        );
    }
}
