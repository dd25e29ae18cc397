//! `--format table` is for reading: durations as `4m 15s`, floats rounded, wide cells cut with
//! `…`; CSV and JSON keep every value whole. Run as a user runs `jobsql query --demo`.

use crate::support::cli::{jobsql, stderr, stdout};

const SQL: &str = "SELECT run_id, end_time - start_time AS took, \
    arrow_cast(end_time, 'Int64') - arrow_cast(start_time, 'Int64') AS ms, \
    CAST(run_duration AS DOUBLE) / 3 AS third, tasks \
    FROM databricks_workspace.jobs.job_runs WHERE completed_only = true ORDER BY run_id LIMIT 5";

/// The cells of each data row of an arrow pretty table.
fn cells(table: &str) -> Vec<Vec<String>> {
    table
        .lines()
        .filter(|l| l.starts_with('|'))
        .skip(1)
        .map(|l| {
            l.trim_matches('|')
                .split('|')
                .map(|c| c.trim().to_string())
                .collect()
        })
        .collect()
}

/// `4m 15s`, `1h 2m 3s`, `12.5s`, written independently of the code under test.
fn expected_duration(ms: i64) -> String {
    if ms < 60_000 {
        let s = format!("{:.2}", ms as f64 / 1000.0);
        return format!("{}s", s.trim_end_matches('0').trim_end_matches('.'));
    }
    let secs = (ms + 500) / 1000;
    let (d, h, m, s) = (
        secs / 86_400,
        secs % 86_400 / 3600,
        secs % 3600 / 60,
        secs % 60,
    );
    [(d, "d"), (h, "h"), (m, "m"), (s, "s")]
        .iter()
        .filter(|(n, _)| *n != 0)
        .map(|(n, u)| format!("{n}{u}"))
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn table_output_shows_durations_rounded_floats_and_cut_cells() {
    let o = jobsql(&["query", "--demo", SQL]);
    assert!(o.status.success(), "{}", stderr(&o));
    let table = stdout(&o);
    assert!(!table.contains("PT"), "no ISO durations: {table}");
    let rows = cells(&table);
    assert_eq!(rows.len(), 5, "{table}");

    let json = jobsql(&["query", "--demo", "--format", "json", SQL]);
    assert!(json.status.success(), "{}", stderr(&json));
    let whole: serde_json::Value = serde_json::from_str(&stdout(&json)).expect("JSON");
    for (row, full) in rows.iter().zip(whole.as_array().expect("an array")) {
        let [_, took, ms, third, tasks] = &row[..] else {
            panic!("5 cells: {row:?}");
        };
        let ms: i64 = ms.parse().expect("ms is an integer");
        assert_eq!(took, &expected_duration(ms), "{row:?}");
        // Rounded to 2 decimals in the table; whole in JSON.
        let exact = full["third"].as_f64().expect("a float");
        let shown: f64 = third.parse().expect("a number");
        assert!((shown - exact).abs() <= 0.005, "{third} for {exact}");
        assert!(
            third.split('.').nth(1).is_none_or(|d| d.len() <= 2),
            "{third}"
        );
        // A run's tasks are far wider than a screen: cut to 60 characters.
        let whole_tasks = full["tasks"].to_string();
        assert!(whole_tasks.chars().count() > 60, "{whole_tasks}");
        assert_eq!(tasks.chars().count(), 60, "{tasks}");
        assert!(tasks.ends_with('…'), "{tasks}");
    }
    assert!(
        table.lines().all(|l| l.chars().count() < 200),
        "every line is readable: {table}"
    );
}

#[test]
fn csv_and_json_keep_every_value_whole() {
    let csv = jobsql(&["query", "--demo", "--format", "csv", SQL]);
    assert!(csv.status.success(), "{}", stderr(&csv));
    let text = stdout(&csv);
    assert!(!text.contains('…'), "{text}");
    let json = jobsql(&["query", "--demo", "--format", "json", SQL]);
    let rows: serde_json::Value = serde_json::from_str(&stdout(&json)).expect("JSON");
    let first = &rows[0];
    assert!(first["tasks"].is_array(), "{first}");
    let third = first["third"].as_f64().expect("a float");
    let duration = third * 3.0;
    assert!(
        (duration - duration.round()).abs() < 1e-6,
        "not rounded: {third}"
    );
}

#[test]
fn describe_by_a_short_name_keeps_its_descriptions_whole() {
    let specs = jobsql_core::spec::load_embedded().expect("specs");
    let runs = specs
        .resources
        .iter()
        .find(|r| r.name == "job_runs")
        .expect("job_runs");
    let tasks = &runs.columns[runs.column_index("tasks").expect("tasks")];
    assert!(tasks.description.chars().count() > 60);
    for name in ["job_runs", "jobs.job_runs"] {
        let o = jobsql(&["query", "--demo", &format!("DESCRIBE {name}")]);
        assert!(o.status.success(), "{name}: {}", stderr(&o));
        let table = stdout(&o);
        let row = cells(&table)
            .into_iter()
            .find(|r| r[0] == "tasks")
            .expect("a tasks row");
        // The description whole; the long struct type cut.
        assert_eq!(row[4], tasks.description, "{name}");
        assert_eq!(row[3], "field");
        assert!(
            row[1].starts_with("List(") && row[1].ends_with('…'),
            "{}",
            row[1]
        );
    }
}

#[test]
fn short_names_resolve_in_query() {
    let count = |name: &str| {
        let sql = format!("SELECT count(*) AS n FROM {name} WHERE run_type = 'JOB_RUN'");
        let o = jobsql(&["query", "--demo", "--format", "csv", &sql]);
        assert!(o.status.success(), "{name}: {}", stderr(&o));
        stdout(&o)
    };
    let full = count("databricks_workspace.jobs.job_runs");
    assert!(full.starts_with("n\n") && full != "n\n0\n", "{full}");
    assert_eq!(count("job_runs"), full);
    assert_eq!(count("jobs.job_runs"), full);
}
