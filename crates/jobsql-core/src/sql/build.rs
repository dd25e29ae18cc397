//! The one place the engine makes SQL of its own: statements and expressions are parser trees,
//! grown from constant shapes (`SELECT * FROM t`, `first_value(NULL)`) with names as
//! identifiers and values as literal nodes. No text is ever spliced from data, so no value — a
//! key read back from a Delta table, a field of an API response, a client's array text — can
//! become SQL (issue 27's first class). `reliability::sql_text` scans the source for any
//! other way of making SQL.
//!
//! What is shown to a person (a hint naming the query that checks a row) is the same tree,
//! displayed: its quoting is the parser's own.

use datafusion::error::{DataFusionError, Result};
use datafusion::sql::sqlparser::ast::{
    Array, ArrayElemTypeDef, BinaryOperator, CastKind, DataType, Expr, Ident, ObjectName, Query,
    Select, SelectItem, SetExpr, Statement, TableFactor, TableWithJoins, Value,
};
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::parser::Parser;

/// The query `shape` (a constant: it is never made from data), parsed.
pub fn query_shape(shape: &'static str) -> Result<Box<Query>> {
    let mut parsed = Parser::parse_sql(&GenericDialect {}, shape)
        .map_err(|e| DataFusionError::Internal(format!("the shape `{shape}`: {e}")))?;
    match parsed.pop() {
        Some(Statement::Query(query)) if parsed.is_empty() => Ok(query),
        _ => Err(DataFusionError::Internal(format!(
            "the shape `{shape}` is not one query"
        ))),
    }
}

/// The expression `shape` (a constant), parsed.
pub fn expr_shape(shape: &'static str) -> Option<Expr> {
    Parser::new(&GenericDialect {})
        .try_with_sql(shape)
        .ok()?
        .parse_expr()
        .ok()
}

/// `SELECT <items> [FROM <from>] [WHERE <selection>]`.
pub fn select(
    items: Vec<SelectItem>,
    from: Option<TableWithJoins>,
    selection: Option<Expr>,
) -> Result<Box<Query>> {
    let mut query = query_shape("SELECT * FROM t")?;
    let select = select_of(&mut query)?;
    select.projection = items;
    select.from = from.into_iter().collect();
    select.selection = selection;
    Ok(query)
}

/// The `SELECT` of a query made by [`select`] or [`query_shape`], to fill in.
pub fn select_of(query: &mut Query) -> Result<&mut Select> {
    match query.body.as_mut() {
        SetExpr::Select(select) => Ok(select),
        other => Err(DataFusionError::Internal(format!(
            "`{other}` is not a SELECT"
        ))),
    }
}

/// The table `name` (`provider.service.resource`, each part an identifier), as a FROM item.
pub fn table(name: &str) -> TableWithJoins {
    TableWithJoins {
        relation: TableFactor::Table {
            name: ObjectName::from(name.split('.').map(Ident::new).collect::<Vec<_>>()),
            alias: None,
            args: None,
            with_hints: Vec::new(),
            version: None,
            with_ordinality: false,
            partitions: Vec::new(),
            json_path: None,
            sample: None,
            index_hints: Vec::new(),
        },
        joins: Vec::new(),
    }
}

/// The column `name`, quoted when it would not read back as itself unquoted.
pub fn column(name: &str) -> Expr {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    Expr::Identifier(if plain {
        Ident::new(name)
    } else {
        Ident::with_quote('"', name)
    })
}

/// A text literal.
pub fn text(value: &str) -> Expr {
    Expr::value(Value::SingleQuotedString(value.to_string()))
}

/// A JSON scalar as a literal: text, a number, a boolean or `NULL`; `None` for arrays and
/// objects.
pub fn json(value: &serde_json::Value) -> Option<Expr> {
    Some(match value {
        serde_json::Value::String(s) => text(s),
        serde_json::Value::Number(n) => number(&n.to_string()),
        serde_json::Value::Bool(b) => Expr::value(Value::Boolean(*b)),
        serde_json::Value::Null => Expr::value(Value::Null),
        _ => return None,
    })
}

/// A number written as `digits` (a negative one as the negation of its magnitude, as the
/// parser reads it).
fn number(digits: &str) -> Expr {
    match digits.strip_prefix('-') {
        Some(magnitude) => Expr::UnaryOp {
            op: datafusion::sql::sqlparser::ast::UnaryOperator::Minus,
            expr: Box::new(Expr::value(Value::Number(magnitude.to_string(), false))),
        },
        None => Expr::value(Value::Number(digits.to_string(), false)),
    }
}

/// `left = right`.
pub fn eq(left: Expr, right: Expr) -> Expr {
    Expr::BinaryOp {
        left: Box::new(left),
        op: BinaryOperator::Eq,
        right: Box::new(right),
    }
}

/// The terms joined by `AND`, `None` when there are none.
pub fn all(terms: Vec<Expr>) -> Option<Expr> {
    balanced(terms, BinaryOperator::And)
}

/// The terms joined by `OR`, `None` when there are none.
pub fn any(terms: Vec<Expr>) -> Option<Expr> {
    balanced(terms, BinaryOperator::Or)
}

/// The terms joined by `op` as a balanced tree (depth log2 of their number, so a long list
/// stays far inside the depth bound); a term that is itself an `AND` or `OR` of another kind
/// is parenthesized.
fn balanced(terms: Vec<Expr>, op: BinaryOperator) -> Option<Expr> {
    let terms: Vec<Expr> = terms
        .into_iter()
        .map(|term| match term {
            Expr::BinaryOp { op: ref inner, .. }
                if matches!(inner, BinaryOperator::And | BinaryOperator::Or) && *inner != op =>
            {
                Expr::Nested(Box::new(term))
            }
            term => term,
        })
        .collect();
    tree(terms, &op)
}

