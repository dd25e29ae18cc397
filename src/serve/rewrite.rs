//! What clients write in Postgres' own SQL that DataFusion does not plan, rewritten in the
//! parsed statement before it is planned (both protocols):
//!
//! - `expr COLLATE pg_catalog.default` (psql's `\d name`, `\dt pattern`): the collation is
//!   dropped (jobsql compares strings by their bytes, as collation `C`).
//! - `a OPERATOR(pg_catalog.~) b` (psql's patterns, pgcli): the operator itself (`~`, `!~`,
//!   `~*`, `!~*`, `=`, `<>`, `<`, `>`, `<=`, `>=`, `~~`, `!~~`).
//! - `pg_catalog.f(...)` (psql qualifies every function it calls): `f(...)`, DataFusion's
//!   function or one of [`super::pg_functions`].
//! - A table named `pg_...` without a schema (`FROM pg_type`): `pg_catalog.pg_...`, as
//!   Postgres' search path always starts with `pg_catalog`.

use std::ops::ControlFlow;

use datafusion::sql::parser::Statement as DfStatement;
use datafusion::sql::sqlparser::ast::{
    visit_expressions_mut, visit_relations_mut, BinaryOperator, Expr, Ident, ObjectName,
    ObjectNamePart,
};

/// `statement` with the rewrites above.
pub fn rewrite(mut statement: DfStatement) -> DfStatement {
    if let DfStatement::Statement(s) = &mut statement {
        let _ = visit_expressions_mut(s.as_mut(), |expr| {
            rewrite_expr(expr);
            ControlFlow::<()>::Continue(())
        });
        let _ = visit_relations_mut(s.as_mut(), |name| {
            qualify(name);
            ControlFlow::<()>::Continue(())
        });
    }
    statement
}

/// `pg_x` as `pg_catalog.pg_x`.
fn qualify(name: &mut ObjectName) {
    if let [ObjectNamePart::Identifier(table)] = name.0.as_slice() {
        if table.value.to_ascii_lowercase().starts_with("pg_") {
            name.0.insert(0, ObjectNamePart::Identifier(Ident::new("pg_catalog")));
        }
    }
}

fn rewrite_expr(expr: &mut Expr) {
    loop {
        match expr {
            Expr::Function(f) => {
                let qualified = matches!(
                    f.name.0.as_slice(),
                    [ObjectNamePart::Identifier(s), _] if s.value.eq_ignore_ascii_case("pg_catalog")
                );
                if qualified {
                    f.name.0.remove(0);
                }
                return;
            }
            Expr::Collate { expr: inner, .. } => {
                let inner = std::mem::replace(inner.as_mut(), Expr::value(
                    datafusion::sql::sqlparser::ast::Value::Null,
                ));
                *expr = inner;
            }
            Expr::BinaryOp { op, .. } => {
                if let BinaryOperator::PGCustomBinaryOperator(parts) = op {
                    if let Some(plain) = plain_operator(parts) {
                        *op = plain;
                    }
                }
                return;
            }
            _ => return,
        }
    }
}

/// The operator `OPERATOR(pg_catalog.x)` / `OPERATOR(x)` names.
fn plain_operator(parts: &[String]) -> Option<BinaryOperator> {
    let name = match parts {
        [schema, name] if schema.eq_ignore_ascii_case("pg_catalog") => name,
        [name] => name,
        _ => return None,
    };
    Some(match name.as_str() {
        "~" => BinaryOperator::PGRegexMatch,
        "~*" => BinaryOperator::PGRegexIMatch,
        "!~" => BinaryOperator::PGRegexNotMatch,
        "!~*" => BinaryOperator::PGRegexNotIMatch,
        "~~" => BinaryOperator::PGLikeMatch,
        "!~~" => BinaryOperator::PGNotLikeMatch,
        "=" => BinaryOperator::Eq,
        "<>" => BinaryOperator::NotEq,
        "<" => BinaryOperator::Lt,
        ">" => BinaryOperator::Gt,
        "<=" => BinaryOperator::LtEq,
        ">=" => BinaryOperator::GtEq,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::{parse_script, Statement};

    fn rewritten(sql: &str) -> String {
        let mut statements = parse_script(sql).expect("parses");
        match statements.remove(0) {
            Statement::Sql(s) => rewrite(*s).to_string(),
            Statement::Exec(_) => panic!("not EXEC"),
        }
    }

    #[test]
    fn collations_and_operator_syntax_are_rewritten() {
        assert_eq!(
            rewritten(
                "SELECT relname FROM pg_catalog.pg_class c WHERE c.relname \
                 OPERATOR(pg_catalog.~) '^(job_runs)$' COLLATE pg_catalog.default"
            ),
            "SELECT relname FROM pg_catalog.pg_class AS c WHERE c.relname ~ '^(job_runs)$'"
        );
        assert_eq!(
            rewritten("SELECT pg_catalog.array_to_string(datacl, ',') FROM pg_database"),
            "SELECT array_to_string(datacl, ',') FROM pg_catalog.pg_database"
        );
        assert_eq!(rewritten("SELECT 1 FROM jobs.pg_x"), "SELECT 1 FROM jobs.pg_x");
    }
}
