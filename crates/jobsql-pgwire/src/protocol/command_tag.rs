//! The command tag Postgres answers a statement with (`SELECT`, `INSERT 0 3`, `CREATE VIEW`,
//! `DROP TABLE`, ...), read off the parsed statement — never off its text, where `WITH x AS
//! (...) SELECT`, `(SELECT 1)` or a leading comment would name the wrong command.

use datafusion::sql::parser::Statement as DfStatement;
use datafusion::sql::sqlparser::ast::Statement as SqlStatement;

use jobsql_core::sql::Statement;

/// The tag of `statement`'s command, as Postgres names it (without the row count).
pub fn command_tag(statement: &Statement) -> String {
    let sql = match statement {
        Statement::Exec(_) => return "EXEC".into(),
        Statement::Sql(df) => match df.as_ref() {
            DfStatement::Statement(sql) => sql.as_ref(),
            DfStatement::CreateExternalTable(_) => return "CREATE EXTERNAL TABLE".into(),
            DfStatement::CopyTo(_) => return "COPY".into(),
            DfStatement::Explain(_) => return "EXPLAIN".into(),
            DfStatement::Reset(_) => return "RESET".into(),
        },
    };
    match sql {
        SqlStatement::Query(_) => "SELECT".into(),
        SqlStatement::Insert(_) => "INSERT".into(),
        SqlStatement::Delete(_) => "DELETE".into(),
        SqlStatement::Update { .. } => "UPDATE".into(),
        SqlStatement::Explain { .. } | SqlStatement::ExplainTable { .. } => "EXPLAIN".into(),
        SqlStatement::CreateView { .. } => "CREATE VIEW".into(),
        SqlStatement::CreateTable(_) => "CREATE TABLE".into(),
        SqlStatement::CreateSchema { .. } => "CREATE SCHEMA".into(),
        SqlStatement::CreateDatabase { .. } => "CREATE DATABASE".into(),
        SqlStatement::CreateFunction(_) => "CREATE FUNCTION".into(),
        SqlStatement::Drop { object_type, .. } => format!("DROP {object_type}"),
        SqlStatement::Set(_) => "SET".into(),
        SqlStatement::ShowVariable { .. }
        | SqlStatement::ShowTables { .. }
        | SqlStatement::ShowColumns { .. }
        | SqlStatement::ShowFunctions { .. } => "SHOW".into(),
        SqlStatement::Copy { .. } => "COPY".into(),
        SqlStatement::StartTransaction { .. } => "BEGIN".into(),
        SqlStatement::Commit { .. } => "COMMIT".into(),
        SqlStatement::Rollback { .. } => "ROLLBACK".into(),
        SqlStatement::Prepare { .. } => "PREPARE".into(),
        SqlStatement::Execute { .. } => "EXECUTE".into(),
        SqlStatement::Deallocate { .. } => "DEALLOCATE".into(),
        SqlStatement::Truncate { .. } => "TRUNCATE TABLE".into(),
        // Anything else DataFusion plans answers rows or nothing: Postgres' generic tag for a
        // utility statement.
        _ => "OK".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jobsql_core::sql::parse_script;

    fn tag(sql: &str) -> String {
        let statements = parse_script(sql).expect("parses");
        command_tag(&statements[0])
    }

    #[test]
    fn tags_are_read_off_the_statement_not_its_first_word() {
        for (sql, want) in [
            ("SELECT 1", "SELECT"),
            ("(SELECT 1)", "SELECT"),
            ("WITH x AS (SELECT 1) SELECT * FROM x", "SELECT"),
            ("/* DELETE */ -- INSERT\n SELECT 1", "SELECT"),
            ("VALUES (1)", "SELECT"),
            ("INSERT INTO t VALUES (1)", "INSERT"),
            ("DELETE FROM t WHERE a = 1", "DELETE"),
            ("UPDATE t SET a = 1", "UPDATE"),
            ("CREATE VIEW v AS SELECT 1", "CREATE VIEW"),
            ("DROP VIEW v", "DROP VIEW"),
            ("DROP TABLE IF EXISTS t", "DROP TABLE"),
            ("SET datafusion.execution.batch_size = 100", "SET"),
            ("SHOW TABLES", "SHOW"),
            ("EXPLAIN SELECT 1", "EXPLAIN"),
            ("COPY (SELECT 1) TO 'x.csv'", "COPY"),
            (
                "CREATE EXTERNAL TABLE e STORED AS CSV LOCATION 'x'",
                "CREATE EXTERNAL TABLE",
            ),
            ("EXEC a.b.c.cancel @run_id = 1", "EXEC"),
        ] {
            assert_eq!(tag(sql), want, "{sql}");
        }
    }
}
