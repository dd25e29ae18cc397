//! The SQL front end: DataFusion's parser, extended with StackQL's `EXEC` statement.
//!
//! A script is split into statements by the same loop DataFusion uses (`;` separators, empty
//! statements ignored, comments stripped by the tokenizer); a statement that starts with the
//! word `EXEC` is parsed by [`exec::parse_exec`], every other one by DataFusion's parser. So
//! `EXEC` works in multi-statement scripts next to SELECT, INSERT and DELETE.

pub mod bounds;
pub mod build;
pub mod exec;
pub mod value;

use datafusion::error::{DataFusionError, Result};
use datafusion::sql::parser::{DFParserBuilder, Statement as DfStatement};
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::tokenizer::Token;

pub use exec::{ExecParam, ExecStatement};
pub use value::SqlValue;

/// One statement of a script.
#[derive(Debug, Clone)]
pub enum Statement {
    /// A statement DataFusion parses (SELECT, INSERT, DELETE, SHOW, EXPLAIN, COPY, ...).
    Sql(Box<DfStatement>),
    /// `EXEC provider.service.resource.method @param = value ...`.
    Exec(ExecStatement),
}

impl std::fmt::Display for Statement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Statement::Sql(s) => write!(f, "{s}"),
            Statement::Exec(e) => write!(f, "{e}"),
        }
    }
}

/// Parse a script into statements, each within the size and depth bounds of [`bounds`].
pub fn parse_script(sql: &str) -> Result<Vec<Statement>> {
    let dialect = GenericDialect {};
    bounds::check_text(sql, &dialect).map_err(bounded)?;
    let mut parser = DFParserBuilder::new(sql).with_dialect(&dialect).build()?;
    let mut statements = Vec::new();
    let mut expecting_delimiter = false;
    loop {
        while parser.parser.consume_token(&Token::SemiColon) {
            expecting_delimiter = false;
        }
        let next = parser.parser.peek_token();
        if next.token == Token::EOF {
            break;
        }
        if expecting_delimiter {
            return Err(DataFusionError::SQL(
                Box::new(
                    datafusion::sql::sqlparser::parser::ParserError::ParserError(format!(
                        "Expected: end of statement, found: {next}"
                    )),
                ),
                None,
            ));
        }
        let is_exec = matches!(&next.token, Token::Word(w) if w.value.eq_ignore_ascii_case("EXEC"));
        let statement = if is_exec {
            Statement::Exec(exec::parse_exec(&mut parser.parser)?)
        } else {
            let statement = bounds::check_depth(parser.parse_statement()?).map_err(bounded)?;
            Statement::Sql(Box::new(statement))
        };
        statements.push(statement);
        expecting_delimiter = true;
    }
    Ok(statements)
}

/// A statement past a bound, as the error every front end reports.
pub fn bounded(e: bounds::BoundsError) -> DataFusionError {
    DataFusionError::External(Box::new(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_sits_among_other_statements() {
        let script = "SELECT 1; EXEC databricks_workspace.jobs.job_runs.cancel @run_id = 5;\n\
                      -- a comment\nINSERT INTO t VALUES (1);;";
        let statements = parse_script(script).expect("parses");
        assert_eq!(statements.len(), 3);
        assert!(matches!(statements[0], Statement::Sql(_)));
        let Statement::Exec(exec) = &statements[1] else {
            panic!("not EXEC: {:?}", statements[1]);
        };
        assert_eq!(exec.method, "cancel");
        assert!(matches!(statements[2], Statement::Sql(_)));
    }

    #[test]
    fn two_statements_without_a_separator_are_an_error() {
        let err = parse_script("SELECT 1 SELECT 2").unwrap_err().to_string();
        assert!(err.contains("end of statement"), "{err}");
    }
}
