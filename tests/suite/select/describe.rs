//! `DESCRIBE` shows each column's kind (`field`, `parameter`, `insert only`) and its spec
//! description, beside DataFusion's columns; `information_schema` and `SHOW COLUMNS` still
//! answer the same columns.

use jobsql_core::spec::load_embedded;

use super::common::*;

const JOBS: &str = "databricks_workspace.jobs.jobs";

/// `(column_name, data_type, kind, description)` of each row of `DESCRIBE table`.
type Described = Vec<(String, String, Option<String>, Option<String>)>;

async fn describe(env: &Env, table: &str) -> Described {
    let (batches, requests) = env.run(&format!("DESCRIBE {table}")).await;
    assert!(requests.is_empty(), "DESCRIBE calls no API: {requests:?}");
    let names = strings(&batches, 0);
    let types = strings(&batches, 1);
    let kinds = strings(&batches, 3);
    let descriptions = strings(&batches, 4);
    (0..names.len())
        .map(|i| {
            (
                names[i].clone().unwrap_or_default(),
                types[i].clone().unwrap_or_default(),
                kinds[i].clone(),
                descriptions[i].clone(),
            )
        })
        .collect()
}

#[tokio::test]
async fn describe_shows_the_spec_descriptions_and_the_parameters() {
    let env = env(50).await;
    let specs = load_embedded().expect("the embedded specs load");
    for table in [RUNS, JOBS] {
        let described = describe(&env, table).await;
        let resource = specs
            .resources
            .iter()
            .find(|r| r.qualified_name() == table)
            .expect("a spec resource");
        for column in &resource.columns {
            let row = described
                .iter()
                .find(|r| r.0 == column.name)
                .unwrap_or_else(|| panic!("{table}: no row for {}", column.name));
            let kind = if column.is_parameter {
                "parameter"
            } else {
                "field"
            };
            assert_eq!(row.2.as_deref(), Some(kind), "{table}.{}", column.name);
            let want = Some(column.description.clone()).filter(|d| !d.is_empty());
            assert_eq!(row.3, want, "{table}.{}", column.name);
        }
        // The INSERT-only columns follow, marked so.
        let inserts: Vec<&str> = described
            .iter()
            .filter(|r| r.2.as_deref() == Some("insert only"))
            .map(|r| r.0.as_str())
            .collect();
        assert_eq!(
            described.len(),
            resource.columns.len() + inserts.len(),
            "{described:?}"
        );
        assert!(
            inserts.iter().all(|n| n.starts_with("data__")),
            "{inserts:?}"
        );
    }
    let runs = describe(&env, RUNS).await;
    let kind_of = |n: &str| runs.iter().find(|r| r.0 == n).and_then(|r| r.2.clone());
    assert_eq!(kind_of("active_only").as_deref(), Some("parameter"));
    assert_eq!(kind_of("start_time_from").as_deref(), Some("parameter"));
    assert_eq!(kind_of("start_time").as_deref(), Some("field"));
    let jobs = describe(&env, JOBS).await;
    let name = jobs.iter().find(|r| r.0 == "name").expect("jobs.name");
    assert_eq!(
        (name.1.as_str(), name.2.as_deref()),
        ("Utf8", Some("field"))
    );
}

#[tokio::test]
async fn information_schema_and_show_columns_answer_the_same_columns() {
    let env = env(50).await;
    let described: Vec<String> = describe(&env, RUNS)
        .await
        .into_iter()
        .map(|r| r.0)
        .collect();
    let (batches, requests) = env
        .run(
            "SELECT column_name FROM information_schema.columns \
             WHERE table_catalog = 'databricks_workspace' AND table_schema = 'jobs' \
             AND table_name = 'job_runs' ORDER BY ordinal_position",
        )
        .await;
    assert!(requests.is_empty());
    let listed: Vec<String> = strings(&batches, 0).into_iter().flatten().collect();
    assert_eq!(listed, described);
    let (batches, _) = env.run(&format!("SHOW COLUMNS FROM {RUNS}")).await;
    let shown: Vec<String> = strings(&batches, 3).into_iter().flatten().collect();
    assert_eq!(shown, described, "SHOW COLUMNS' column_name");
}

#[tokio::test]
async fn describe_of_a_query_keeps_what_its_columns_come_from() {
    let env = env(50).await;
    let (batches, requests) = env
        .run(&format!(
            "DESCRIBE SELECT run_id, active_only, 1 AS one FROM {RUNS}"
        ))
        .await;
    assert!(requests.is_empty());
    assert_eq!(
        strings(&batches, 0),
        [
            Some("run_id".into()),
            Some("active_only".into()),
            Some("one".into())
        ]
    );
    assert_eq!(
        strings(&batches, 3),
        [Some("field".into()), Some("parameter".into()), None]
    );
}
