//! Which statements the `query` tool runs when `jobsql mcp` was started without
//! `--allow-writes`: reads only.
//!
//! A statement is a read when it is a query (`SELECT`, `WITH`, `VALUES`), `SHOW`, `DESCRIBE`, or
//! an `EXPLAIN` that does not run what it explains (`EXPLAIN ANALYZE` is a read only when its
//! statement is). Everything else — `INSERT`, `DELETE`, `UPDATE`, `EXEC`, `COPY`, `SET`,
//! `RESET`, `CREATE`, `DROP`, transactions, `PREPARE` — is refused with [`WriteRefused`], which
//! names the statement and the flag. The same rule is checked again on DataFusion's plan
//! ([`check_plan`]: no DML, DDL, COPY or statement node anywhere, subqueries included), so a
//! statement this list misjudges is still stopped before it runs.

use datafusion::error::Result;
use datafusion::execution::context::SQLOptions;
use datafusion::logical_expr::LogicalPlan;
use datafusion::sql::parser::Statement as DfStatement;
use datafusion::sql::sqlparser::ast::Statement as SqlStatement;

use jobsql_core::sql::Statement;

/// A statement refused because the server is read-only.
#[derive(Debug, thiserror::Error)]
#[error(
    "{verb} is refused: this jobsql MCP server is read-only (restart it with `jobsql mcp \
     --allow-writes` to run INSERT, DELETE, EXEC, COPY, SET or DDL)"
)]
pub struct WriteRefused {
    /// The statement's first keyword (`INSERT`, `EXEC`, ...).
    pub verb: String,
}

/// `Ok` when `statement` only reads; else the refusal naming it.
pub fn check_read_only(statement: &Statement) -> Result<(), WriteRefused> {
    let read = match statement {
        Statement::Exec(_) => false,
        Statement::Sql(s) => is_read(s),
    };
    if read {
        Ok(())
    } else {
        Err(WriteRefused {
            verb: verb_of(statement),
        })
    }
}

fn is_read(statement: &DfStatement) -> bool {
    match statement {
        DfStatement::Statement(s) => match s.as_ref() {
            SqlStatement::Query(_)
            | SqlStatement::ShowTables { .. }
            | SqlStatement::ShowColumns { .. }
            | SqlStatement::ShowFunctions { .. }
            | SqlStatement::ShowVariable { .. }
            | SqlStatement::ExplainTable { .. } => true,
            SqlStatement::Explain {
                analyze, statement, ..
            } => !analyze || is_read(&DfStatement::Statement(statement.clone())),
            _ => false,
        },
        DfStatement::Explain(e) => !e.options.analyze || is_read(&e.statement),
        DfStatement::CreateExternalTable(_) | DfStatement::CopyTo(_) | DfStatement::Reset(_) => {
            false
        }
    }
}

/// The statement's first keyword, upper-cased (`INSERT`), for the message.
fn verb_of(statement: &Statement) -> String {
    let text = statement.to_string();
    let verb: String = text
        .split_whitespace()
        .next()
        .unwrap_or("statement")
        .chars()
        .filter(|c| c.is_ascii_alphabetic())
        .collect();
    if verb.is_empty() {
        "this statement".to_string()
    } else {
        verb.to_ascii_uppercase()
    }
}

/// The plan-level check of a read-only server: DataFusion's own [`SQLOptions`] with DDL, DML
/// (COPY included) and statements (SET, transactions) all off.
pub fn check_plan(plan: &LogicalPlan) -> Result<()> {
    SQLOptions::new()
        .with_allow_ddl(false)
        .with_allow_dml(false)
        .with_allow_statements(false)
        .verify_plan(plan)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jobsql_core::sql::parse_script;

    fn verdict(sql: &str) -> Result<(), String> {
        let mut statements = parse_script(sql).expect("parses");
        assert_eq!(statements.len(), 1, "{sql}");
        check_read_only(&statements.remove(0)).map_err(|e| e.verb)
    }

    #[test]
    fn reads_pass_and_writes_are_refused_by_name() {
        for sql in [
            "SELECT 1",
            "WITH a AS (SELECT 1 AS x) SELECT x FROM a",
            "SHOW TABLES",
            "DESCRIBE databricks_workspace.jobs.job_runs",
            "EXPLAIN SELECT 1",
            "EXPLAIN INSERT INTO t VALUES (1)",
            "EXPLAIN ANALYZE SELECT 1",
        ] {
            assert_eq!(verdict(sql), Ok(()), "{sql}");
        }
        for (sql, verb) in [
            ("INSERT INTO t VALUES (1)", "INSERT"),
            ("DELETE FROM t WHERE a = 1", "DELETE"),
            (
                "EXEC databricks_workspace.jobs.jobs.run_now @job_id = 1",
                "EXEC",
            ),
            ("COPY (SELECT 1) TO 'x.parquet'", "COPY"),
            ("SET datafusion.execution.batch_size = 10", "SET"),
            ("CREATE VIEW v AS SELECT 1", "CREATE"),
            ("DROP VIEW v", "DROP"),
            ("EXPLAIN ANALYZE INSERT INTO t VALUES (1)", "EXPLAIN"),
            ("BEGIN", "BEGIN"),
        ] {
            assert_eq!(verdict(sql), Err(verb.to_string()), "{sql}");
        }
    }

    #[test]
    fn the_refusal_names_the_statement_and_the_flag() {
        let e = WriteRefused {
            verb: "INSERT".into(),
        };
        let text = e.to_string();
        assert!(text.starts_with("INSERT is refused"), "{text}");
        assert!(text.contains("--allow-writes"), "{text}");
    }
}
