//! What clients write in Postgres' own SQL that DataFusion does not plan, rewritten in the
//! parsed statement before it is planned (both protocols):
//!
//! - `expr COLLATE pg_catalog.default` (psql's `\d name`, `\dt pattern`): the collation is
//!   dropped (jobsql compares strings by their bytes, as collation `C`).
//! - `a OPERATOR(pg_catalog.~) b` (psql's patterns, pgcli): the operator itself (`~`, `!~`,
//!   `~*`, `!~*`, `=`, `<>`, `<`, `>`, `<=`, `>=`, `~~`, `!~~`).
//! - Casts to Postgres' object identifier types: `'name'::regtype` is `to_regtype('name')`,
//!   `'name'::regclass` `to_regclass('name')` ([`super::pg_functions`]); `x::oid`,
//!   `x::regtype` / `::regclass` / `::regnamespace` / `::regproc` of a number an `INT`, and
//!   `x::regtype::text` the type's name (`format_type(x, NULL)`: pgcli's column types;
//!   [`super::rewrite_catalog`]).
//! - Whole catalog queries ([`super::rewrite_catalog`]): a `SELECT` over an empty catalog
//!   table has no rows; `information_schema.columns` has Postgres type names.
//! - A correlated scalar subquery of one plain column (`(SELECT pg_get_expr(...) FROM
//!   pg_attrdef WHERE ...)`, SQLAlchemy's reflection): its value taken with
//!   `first_value(...)`, as DataFusion plans only aggregated ones (Postgres would fail on more
//!   than one row; jobsql's catalog tables give at most one there).
//! - A scalar subquery reading one of the catalog tables without rows
//!   ([`super::pg_empty`]: `pg_attrdef`, `pg_sequence`, `pg_collation`, ...)
//!   by an inner or left join: `NULL`, which it is (DataFusion cannot decorrelate the ones
//!   SQLAlchemy writes inside `CASE`).
//! - `x = ANY('{r,v}')` and `x = ANY($1)` with a list ([`super::rewrite_any`]): typed arrays.
//! - `pg_catalog.f(...)` (psql qualifies every function it calls): `f(...)`, DataFusion's
//!   function or one of [`super::pg_functions`].
//! - A table named `pg_...` without a schema (`FROM pg_type`): `pg_catalog.pg_...`, as
//!   Postgres' search path always starts with `pg_catalog`.

use std::ops::ControlFlow;

use datafusion::sql::parser::Statement as DfStatement;
use datafusion::sql::sqlparser::ast::{
    visit_expressions_mut, visit_relations_mut, BinaryOperator, DataType, Expr, FunctionArg,
    FunctionArgExpr, FunctionArguments, GroupByExpr, Ident, ObjectName, ObjectNamePart, Query,
    SelectItem, SetExpr, Value,
};

use pgwire::api::Type;

use super::rewrite_any::{self, Untyped};
use super::rewrite_catalog;
use jobsql_core::sql::build;

/// `statement` with the rewrites above.
pub fn rewrite(statement: DfStatement) -> DfStatement {
    rewrite_with_parameters(statement, &[], Untyped::Leave)
}

