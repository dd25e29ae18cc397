//! StackQL's `EXEC` statement:
//!
//! ```sql
//! EXEC databricks_workspace.jobs.job_runs.export
//!   @run_id = 42, @deployment_name = 'prod'   -- commas between parameters are optional
//!   @views_to_export = 'CODE'
//!   @@json = '{"rerun_tasks": ["a"]}';        -- the request body, merged with the parameters
//! ```
//!
//! Parameter values are literals: strings, numbers, `true` / `false`, `NULL`. Which methods and
//! parameters exist is the spec's business ([`crate::write::exec`]); this only reads the form.

use datafusion::error::DataFusionError;
use datafusion::sql::sqlparser::parser::Parser;
use datafusion::sql::sqlparser::tokenizer::Token;

use super::value::SqlValue;

/// A malformed EXEC statement.
#[derive(Debug, thiserror::Error)]
#[error("EXEC: {0}")]
pub struct ExecSyntaxError(String);

impl From<ExecSyntaxError> for DataFusionError {
    fn from(e: ExecSyntaxError) -> Self {
        DataFusionError::External(Box::new(e))
    }
}

/// One `@name = value`.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecParam {
    /// The name without `@`.
    pub name: String,
    /// The literal.
    pub value: SqlValue,
}

/// A parsed EXEC statement.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecStatement {
    /// `provider.service.resource`: the table whose method is called.
    pub table: [String; 3],
    /// The method's name.
    pub method: String,
    /// `@name = value` parameters, in order.
    pub params: Vec<ExecParam>,
    /// The `@@json` body text, if given.
    pub json: Option<String>,
}

impl ExecStatement {
    /// `provider.service.resource`.
    pub fn table_name(&self) -> String {
        self.table.join(".")
    }
}

impl std::fmt::Display for ExecStatement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "EXEC {}.{}", self.table_name(), self.method)
    }
}

fn syntax(message: impl Into<String>) -> ExecSyntaxError {
    ExecSyntaxError(message.into())
}

/// Parse one EXEC statement; the parser is at the word `EXEC`.
pub fn parse_exec(parser: &mut Parser) -> Result<ExecStatement, ExecSyntaxError> {
    parser.next_token(); // EXEC
    let mut parts = vec![word(
        parser,
        "the method, as provider.service.resource.method",
    )?];
    while parser.consume_token(&Token::Period) {
        parts.push(word(parser, "a name after '.'")?);
    }
    let [provider, service, resource, method]: [String; 4] =
        parts.clone().try_into().map_err(|_| {
            syntax(format!(
                "expected provider.service.resource.method (e.g. databricks_workspace.jobs.job_runs.cancel), got '{}'",
                parts.join(".")
            ))
        })?;
    let mut statement = ExecStatement {
        table: [provider, service, resource],
        method,
        params: Vec::new(),
        json: None,
    };
    loop {
        let next = parser.peek_token();
        match &next.token {
            Token::EOF | Token::SemiColon => break,
            Token::Comma => {
                parser.next_token();
                continue;
            }
            Token::Word(w) if w.value.starts_with('@') => {
                parser.next_token();
                let name = w.value.clone();
                if !parser.consume_token(&Token::Eq) {
                    return Err(syntax(format!("expected '=' after {name}")));
                }
                let value = literal(parser, &name)?;
                add_param(&mut statement, &name, value)?;
            }
            other => {
                return Err(syntax(format!(
                    "expected a parameter (@name = value), got '{other}'"
                )))
            }
        }
    }
    Ok(statement)
}

fn add_param(
    statement: &mut ExecStatement,
    name: &str,
    value: SqlValue,
) -> Result<(), ExecSyntaxError> {
    if let Some(special) = name.strip_prefix("@@") {
        if !special.eq_ignore_ascii_case("json") {
            return Err(syntax(format!(
                "unknown @@{special}: only @@json (the request body) exists"
            )));
        }
        if statement.json.is_some() {
            return Err(syntax("@@json given twice"));
        }
        statement.json = match value {
            SqlValue::Text(text) => Some(text),
            SqlValue::Null => None,
            _ => return Err(syntax("@@json must be a string holding a JSON object")),
        };
        return Ok(());
    }
    let name = name.trim_start_matches('@').to_string();
    if name.is_empty() {
        return Err(syntax("a parameter needs a name after '@'"));
    }
    if statement.params.iter().any(|p| p.name == name) {
        return Err(syntax(format!("@{name} given twice")));
    }
    statement.params.push(ExecParam { name, value });
    Ok(())
}

