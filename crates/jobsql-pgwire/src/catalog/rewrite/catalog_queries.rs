//! Rewrites of whole catalog queries, before planning (called by [`crate::catalog::rewrite`]):
//!
//! - **A `SELECT` that reads an empty catalog table** ([`crate::catalog::empty_tables`]: `pg_policy`,
//!   `pg_trigger`, `pg_publication`, `pg_inherits`, `pg_constraint`, `pg_proc`, ...) in its
//!   `FROM`, by a comma, an inner or a left join, has no rows: it is answered as
//!   `SELECT NULL AS <its columns> WHERE false`. psql's `\d table` sends a dozen such queries
//!   (policies, publications, extended statistics, inheritance) and pgcli its function and
//!   foreign-key queries, written with Postgres features DataFusion does not plan
//!   (`generate_subscripts`, `WITH ORDINALITY`, `::regtype[]`, array subscripts); their answer
//!   is known without them. Not when the `SELECT` aggregates without `GROUP BY` (`count(*)` of
//!   an empty table is one row, 0) or selects `*`.
//! - **`information_schema.columns`** (however qualified) is read through a subquery that
//!   spells `data_type` the Postgres way (`bigint`, `text`, `timestamp with time zone`;
//!   [`crate::encode::types`]) and adds `udt_catalog`, `udt_schema` and `udt_name` (`int8`,
//!   `timestamptz`), as Postgres' view has them; DataFusion's own says `Int64`, `Utf8`.
//! - **`ARRAY(SELECT ... FROM unnest(x.reloptions) ...)`** (psql's `\d`, over the toast table's
//!   options) is `NULL`: no relation of jobsql has storage options.

use std::collections::HashSet;
use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    Expr, FunctionArguments, GroupByExpr, Ident, JoinOperator, ObjectName, ObjectNamePart, Query,
    Select, SelectItem, SetExpr, Statement, TableAlias, TableFactor, Value, Visit, VisitMut,
    Visitor, VisitorMut,
};

use crate::catalog::empty_tables::is_empty_table;
use jobsql_core::sql::build;

/// Aggregates: a `SELECT` calling one without `GROUP BY` has a row even over no rows.
pub(super) const AGGREGATES: &[&str] = &[
    "count",
    "max",
    "min",
    "sum",
    "avg",
    "array_agg",
    "string_agg",
    "bool_and",
    "bool_or",
    "every",
    "first_value",
    "last_value",
];

/// `statement` with the rewrites above.
pub fn rewrite(statement: &mut Statement) {
    if let Statement::Query(query) = statement {
        empty_query(query);
    }
    let _ = statement.visit(&mut Tables);
}

/// Whether `name` (one part of an object name) is an aggregate's.
pub(super) fn is_aggregate(name: &str) -> bool {
    AGGREGATES.contains(&name.to_ascii_lowercase().as_str())
}

/// Whether `select` reads no rows because its `FROM` has an empty catalog table joined in a
/// way that keeps the result empty.
pub(super) fn reads_empty_table(select: &Select) -> bool {
    let empty = |factor: &TableFactor| match factor {
        TableFactor::Table {
            name, args: None, ..
        } => match name.0.as_slice() {
            [ObjectNamePart::Identifier(t)] => is_empty_table(&t.value.to_ascii_lowercase()),
            [ObjectNamePart::Identifier(s), ObjectNamePart::Identifier(t)] => {
                s.value.eq_ignore_ascii_case("pg_catalog")
                    && is_empty_table(&t.value.to_ascii_lowercase())
            }
            _ => false,
        },
        _ => false,
    };
    select.from.iter().any(|from| {
        empty(&from.relation)
            && from.joins.iter().all(|j| {
                matches!(
                    j.join_operator,
                    JoinOperator::Join(_)
                        | JoinOperator::Inner(_)
                        | JoinOperator::Left(_)
                        | JoinOperator::LeftOuter(_)
                        | JoinOperator::CrossJoin(_)
                )
            })
    })
}

/// Whether `select`'s projection calls an aggregate (not counting those of its subqueries).
fn aggregates(select: &Select) -> bool {
    let mut finder = Aggregates::default();
    let _ = select.projection.visit(&mut finder);
    finder.found
}

