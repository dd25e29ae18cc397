//! Reading a partial write's report: `INSERT INTO t: 1 of 3 rows created, 1 failed, 1 unknown`
//! and a line per row.

/// Assert that `message` reports a three-row INSERT of which one row was created (its new
/// `id_column` named), row 2 refused by the API (HTTP 400 at `path`) and one unknown; returns
/// the UNKNOWN row's line.
pub fn one_created_failed_unknown<'a>(message: &'a str, path: &str, id_column: &str) -> &'a str {
    assert!(
        message.contains("1 of 3 rows created, 1 failed, 1 unknown"),
        "{message}"
    );
    let lines: Vec<&str> = message.lines().skip(1).collect();
    assert_eq!(lines.len(), 3, "{message}");
    assert!(
        lines[1].starts_with(&format!("  row 2: FAILED: POST {path}")),
        "{message}"
    );
    assert!(lines[1].contains("HTTP 400"), "{message}");
    let created = lines
        .iter()
        .filter(|l| l.contains(&format!(": created, {id_column} ")))
        .count();
    let unknown: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| l.contains(": UNKNOWN, "))
        .collect();
    assert_eq!((created, unknown.len()), (1, 1), "{message}");
    unknown[0]
}