fn tree(mut terms: Vec<Expr>, op: &BinaryOperator) -> Option<Expr> {
    match terms.len() {
        0 => None,
        1 => terms.pop(),
        n => {
            let right = terms.split_off(n / 2);
            Some(Expr::BinaryOp {
                left: Box::new(tree(terms, op)?),
                op: op.clone(),
                right: Box::new(tree(right, op)?),
            })
        }
    }
}

/// `CAST(ARRAY[<items>] AS <item>[])`.
pub fn array_cast(items: Vec<Expr>, item: DataType) -> Expr {
    cast(
        Expr::Array(Array {
            elem: items,
            named: true,
        }),
        array_of(item),
    )
}

/// `CAST(<expr> AS <ty>)`.
pub fn cast(expr: Expr, ty: DataType) -> Expr {
    Expr::Cast {
        kind: CastKind::Cast,
        expr: Box::new(expr),
        data_type: ty,
        array: false,
        format: None,
    }
}

/// The array type `<item>[]`.
pub fn array_of(item: DataType) -> DataType {
    DataType::Array(ArrayElemTypeDef::SquareBracket(Box::new(item), None))
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;

    fn hostile() -> Vec<String> {
        vec![
            "1); DELETE FROM databricks_workspace.jobs.job_runs WHERE run_id IN (1".into(),
            "x' OR '1'='1".into(),
            "a\\'; COPY (SELECT 1) TO '/tmp/x'; --".into(),
            "\"quoted\" $1 ${value} \0 nul".into(),
            "ünïcødé ' ''".into(),
        ]
    }

    /// Every value is one literal node of the tree, exactly as given: execution plans the tree,
    /// never text. Displayed (for people) and parsed again, the tree is the same: nothing
    /// rides along — except where the value holds a backslash before a quote or two quotes,
    /// which sqlparser's display leaves as they are (it takes `\'` and `''` for escapes
    /// already made); no statement jobsql runs goes through that display.
    #[test]
    fn any_value_reads_back_as_one_literal() {
        for value in hostile() {
            let query = select(
                vec![SelectItem::UnnamedExpr(column("run_id"))],
                Some(table("databricks_workspace.jobs.job_runs")),
                all(vec![
                    eq(column("run_id"), text(&value)),
                    any(vec![
                        eq(column("a"), text(&value)),
                        eq(column("b"), text(&value)),
                    ])
                    .expect("two"),
                ]),
            )
            .expect("builds");
            let mut literals = Vec::new();
            let _ = datafusion::sql::sqlparser::ast::visit_expressions(&query, |e| {
                if let Expr::Value(v) = e {
                    literals.push(v.value.clone());
                }
                std::ops::ControlFlow::<()>::Continue(())
            });
            assert_eq!(literals, vec![Value::SingleQuotedString(value.clone()); 3]);
            if value.contains("\\'") || value.contains("''") {
                continue;
            }
            let shown = query.to_string();
            let parsed = Parser::parse_sql(&PostgreSqlDialect {}, &shown)
                .unwrap_or_else(|e| panic!("{shown}: {e}"));
            assert_eq!(parsed.len(), 1, "{shown}");
            assert_eq!(parsed[0], Statement::Query(query), "{shown}");
        }
    }

    proptest::proptest! {
        /// The family, generated: any text (quotes, backslashes, `;`, comments, NUL, any
        /// character) is one literal node holding exactly it, and any JSON number a literal
        /// reading back as that number.
        #[test]
        fn any_text_is_one_literal_node(value in "(\\PC|['\\\\;\\-/*$\u{0}])*") {
            let query = select(
                vec![SelectItem::UnnamedExpr(column("k"))],
                Some(table("a.b.c")),
                all(vec![eq(column("k"), text(&value)), eq(column("k"), text(&value))]),
            )
            .expect("builds");
            let mut literals = Vec::new();
            let _ = datafusion::sql::sqlparser::ast::visit_expressions(&query, |e| {
                if let Expr::Value(v) = e {
                    literals.push(v.value.clone());
                }
                std::ops::ControlFlow::<()>::Continue(())
            });
            proptest::prop_assert_eq!(literals, vec![Value::SingleQuotedString(value); 2]);
        }

        #[test]
        fn any_number_reads_back_as_itself(n in proptest::num::i64::ANY) {
            let shown = json(&serde_json::json!(n)).expect("a scalar").to_string();
            proptest::prop_assert_eq!(shown.parse::<i64>().ok(), Some(n));
        }
    }

    #[test]
    fn numbers_and_long_disjunctions() {
        let terms: Vec<Expr> = (-3..1_000)
            .map(|i| eq(column("id"), json(&serde_json::json!(i)).expect("scalar")))
            .collect();
        let query = select(
            vec![SelectItem::UnnamedExpr(column("id"))],
            Some(table("a.b.c")),
            any(terms),
        )
        .expect("builds");
        let shown = query.to_string();
        assert!(
            shown.starts_with("SELECT id FROM a.b.c WHERE id = -3 OR "),
            "{shown}"
        );
        let parsed = Parser::parse_sql(&GenericDialect {}, &shown).expect("reparses");
        assert_eq!(parsed.len(), 1);
    }

    #[test]
    fn odd_column_names_are_quoted() {
        assert_eq!(column("run_id").to_string(), "run_id");
        assert_eq!(column("Run Id").to_string(), "\"Run Id\"");
        assert_eq!(column("a\"b").to_string(), "\"a\"\"b\"");
    }
}