/// Finds an aggregate call outside subqueries.
#[derive(Default)]
struct Aggregates {
    depth: usize,
    found: bool,
}

impl Visitor for Aggregates {
    type Break = ();

    fn pre_visit_query(&mut self, _: &Query) -> ControlFlow<()> {
        self.depth += 1;
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, _: &Query) -> ControlFlow<()> {
        self.depth -= 1;
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, e: &Expr) -> ControlFlow<()> {
        if let (0, Expr::Function(f)) = (self.depth, e) {
            if let Some(ObjectNamePart::Identifier(i)) = f.name.0.last() {
                self.found |= is_aggregate(&i.value);
            }
        }
        ControlFlow::Continue(())
    }
}

/// Replace each `SELECT` of `query`'s body that has no rows by one without a `FROM`; true when
/// the whole body has no rows (its `ORDER BY` and `LIMIT` then go: they may name the columns
/// dropped).
fn empty_query(query: &mut Query) -> bool {
    let empty = empty_body(&mut query.body);
    if empty {
        query.order_by = None;
        query.limit_clause = None;
    }
    empty
}

fn empty_body(body: &mut SetExpr) -> bool {
    match body {
        SetExpr::Select(select) => {
            let grouped =
                !matches!(&select.group_by, GroupByExpr::Expressions(e, _) if e.is_empty());
            let aggregated = !grouped && (aggregates(select) || select.having.is_some());
            if aggregated || !reads_empty_table(select) {
                return false;
            }
            match no_rows(&select.projection) {
                Some(replacement) => {
                    *body = replacement;
                    true
                }
                None => false,
            }
        }
        SetExpr::Query(query) => empty_query(query),
        SetExpr::SetOperation { left, right, .. } => {
            // Both sides rewritten; the whole is empty for UNION only if both are.
            let l = empty_body(left);
            let r = empty_body(right);
            l && r
        }
        _ => false,
    }
}

/// `SELECT NULL AS <name>, ... WHERE false` with `projection`'s names; `None` for `*`.
fn no_rows(projection: &[SelectItem]) -> Option<SetExpr> {
    let mut used = HashSet::new();
    let mut columns = Vec::new();
    for (i, item) in projection.iter().enumerate() {
        let name = match item {
            SelectItem::ExprWithAlias { alias, .. } => alias.value.clone(),
            SelectItem::UnnamedExpr(Expr::Identifier(id)) => id.value.clone(),
            SelectItem::UnnamedExpr(Expr::CompoundIdentifier(ids)) => ids
                .last()
                .map_or_else(|| format!("column{}", i + 1), |id| id.value.clone()),
            SelectItem::UnnamedExpr(_) => format!("column{}", i + 1),
            _ => return None,
        };
        let name = if used.insert(name.clone()) {
            name
        } else {
            format!("{name}_{}", i + 1)
        };
        used.insert(name.clone());
        columns.push(SelectItem::ExprWithAlias {
            expr: Expr::value(Value::Null),
            alias: Ident::with_quote('"', name),
        });
    }
    let query = build::select(columns, None, Some(Expr::value(Value::Boolean(false)))).ok()?;
    Some(*query.body)
}

/// The table-factor rewrites: `information_schema.columns` with Postgres type names.
struct Tables;

impl VisitorMut for Tables {
    type Break = ();

    // After the children: the replacement, which names the table again, is not revisited.
    fn post_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<()> {
        let TableFactor::Table {
            name,
            alias,
            args: None,
            ..
        } = factor
        else {
            return ControlFlow::Continue(());
        };
        let parts: Vec<String> = name
            .0
            .iter()
            .filter_map(|p| match p {
                ObjectNamePart::Identifier(i) => Some(i.value.to_ascii_lowercase()),
                _ => None,
            })
            .collect();
        let columns =
            matches!(parts.as_slice(), [.., s, t] if s == "information_schema" && t == "columns");
        if !columns || parts.len() > 3 {
            return ControlFlow::Continue(());
        }
        let replacement = columns_with_pg_types(name.clone(), alias.clone());
        if let Some(replacement) = replacement {
            *factor = replacement;
        }
        ControlFlow::Continue(())
    }

    fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        if is_options_array(expr) {
            *expr = Expr::value(Value::Null);
        }
        ControlFlow::Continue(())
    }

    // Before [`crate::catalog::rewrite`] makes `::regtype` of a number an `INT`.
    fn pre_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        if let Some(called) = regtype_text(expr) {
            *expr = called;
        }
        ControlFlow::Continue(())
    }
}

/// `x::regtype::text` (not of a literal) as `format_type(x, NULL)`: the type's name, as
/// Postgres prints a `regtype`.
fn regtype_text(expr: &mut Expr) -> Option<Expr> {
    let Expr::Cast {
        expr: inner,
        data_type,
        ..
    } = expr
    else {
        return None;
    };
    if !crate::catalog::rewrite::ast::is_text(data_type) {
        return None;
    }
    let Expr::Cast {
        expr: typed,
        data_type: inner_type,
        ..
    } = inner.as_mut()
    else {
        return None;
    };
    if matches!(typed.as_ref(), Expr::Value(_))
        || crate::catalog::rewrite::ast::oid_type(inner_type).as_deref() != Some("regtype")
    {
        return None;
    }
    let typed = std::mem::replace(typed.as_mut(), Expr::value(Value::Null));
    crate::catalog::rewrite::ast::call_template("format_type(NULL, NULL)", typed)
}

/// `ARRAY(SELECT ... FROM unnest(<x>.<y>options) ...)`.
fn is_options_array(expr: &Expr) -> bool {
    let Expr::Function(f) = expr else {
        return false;
    };
    let is_array = matches!(f.name.0.as_slice(), [ObjectNamePart::Identifier(i)]
        if i.value.eq_ignore_ascii_case("array"));
    let FunctionArguments::Subquery(query) = &f.args else {
        return false;
    };
    let SetExpr::Select(select) = query.body.as_ref() else {
        return false;
    };
    let unnests_options = select.from.iter().any(|from| {
        let text = from.relation.to_string().to_ascii_lowercase();
        text.contains("unnest(") && text.contains("options")
    });
    is_array && unnests_options
}

/// `information_schema.columns` with Postgres type names: the view jobsql puts in its place
/// (`t` and `columns` stand for the client's table name and alias).
const COLUMNS_SHAPE: &str = "SELECT 1 FROM (SELECT table_catalog, table_schema, table_name, \
     column_name, ordinal_position, column_default, is_nullable, \
     jobsql_pg_data_type(data_type) AS data_type, character_maximum_length, \
     character_octet_length, numeric_precision, numeric_precision_radix, numeric_scale, \
     datetime_precision, interval_type, 'jobsql' AS udt_catalog, 'pg_catalog' AS udt_schema, \
     jobsql_pg_udt_name(data_type) AS udt_name FROM t) AS columns";

/// [`COLUMNS_SHAPE`] over the client's table `name`, under its `alias` (if any).
fn columns_with_pg_types(name: ObjectName, alias: Option<TableAlias>) -> Option<TableFactor> {
    let mut query = build::query_shape(COLUMNS_SHAPE).ok()?;
    let select = build::select_of(&mut query).ok()?;
    let mut factor = select.from.pop()?.relation;
    let TableFactor::Derived {
        subquery,
        alias: shape_alias,
        ..
    } = &mut factor
    else {
        return None;
    };
    if alias.is_some() {
        *shape_alias = alias;
    }
    let inner = build::select_of(subquery).ok()?;
    match inner.from.first_mut().map(|f| &mut f.relation) {
        Some(TableFactor::Table { name: slot, .. }) => *slot = name,
        _ => return None,
    }
    Some(factor)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::functions::{DATA_TYPE_FUNCTION, UDT_NAME_FUNCTION};

    #[test]
    fn the_columns_shape_calls_the_registered_functions() {
        assert!(COLUMNS_SHAPE.contains(&format!("{DATA_TYPE_FUNCTION}(data_type)")));
        assert!(COLUMNS_SHAPE.contains(&format!("{UDT_NAME_FUNCTION}(data_type)")));
        let name = ObjectName::from(vec![
            Ident::new("information_schema"),
            Ident::new("columns"),
        ]);
        let factor = columns_with_pg_types(name, None).expect("the shape parses");
        let shown = factor.to_string();
        assert!(
            shown.ends_with("FROM information_schema.columns) AS columns"),
            "{shown}"
        );
    }
}
