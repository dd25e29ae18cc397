//! `UPDATE <api table> SET ... WHERE ...` and StackQL's `REPLACE <api table> SET ... WHERE ...`
//! (parsed as `UPDATE OR REPLACE`, see [`crate::sql`]), planned from the statement's tree.
//!
//! DataFusion plans an UPDATE only of the table's own columns; StackQL's `SET
//! data__new_settings = '...'` names a body parameter, and REPLACE is no statement DataFusion
//! knows. So every UPDATE / REPLACE of an API table that jobsql's front ends run is planned
//! here: its query, `SELECT <key columns>, <server variable>, <value> AS __jobsql_set_0, ...
//! FROM <table> [WHERE ...] [ORDER BY ... LIMIT n]`, is built from the statement's own AST
//! nodes (nothing of the user's text is pasted into SQL) and planned as any SELECT, and an
//! [`UpdateTarget`] carries it ([`crate::provider::update`] sends the calls). An UPDATE of an
//! API table's columns planned by DataFusion elsewhere (a bare `SessionContext`) reaches the
//! same target through [`crate::provider::update::rule`].

use std::sync::Arc;

use datafusion::datasource::provider_as_source;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{DmlStatement, LogicalPlan, WriteOp};
use datafusion::prelude::SessionContext;
use datafusion::sql::parser::Statement as DfStatement;
use datafusion::sql::sqlparser::ast::{
    AssignmentTarget, Expr as SqlExpr, Ident, LimitClause, OrderBy, OrderByKind, SelectItem,
    SqliteOnConflict, Statement as SqlStatement, TableFactor,
};

use super::insert::table_reference;
use crate::provider::update::{api_table, set_column, UpdateError, UpdateTarget};
use crate::sql::build;

/// The plan of an UPDATE / REPLACE of an API table; `None` for any other statement (an UPDATE
/// of another table is DataFusion's).
pub async fn plan_update(
    ctx: &SessionContext,
    statement: &DfStatement,
) -> Result<Option<LogicalPlan>> {
    let DfStatement::Statement(s) = statement else {
        return Ok(None);
    };
    let SqlStatement::Update(update) = s.as_ref() else {
        return Ok(None);
    };
    let replace = update.or == Some(SqliteOnConflict::Replace);
    let word = if replace { "REPLACE" } else { "UPDATE" };
    let TableFactor::Table { name, .. } = &update.table.relation else {
        return Ok(None);
    };
    let reference = table_reference(name);
    let provider = ctx.table_provider(reference.clone()).await.ok();
    let Some(table) = provider.as_deref().and_then(api_table) else {
        if replace {
            return Err(UpdateError::NotApiTable {
                table: name.to_string(),
            }
            .into());
        }
        return Ok(None);
    };
    let table_name = table.resource().qualified_name();
    let form = |form: &'static str, hint: &'static str| -> DataFusionError {
        UpdateError::Form {
            statement: word,
            table: table_name.clone(),
            form,
            hint,
        }
        .into()
    };
    if !update.table.joins.is_empty() || update.from.is_some() {
        return Err(form(
            "a join (UPDATE ... FROM)",
            ": name the rows with WHERE key IN (SELECT ...)",
        ));
    }
    if update.returning.is_some() || update.output.is_some() {
        return Err(form("RETURNING", ""));
    }
    if update
        .or
        .as_ref()
        .is_some_and(|o| *o != SqliteOnConflict::Replace)
    {
        return Err(form("UPDATE OR ...", " (UPDATE OR REPLACE is REPLACE)"));
    }
    let statement = crate::provider::update::sets::Statement::of(table.resource(), replace)?;
    let mut items: Vec<SelectItem> = statement
        .spec
        .params
        .values()
        .chain([&table.resource().server.variable])
        .map(|c| SelectItem::UnnamedExpr(SqlExpr::Identifier(Ident::new(c))))
        .collect();
    let mut names = Vec::new();
    for assignment in &update.assignments {
        let AssignmentTarget::ColumnName(target) = &assignment.target else {
            return Err(form("a tuple assignment", ""));
        };
        let Some(last) = target.0.last().and_then(|p| p.as_ident()) else {
            return Err(form("an assignment without a column", ""));
        };
        let name = match last.quote_style {
            None => last.value.to_lowercase(),
            Some(_) => last.value.clone(),
        };
        items.push(SelectItem::ExprWithAlias {
            expr: assignment.value.clone(),
            alias: Ident::new(set_column(names.len())),
        });
        names.push(name);
    }
    let mut query = build::select(items, Some(update.table.clone()), update.selection.clone())?;
    if !update.order_by.is_empty() {
        query.order_by = Some(OrderBy {
            kind: OrderByKind::Expressions(update.order_by.clone()),
            interpolate: None,
        });
    }
    query.limit_clause = update.limit.clone().map(|limit| LimitClause::LimitOffset {
        limit: Some(limit),
        offset: None,
        limit_by: Vec::new(),
    });
    let read = ctx
        .state()
        .statement_to_plan(DfStatement::Statement(Box::new(SqlStatement::Query(query))))
        .await?;
    let target = UpdateTarget::new(table, replace, &names, read.clone())?;
    Ok(Some(LogicalPlan::Dml(DmlStatement::new(
        reference,
        provider_as_source(Arc::new(target)),
        WriteOp::Update,
        Arc::new(read),
    ))))
}