/// `statement` with the rewrites above, `declared` being the parameter types the client
/// declared when it prepared it (`$1` first) and `untyped` what an untyped `ANY($n)` becomes
/// ([`super::rewrite_any`]).
pub fn rewrite_with_parameters(
    mut statement: DfStatement,
    declared: &[Option<Type>],
    untyped: Untyped,
) -> DfStatement {
    if let DfStatement::Statement(s) = &mut statement {
        rewrite_catalog::rewrite(s.as_mut());
        let _ = visit_expressions_mut(s.as_mut(), |expr| {
            rewrite_any::rewrite(expr, declared, untyped);
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
            name.0
                .insert(0, ObjectNamePart::Identifier(Ident::new("pg_catalog")));
        }
    }
}

/// The object identifier type `data_type` names, if it is one.
pub(super) fn oid_type(data_type: &DataType) -> Option<String> {
    let name = match data_type {
        DataType::Regclass => "regclass".to_string(),
        DataType::Custom(name, _) => match name.0.last() {
            Some(ObjectNamePart::Identifier(i)) => i.value.to_ascii_lowercase(),
            _ => return None,
        },
        _ => return None,
    };
    matches!(
        name.as_str(),
        "oid" | "regclass" | "regtype" | "regnamespace" | "regproc" | "regprocedure" | "regrole"
    )
    .then_some(name)
}

/// Whether `data_type` is `text` (or `pg_catalog.text`).
pub(super) fn is_text(data_type: &DataType) -> bool {
    match data_type {
        DataType::Text => true,
        DataType::Custom(name, _) => matches!(name.0.last(),
            Some(ObjectNamePart::Identifier(i)) if i.value.eq_ignore_ascii_case("text")),
        _ => false,
    }
}

/// `template` (a call whose first argument is `NULL`) with `arg` as its first argument.
pub(super) fn call_template(template: &'static str, arg: Expr) -> Option<Expr> {
    let mut call = build::expr_shape(template)?;
    if let Expr::Function(f) = &mut call {
        if let FunctionArguments::List(list) = &mut f.args {
            if let Some(FunctionArg::Unnamed(FunctionArgExpr::Expr(slot))) = list.args.first_mut() {
                *slot = arg;
                return Some(call);
            }
        }
    }
    None
}

fn take(expr: &mut Expr) -> Expr {
    std::mem::replace(expr, Expr::value(Value::Null))
}

/// Whether `query` (one SELECT) has no rows because it reads an empty catalog table.
fn reads_empty_table(query: &Query) -> bool {
    matches!(query.body.as_ref(), SetExpr::Select(s) if rewrite_catalog::reads_empty_table(s))
}

/// `(SELECT x FROM ...)` as `(SELECT first_value(x) FROM ...)` unless it aggregates.
fn aggregate_subquery(query: &mut Query) {
    let SetExpr::Select(select) = query.body.as_mut() else {
        return;
    };
    let grouped = !matches!(&select.group_by, GroupByExpr::Expressions(e, _) if e.is_empty());
    if grouped || select.projection.len() != 1 {
        return;
    }
    let item = match &mut select.projection[0] {
        SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => e,
        _ => return,
    };
    let aggregated = matches!(item, Expr::Function(f) if f.name.0.last().is_some_and(|p| {
        matches!(p, ObjectNamePart::Identifier(i) if rewrite_catalog::is_aggregate(&i.value))
    }));
    if !aggregated {
        if let Some(called) = call_template("first_value(NULL)", take(item)) {
            *item = called;
        }
    }
}

fn rewrite_expr(expr: &mut Expr) {
    loop {
        match expr {
            Expr::Subquery(query) => {
                if reads_empty_table(query) {
                    *expr = Expr::value(Value::Null);
                } else {
                    aggregate_subquery(query);
                }
                return;
            }
            Expr::Cast {
                expr: inner,
                data_type,
                ..
            } => {
                let Some(kind) = oid_type(data_type) else {
                    // `x::pg_catalog.text` is `x::text`.
                    if is_text(data_type) {
                        *data_type = DataType::Text;
                    }
                    return;
                };
                let is_text = matches!(
                    inner.as_ref(),
                    Expr::Value(v) if matches!(v.value, Value::SingleQuotedString(_))
                );
                match (kind.as_str(), is_text) {
                    ("regtype" | "regclass", true) => {
                        let template = match kind.as_str() {
                            "regtype" => "to_regtype(NULL)",
                            _ => "to_regclass(NULL)",
                        };
                        if let Some(called) = call_template(template, take(inner)) {
                            *expr = called;
                        }
                    }
                    _ => *data_type = DataType::Int(None),
                }
                return;
            }
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
                let inner = take(inner);
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
    use jobsql_core::sql::{parse_script, Statement};

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
            "SELECT relname FROM pg_catalog.pg_class c WHERE c.relname ~ '^(job_runs)$'"
        );
        assert_eq!(
            rewritten("SELECT pg_catalog.array_to_string(datacl, ',') FROM pg_database"),
            "SELECT array_to_string(datacl, ',') FROM pg_catalog.pg_database"
        );
        assert_eq!(
            rewritten("SELECT 1 FROM jobs.pg_x"),
            "SELECT 1 FROM jobs.pg_x"
        );
        assert_eq!(
            rewritten(
                "SELECT t.oid FROM pg_type t WHERE t.oid = 'hstore'::regtype AND c.oid::oid = 1"
            ),
            "SELECT t.oid FROM pg_catalog.pg_type t WHERE t.oid = to_regtype('hstore') \
             AND c.oid::INT = 1"
        );
        assert_eq!(
            rewritten("SELECT (SELECT d.description FROM pg_description d WHERE d.objoid = a.attrelid), \
                       (SELECT count(*) FROM pg_description), \
                       (SELECT d.adbin FROM pg_attrdef d JOIN pg_class c ON true) FROM pg_attribute a"),
            "SELECT (SELECT first_value(d.description) FROM pg_catalog.pg_description d \
             WHERE d.objoid = a.attrelid), (SELECT count(*) FROM pg_catalog.pg_description), \
             NULL FROM pg_catalog.pg_attribute a"
        );
    }
}