fn word(parser: &mut Parser, expected: &str) -> Result<String, ExecSyntaxError> {
    let token = parser.next_token();
    match token.token {
        Token::Word(w) => Ok(w.value),
        other => Err(syntax(format!("expected {expected}, got '{other}'"))),
    }
}

fn literal(parser: &mut Parser, name: &str) -> Result<SqlValue, ExecSyntaxError> {
    let token = parser.next_token();
    let negative = token.token == Token::Minus;
    let token = if negative { parser.next_token() } else { token };
    let bad = |got: &Token| {
        syntax(format!(
            "{name} needs a literal value ('text', a number, true, false or NULL), got '{got}'"
        ))
    };
    let value = match &token.token {
        Token::SingleQuotedString(s) | Token::EscapedStringLiteral(s) => SqlValue::Text(s.clone()),
        Token::DollarQuotedString(s) => SqlValue::Text(s.value.clone()),
        Token::Number(n, _) => {
            let n = if negative { format!("-{n}") } else { n.clone() };
            match n.parse::<i64>() {
                Ok(i) => SqlValue::Int(i),
                Err(_) => SqlValue::Float(n.parse::<f64>().map_err(|_| bad(&token.token))?),
            }
        }
        Token::Word(w) if !negative && w.quote_style.is_none() => {
            match w.value.to_ascii_lowercase().as_str() {
                "true" => SqlValue::Bool(true),
                "false" => SqlValue::Bool(false),
                "null" => SqlValue::Null,
                _ => return Err(bad(&token.token)),
            }
        }
        other => return Err(bad(other)),
    };
    if negative && !matches!(value, SqlValue::Int(_) | SqlValue::Float(_)) {
        return Err(bad(&token.token));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::{parse_script, Statement};

    fn exec(sql: &str) -> Result<ExecStatement, String> {
        match parse_script(sql) {
            Ok(mut s) => match s.pop() {
                Some(Statement::Exec(e)) => Ok(e),
                other => Err(format!("not EXEC: {other:?}")),
            },
            Err(e) => Err(e.to_string()),
        }
    }

    #[test]
    fn stackql_forms_parse() {
        let e = exec(
            "EXEC databricks_workspace.jobs.job_runs.export \n\
             @run_id='42' --required, \n\
             @deployment_name='prod' --required, \n\
             @views_to_export='CODE'\n;",
        )
        .expect("parses");
        assert_eq!(e.table_name(), "databricks_workspace.jobs.job_runs");
        assert_eq!(e.method, "export");
        let names: Vec<_> = e.params.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["run_id", "deployment_name", "views_to_export"]);
        let e = exec(
            "EXEC databricks_workspace.jobs.job_runs.cancel @deployment_name='x' @@json=\n'{\n\"run_id\": 7\n}'",
        )
        .expect("parses");
        assert_eq!(e.json.as_deref(), Some("{\n\"run_id\": 7\n}"));
        let e = exec("EXEC a.b.c.d @n = -5, @f = 1.5, @t = TRUE, @z = null").expect("parses");
        let values: Vec<_> = e.params.iter().map(|p| p.value.clone()).collect();
        assert_eq!(
            values,
            [
                SqlValue::Int(-5),
                SqlValue::Float(1.5),
                SqlValue::Bool(true),
                SqlValue::Null
            ]
        );
    }

    #[test]
    fn malformed_exec_is_named() {
        let cases = [
            (
                "EXEC a.b.cancel @run_id=1",
                "provider.service.resource.method",
            ),
            ("EXEC a.b.c.d @run_id 1", "expected '=' after @run_id"),
            (
                "EXEC a.b.c.d @run_id = some_column",
                "needs a literal value",
            ),
            ("EXEC a.b.c.d run_id = 1", "expected a parameter"),
            ("EXEC a.b.c.d @x=1 @x=2", "@x given twice"),
            ("EXEC a.b.c.d @@body='{}'", "only @@json"),
            ("EXEC", "expected the method"),
        ];
        for (sql, expected) in cases {
            let err = exec(sql).unwrap_err();
            assert!(err.contains(expected), "{sql}: {err}");
        }
    }
}
