//! `DELETE FROM <api table> [WHERE ...] ORDER BY ... LIMIT n`, which DataFusion does not plan
//! ("Delete-order-by clause not yet supported"): planned as the read it is. The rows deleted
//! are the rows of `SELECT * FROM <table> [WHERE ...] ORDER BY ... LIMIT n` — its plan becomes
//! the DELETE's input, and [`crate::provider::delete::rule`] deletes exactly those rows, as
//! for any other DELETE. The statement is recognised on the parser's AST, and the SELECT is
//! built from the DELETE's own AST nodes (a constant `SELECT * FROM t` is parsed once for its
//! shape; nothing of the user's text is pasted into SQL).
//!
//! The table's key columns (the spec's `key:`) are added to the ORDER BY as the last, ascending
//! tie-breakers: with ties at the cut (`ORDER BY start_time LIMIT 2` where runs share a
//! start), which rows a LIMIT keeps would otherwise depend on the order the API listed them,
//! and a dry run could show other rows than the delete takes. A LIMIT without an ORDER BY is
//! refused (by the rule, in every front end).

use std::sync::Arc;

use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{DmlStatement, LogicalPlan, WriteOp};
use datafusion::prelude::SessionContext;
use datafusion::sql::parser::Statement as DfStatement;
use datafusion::sql::sqlparser::ast::{
    Delete, Expr as SqlExpr, FromTable, Ident, LimitClause, OrderBy, OrderByExpr, OrderByKind,
    SelectItem, Statement as SqlStatement, TableFactor, TableWithJoins,
};

use super::find_api_table;
use super::insert::table_reference;
use crate::sql::build;

/// The plan of `DELETE ... ORDER BY ...` from an API table; `None` for any other statement
/// (DataFusion plans it, or words its refusal).
pub async fn plan_ordered_delete(
    ctx: &SessionContext,
    statement: &DfStatement,
) -> Result<Option<LogicalPlan>> {
    let DfStatement::Statement(s) = statement else {
        return Ok(None);
    };
    let SqlStatement::Delete(delete) = s.as_ref() else {
        return Ok(None);
    };
    if delete.order_by.is_empty() {
        return Ok(None);
    }
    let Some(from) = single_table(delete) else {
        return Ok(None);
    };
    let TableFactor::Table { name, .. } = &from.relation else {
        return Ok(None);
    };
    let Some((resource, _)) = find_api_table(ctx, table_reference(name)).await else {
        return Ok(None);
    };
    // The target, as DataFusion resolves it: the same DELETE with nothing but its table.
    let bare = Delete {
        selection: None,
        order_by: Vec::new(),
        limit: None,
        ..delete.clone()
    };
    let target = ctx
        .state()
        .statement_to_plan(DfStatement::Statement(Box::new(SqlStatement::Delete(bare))))
        .await?;
    let LogicalPlan::Dml(dml) = target else {
        return Err(DataFusionError::Internal(
            "DELETE was not planned as a DML statement".into(),
        ));
    };
    let mut order_by = delete.order_by.clone();
    for key in &resource.spec.key {
        let named = order_by.iter().any(
            |o| matches!(&o.expr, SqlExpr::Identifier(i) if i.value.eq_ignore_ascii_case(key)),
        );
        if !named {
            order_by.push(OrderByExpr::from(Ident::new(key)));
        }
    }
    let select = select_of(
        from.clone(),
        delete.selection.clone(),
        order_by,
        delete.limit.clone(),
    )?;
    let read = ctx
        .state()
        .statement_to_plan(DfStatement::Statement(Box::new(select)))
        .await?;
    Ok(Some(LogicalPlan::Dml(DmlStatement::new(
        dml.table_name.clone(),
        dml.target.clone(),
        WriteOp::Delete,
        Arc::new(read),
    ))))
}

/// The one table a DELETE names (no join, no `USING`).
fn single_table(delete: &Delete) -> Option<&TableWithJoins> {
    let (FromTable::WithFromKeyword(tables) | FromTable::WithoutKeyword(tables)) = &delete.from;
    match (tables.as_slice(), &delete.using, delete.tables.is_empty()) {
        ([one], None, true) if one.joins.is_empty() => Some(one),
        _ => None,
    }
}

/// `SELECT * FROM <from> [WHERE <selection>] ORDER BY <order_by> [LIMIT <limit>]`, as an AST.
fn select_of(
    from: TableWithJoins,
    selection: Option<SqlExpr>,
    order_by: Vec<OrderByExpr>,
    limit: Option<SqlExpr>,
) -> Result<SqlStatement> {
    let mut query = build::select(
        vec![SelectItem::Wildcard(Default::default())],
        Some(from),
        selection,
    )?;
    query.order_by = Some(OrderBy {
        kind: OrderByKind::Expressions(order_by),
        interpolate: None,
    });
    query.limit_clause = limit.map(|limit| LimitClause::LimitOffset {
        limit: Some(limit),
        offset: None,
        limit_by: Vec::new(),
    });
    Ok(SqlStatement::Query(query))
}
