//! `INSERT ... RETURNING`: the rows the API created, as columns of the table. Plain columns
//! present in every response (`RETURNING run_id`) are decoded from the responses; anything
//! else is read back through the table by the resource's key, per workspace.

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::datatypes::{Field, Schema, SchemaRef};
use datafusion::error::Result;
use datafusion::prelude::SessionContext;
use datafusion::sql::parser::Statement as DfStatement;
use datafusion::sql::sqlparser::ast::{Expr as SqlExpr, SelectItem, Statement as SqlStatement};
use serde_json::Value;

use super::StatementResult;
use crate::provider::decode::PageDecoder;
use crate::spec::Resource;
use crate::sql::build;

use super::insert::count_result;
use super::WriteError;

/// `RETURNING`: plain columns present in every response are decoded from the responses (no
/// extra request); anything else is read back through the table by the resource's key.
pub(super) async fn returning(
    ctx: &SessionContext,
    resource: &Resource,
    items: &[SelectItem],
    workspaces: &[Option<&str>],
    bodies: &[Vec<u8>],
) -> Result<StatementResult> {
    let parsed: Vec<serde_json::Map<String, Value>> = bodies
        .iter()
        .map(|b| serde_json::from_slice(b).unwrap_or_default())
        .collect();
    let plain: Option<Vec<usize>> = items
        .iter()
        .map(|item| match item {
            SelectItem::UnnamedExpr(SqlExpr::Identifier(id)) => {
                let name = id.value.to_lowercase();
                let field = resource.json_field(&name);
                let in_all = parsed.iter().all(|o| o.contains_key(field));
                resource.column_index(&name).filter(|_| in_all)
            }
            _ => None,
        })
        .collect();
    if let Some(projection) = plain {
        let schema: SchemaRef = Arc::new(Schema::new(
            projection
                .iter()
                .map(|&i| {
                    Field::new(
                        &resource.columns[i].name,
                        resource.columns[i].ty.to_arrow(),
                        true,
                    )
                })
                .collect::<Vec<_>>(),
        ));
        let decoder = PageDecoder::new(resource, schema.clone(), &projection, None, None);
        let raw: Vec<Box<serde_json::value::RawValue>> = bodies
            .iter()
            .filter_map(|b| serde_json::from_slice(b).ok())
            .collect();
        let refs: Vec<&serde_json::value::RawValue> = raw.iter().map(|r| r.as_ref()).collect();
        let batch = decoder
            .decode_objects(&refs, &BTreeMap::new())
            .map_err(WriteError::Provider)?;
        return Ok(StatementResult {
            schema,
            batches: vec![batch],
        });
    }
    read_back(ctx, resource, items, workspaces, &parsed).await
}

/// `SELECT <items> FROM <table> WHERE (<key> = <value> [AND ...]) OR ... AND <variable> =
/// '<ws>'`, per workspace: every column of the key (LakeSail's `job_id` + `job_run_id`), its
/// values literal nodes of the statement's tree ([`build`]), never text.
async fn read_back(
    ctx: &SessionContext,
    resource: &Resource,
    items: &[SelectItem],
    workspaces: &[Option<&str>],
    responses: &[serde_json::Map<String, Value>],
) -> Result<StatementResult> {
    let table = resource.qualified_name();
    if resource.spec.key.is_empty() {
        return Err(WriteError::InvalidValue {
            statement: "INSERT",
            target: table,
            message: "RETURNING needs a `key` in the resource's spec".into(),
        }
        .into());
    }
    let mut by_workspace: BTreeMap<Option<&str>, Vec<SqlExpr>> = BTreeMap::new();
    for (workspace, response) in workspaces.iter().zip(responses) {
        let conditions: Option<Vec<SqlExpr>> = resource
            .spec
            .key
            .iter()
            .map(|key| {
                // A key is text or a number; anything else cannot be read back by it.
                let value = match response.get(resource.json_field(key))? {
                    v @ (Value::String(_) | Value::Number(_)) => build::json(v)?,
                    _ => return None,
                };
                Some(build::eq(build::column(key), value))
            })
            .collect();
        if let Some(condition) = conditions.and_then(build::all) {
            by_workspace.entry(*workspace).or_default().push(condition);
        }
    }
    let mut result: Option<StatementResult> = None;
    for (workspace, ids) in by_workspace {
        let mut terms: Vec<SqlExpr> = build::any(ids).into_iter().collect();
        if let Some(ws) = workspace {
            terms.push(build::eq(
                build::column(&resource.server.variable),
                build::text(ws),
            ));
        }
        let query = build::select(
            items.to_vec(),
            Some(build::table(&table)),
            build::all(terms),
        )?;
        let plan = ctx
            .state()
            .statement_to_plan(DfStatement::Statement(Box::new(SqlStatement::Query(query))))
            .await?;
        let df = ctx.execute_logical_plan(plan).await?;
        let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
        let batches = df.collect().await?;
        match &mut result {
            Some(r) => r.batches.extend(batches),
            None => result = Some(StatementResult { schema, batches }),
        }
    }
    match result {
        Some(r) => Ok(r),
        None => count_result(0),
    }
}
