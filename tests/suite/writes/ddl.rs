//! DDL cannot drop or replace an API table, in any session the tables are registered in.

use super::common::*;

#[tokio::test]
async fn api_tables_cannot_be_dropped_or_replaced() {
    let env = env().await;
    for (sql, want) in [
        (
            format!("DROP TABLE {RUNS}"),
            "is an API table: it cannot be dropped",
        ),
        (
            format!("DROP TABLE IF EXISTS {RUNS}"),
            "is an API table: it cannot be dropped",
        ),
        (
            format!("CREATE OR REPLACE TABLE {RUNS} AS SELECT 1 AS run_id"),
            "is an API table: it cannot be dropped",
        ),
        (
            format!("CREATE OR REPLACE VIEW {RUNS} AS SELECT 1 AS run_id"),
            "is an API table: it cannot be",
        ),
        (
            format!("CREATE TABLE {RUNS} AS SELECT 1 AS run_id"),
            "already exists",
        ),
    ] {
        let (message, requests) = env.fail(&sql).await;
        assert!(message.contains(want), "{sql}: {message}");
        assert!(requests.is_empty(), "{sql}: {requests:?}");
    }
    // DROP SCHEMA: refused by the guarded catalog, or (with information_schema on, as here)
    // by DataFusion's wrapper of it, which cannot drop schemas at all.
    let (message, _) = env
        .fail("DROP SCHEMA databricks_workspace.jobs CASCADE")
        .await;
    assert!(
        message.contains("holds API tables: it cannot be dropped")
            || message.contains("Deregistering new schemas is not supported"),
        "{message}"
    );
    // The table is still the API's: a SELECT calls it.
    let (rows, requests) = env.run(&format!("SELECT run_id FROM {RUNS} LIMIT 1")).await;
    assert_eq!(ints(&rows, 0).len(), 1);
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(requests[0].path, "/api/2.2/jobs/runs/list");
}

#[tokio::test]
async fn local_tables_beside_them_come_and_go() {
    let env = env().await;
    let mine = "databricks_workspace.jobs.mine";
    query(&env.ctx, &format!("CREATE TABLE {mine} AS SELECT 1 AS x")).await;
    query(
        &env.ctx,
        &format!("CREATE OR REPLACE TABLE {mine} AS SELECT 2 AS x"),
    )
    .await;
    let rows = query(&env.ctx, &format!("SELECT x FROM {mine}")).await;
    assert_eq!(ints(&rows, 0), [Some(2)]);
    query(&env.ctx, &format!("DROP TABLE {mine}")).await;
    let (message, _) = env.fail(&format!("SELECT x FROM {mine}")).await;
    assert!(message.contains("not found"), "{message}");
}
