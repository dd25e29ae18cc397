//! The expression rules: `expr COLLATE pg_catalog.default` (the collation dropped), `a
//! OPERATOR(pg_catalog.~) b` (the operator itself), casts to Postgres' object identifier types
//! (`'name'::regtype` as `to_regtype('name')`, a number's `::oid` / `::regclass` an `INT`),
//! `x::pg_catalog.text` as `x::text`, scalar subqueries (`NULL` over an empty catalog table,
//! else `first_value(x)` unless aggregated) and `pg_catalog.f(...)` as `f(...)`.

use datafusion::sql::sqlparser::ast::{
    BinaryOperator, DataType, Expr, GroupByExpr, ObjectNamePart, Query, SelectItem, SetExpr, Value,
};

use crate::catalog::rewrite::ast::{call_template, is_text, oid_type, take};
use crate::catalog::rewrite::catalog_queries;

/// Whether `query` (one SELECT) has no rows because it reads an empty catalog table.
fn reads_empty_table(query: &Query) -> bool {
    matches!(query.body.as_ref(), SetExpr::Select(s) if catalog_queries::reads_empty_table(s))
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
        matches!(p, ObjectNamePart::Identifier(i) if catalog_queries::is_aggregate(&i.value))
    }));
    if !aggregated {
        if let Some(called) = call_template("first_value(NULL)", take(item)) {
            *item = called;
        }
    }
}

/// `expr` with the rules above (one node; the caller visits every one).
pub fn rewrite(expr: &mut Expr) {
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
