//! The SQL front end: DataFusion's parser, extended with StackQL's `EXEC` statement.
//!
//! A script is split into statements by the same loop DataFusion uses (`;` separators, empty
//! statements ignored, comments stripped by the tokenizer); a statement that starts with the
//! word `EXEC` is parsed by [`exec::parse_exec`], every other one by DataFusion's parser. So
//! `EXEC` works in multi-statement scripts next to SELECT, INSERT and DELETE.
//!
//! StackQL's `REPLACE <table> SET ... WHERE ...` (replace an object whole, e.g. `jobs/reset`)
//! is not SQL any parser here reads: it is parsed as the UPDATE it looks like, marked the way
//! SQLite's `UPDATE OR REPLACE <table> SET ...` is (`Update::or` = `REPLACE`), so one tree
//! carries both spellings and every front end sees an UPDATE (read-only checks, command tags).
//! [`crate::write::update`] sends it to the resource's replace method. (`REPLACE INTO`,
//! MySQL's insert, is left to DataFusion's parser.)

pub mod bounds;
pub mod build;
pub mod exec;
pub mod value;

use datafusion::error::{DataFusionError, Result};
use datafusion::sql::parser::{DFParserBuilder, Statement as DfStatement};
use datafusion::sql::sqlparser::ast::{SqliteOnConflict, Statement as SqlStatement};
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::parser::Parser;
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
        let is_replace = matches!(&next.token, Token::Word(w) if w.keyword == Keyword::REPLACE)
            && !matches!(&parser.parser.peek_nth_token(1).token, Token::Word(w) if w.keyword == Keyword::INTO);
        let statement = if is_exec {
            Statement::Exec(exec::parse_exec(&mut parser.parser)?)
        } else if is_replace {
            let statement =
                bounds::check_depth(parse_replace(&mut parser.parser)?).map_err(bounded)?;
            Statement::Sql(Box::new(statement))
        } else {
            let statement = bounds::check_depth(parser.parse_statement()?).map_err(bounded)?;
            Statement::Sql(Box::new(statement))
        };
        statements.push(statement);
        expecting_delimiter = true;
    }
    Ok(statements)
}

/// `REPLACE <table> SET ... [WHERE ...]`, the parser at `REPLACE`: the UPDATE it spells, with
/// `or` = `REPLACE` (as `UPDATE OR REPLACE` parses).
fn parse_replace(parser: &mut Parser) -> Result<DfStatement> {
    let replace = parser.next_token();
    let mut statement = parser.parse_update(replace)?;
    if let SqlStatement::Update(update) = &mut statement {
        update.or = Some(SqliteOnConflict::Replace);
    }
    Ok(DfStatement::Statement(Box::new(statement)))
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
    fn replace_is_an_update_marked_replace() {
        for script in [
            "REPLACE databricks_workspace.jobs.jobs SET data__new_settings = '{}' WHERE job_id = 1",
            "replace jobs SET settings = '{}' WHERE job_id = 1; SELECT 1",
            "UPDATE OR REPLACE jobs SET settings = '{}' WHERE job_id = 1",
        ] {
            let statements = parse_script(script).expect("parses");
            let Statement::Sql(sql) = &statements[0] else {
                panic!("not SQL: {script}");
            };
            let DfStatement::Statement(s) = sql.as_ref() else {
                panic!("not a statement: {script}");
            };
            let SqlStatement::Update(update) = s.as_ref() else {
                panic!("not an UPDATE: {script}");
            };
            assert_eq!(update.or, Some(SqliteOnConflict::Replace), "{script}");
            assert!(update.selection.is_some(), "{script}");
        }
        // MySQL's REPLACE INTO stays the INSERT DataFusion's parser reads.
        let statements = parse_script("REPLACE INTO t VALUES (1)").expect("parses");
        assert!(matches!(&statements[0], Statement::Sql(s)
            if matches!(s.as_ref(), DfStatement::Statement(x) if matches!(x.as_ref(), SqlStatement::Insert(_)))));
    }

    #[test]
    fn two_statements_without_a_separator_are_an_error() {
        let err = parse_script("SELECT 1 SELECT 2").unwrap_err().to_string();
        assert!(err.contains("end of statement"), "{err}");
    }
}
