//! Short, pointed messages for the planning errors users hit most, in place of DataFusion's:
//!
//! * an unknown column names the few closest valid ones (edit distance), not every column of
//!   every table in scope;
//! * a table that is not found names the tables with that name (or a close one) in full:
//!   `job_runs` → `databricks_workspace.jobs.job_runs`;
//! * a struct compared with text (`state = 'FAILED'`) names the struct's text field to compare
//!   instead — the one whose spec description lists the value, else the text fields;
//! * `CROSS JOIN unnest(r.tasks)` (a lateral unnest, which DataFusion 55 cannot run) names the
//!   form that works, `SELECT run_id, unnest(tasks) …` (`hints/lateral.rs`);
//! * `CREATE FUNCTION` says that jobsql has no user-defined functions, and a DELETE whose WHERE
//!   names a column through the target's alias says that DELETE takes no alias
//!   (`hints/statements.rs`).
//!
//! [`user_message`] is how any DataFusion error reads to a user (its root cause, redacted).
//! [`unknown_column`] needs only the error; [`improve`] looks at the session's tables and the
//! statement. Errors it does not recognise are returned unchanged.

use std::collections::BTreeSet;
use std::ops::ControlFlow;
use std::sync::Arc;

mod lateral;
mod statements;

use datafusion::arrow::datatypes::{DataType, Fields};
use datafusion::common::utils::datafusion_strsim::levenshtein;
use datafusion::common::{Column, SchemaError};
use datafusion::error::DataFusionError;
use datafusion::prelude::SessionContext;
use datafusion::sql::parser::Statement as DfStatement;
use datafusion::sql::sqlparser::ast::{visit_expressions, Expr, Value};

use crate::provider::ApiTable;
use crate::spec::{ColumnSpec, Resource};

/// At most this many suggestions are named.
const MAX_SUGGESTIONS: usize = 3;

/// The messages of this module, as errors.
#[derive(Debug, thiserror::Error)]
pub enum HintError {
    /// A table reference that resolves to no table.
    #[error("table '{name}' not found{}", suggest(.suggestions))]
    TableNotFound {
        /// The reference as written (defaults left off).
        name: String,
        /// The full names of likely tables.
        suggestions: Vec<String>,
    },
    /// A struct column compared with a text value.
    #[error("{column} is a struct and cannot be compared with the text '{value}'{}", suggest(.suggestions))]
    StructComparedToText {
        /// The column.
        column: String,
        /// The text it was compared with.
        value: String,
        /// `column['field']` expressions to compare instead.
        suggestions: Vec<String>,
    },
    /// An unnest in `FROM` over another table's column (a lateral join).
    #[error(
        "unnest({column}) in FROM is not supported (DataFusion 55 has no lateral unnest): \
         unnest in the select list instead, e.g. SELECT run_id, unnest(tasks) AS task FROM job_runs"
    )]
    LateralUnnest {
        /// The column unnested, as written.
        column: String,
    },
    /// `CREATE FUNCTION` or `DROP FUNCTION`.
    #[error(
        "{verb} FUNCTION is not supported: jobsql has no user-defined functions (write the \
         expression in the query, or in a WITH clause)"
    )]
    NoUserFunctions {
        /// `CREATE` or `DROP`.
        verb: &'static str,
    },
    /// `DELETE FROM t AS r WHERE r.x …`: DataFusion's DELETE has no alias.
    #[error(
        "DELETE FROM {table} {alias}: a DELETE cannot name its table by an alias; write \
         {column} instead of {alias}.{column}"
    )]
    DeleteAlias {
        /// The table, as written.
        table: String,
        /// The alias.
        alias: String,
        /// The column named through it.
        column: String,
    },
}

fn suggest(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => format!(": did you mean {one}?"),
        [init @ .., last] => format!(": did you mean {} or {last}?", init.join(", ")),
    }
}

/// The message for `No field named x`: the column and the closest valid names.
pub fn unknown_column(field: &Column, valid: &[Column]) -> String {
    let name = field.name();
    let mut close: Vec<(usize, &str)> = valid
        .iter()
        .map(|c| c.name())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .map(|c| (distance(name, c), c))
        .filter(|(d, _)| *d <= (name.chars().count() / 3).max(2))
        .collect();
    close.sort();
    let tables: BTreeSet<String> = valid
        .iter()
        .filter_map(|c| c.relation.as_ref().map(|r| r.to_string()))
        .collect();
    let place = match tables.len() {
        1 => format!(" in {}", tables.iter().next().map_or("", |t| t.as_str())),
        _ => String::new(),
    };
    let shown = field.flat_name();
    let names: Vec<String> = close
        .iter()
        .take(MAX_SUGGESTIONS)
        .map(|(_, c)| (*c).to_string())
        .collect();
    match names.is_empty() {
        true => format!("no column named {shown}{place} (DESCRIBE the table for its columns)"),
        false => format!("no column named {shown}{place}{}", suggest(&names)),
    }
}

/// Edit distance, case-insensitive.
fn distance(a: &str, b: &str) -> usize {
    levenshtein(&a.to_lowercase(), &b.to_lowercase())
}

/// `error` with a pointed message when it is one this module knows, else as it is.
pub async fn improve(
    ctx: &SessionContext,
    statement: &DfStatement,
    error: DataFusionError,
) -> DataFusionError {
    if let Some(column) = lateral::lateral_unnest(statement) {
        return DataFusionError::External(Box::new(HintError::LateralUnnest { column }));
    }
    if let Some(hint) =
        statements::unsupported(statement).or_else(|| statements::delete_alias(statement, &error))
    {
        return DataFusionError::External(Box::new(hint));
    }
    let text = match error.find_root() {
        DataFusionError::Plan(text) => text.clone(),
        _ => return error,
    };
    let hint = if let Some(name) = text
        .strip_prefix("table '")
        .and_then(|t| t.strip_suffix("' not found"))
    {
        Some(table_not_found(ctx, name))
    } else if text.contains("Struct(")
        && (text.contains("comparison operation") || text.contains("compatible types to compare"))
    {
        struct_compared(ctx, statement).await
    } else {
        None
    };
    match hint {
        Some(hint) => DataFusionError::External(Box::new(hint)),
        None => error,
    }
}

/// Every table of the session: (full name, table name).
fn tables(ctx: &SessionContext) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for catalog_name in ctx.catalog_names() {
        let Some(catalog) = ctx.catalog(&catalog_name) else {
            continue;
        };
        for schema_name in catalog.schema_names() {
            if schema_name == "information_schema" {
                continue;
            }
            let Some(schema) = catalog.schema(&schema_name) else {
                continue;
            };
            for table in schema.table_names() {
                out.push((format!("{catalog_name}.{schema_name}.{table}"), table));
            }
        }
    }
    out.sort();
    out
}

fn table_not_found(ctx: &SessionContext, resolved: &str) -> HintError {
    // DataFusion fills in its default catalog and schema; show what was written.
    let name = resolved
        .strip_prefix("datafusion.public.")
        .or_else(|| resolved.strip_prefix("datafusion."))
        .unwrap_or(resolved);
    let wanted = name.rsplit('.').next().unwrap_or(name);
    let all = tables(ctx);
    let exact: Vec<String> = all
        .iter()
        .filter(|(full, table)| table == wanted && full.ends_with(&format!(".{name}")))
        .chain(all.iter().filter(|(_, table)| table == wanted))
        .map(|(full, _)| full.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let suggestions = if exact.is_empty() {
        let mut close: Vec<(usize, String)> = all
            .iter()
            .map(|(full, table)| (distance(wanted, table), full.clone()))
            .filter(|(d, _)| *d <= (wanted.len() / 3).max(2))
            .collect();
        close.sort();
        let close: Vec<String> = close.into_iter().map(|(_, full)| full).collect();
        // `databricks_workspace.jobs.job_run`: the tables under what was written, if any.
        let under: Vec<String> = match name.rsplit_once('.') {
            Some((qualifier, _)) => close
                .iter()
                .filter(|full| {
                    full.starts_with(&format!("{qualifier}."))
                        || full.contains(&format!(".{qualifier}."))
                })
                .cloned()
                .collect(),
            None => Vec::new(),
        };
        if under.is_empty() {
            close
        } else {
            under
        }
    } else {
        exact
    };
    HintError::TableNotFound {
        name: name.to_string(),
        suggestions: suggestions.into_iter().take(MAX_SUGGESTIONS).collect(),
    }
}

/// The first `column <op> 'text'` of `statement` whose column is a struct of an API table.
async fn struct_compared(ctx: &SessionContext, statement: &DfStatement) -> Option<HintError> {
    let DfStatement::Statement(inner) = statement else {
        return None;
    };
    let mut compared: Vec<(String, String)> = Vec::new();
    let _ = visit_expressions(inner.as_ref(), |expr: &Expr| {
        if let Expr::BinaryOp { left, right, .. } = expr {
            for (a, b) in [(left, right), (right, left)] {
                if let (Some(column), Some(value)) = (column_name(a), text_value(b)) {
                    compared.push((column, value));
                }
            }
        }
        if let Expr::InList { expr, list, .. } = expr {
            if let (Some(column), Some(value)) =
                (column_name(expr), list.iter().find_map(text_value))
            {
                compared.push((column, value));
            }
        }
        ControlFlow::<()>::Continue(())
    });
    let resources = api_resources(ctx).await;
    for (column, value) in compared {
        for resource in &resources {
            let Some(fields) = struct_fields(resource, &column) else {
                continue;
            };
            return Some(HintError::StructComparedToText {
                suggestions: text_fields(resource, &column, &fields, &value),
                column,
                value,
            });
        }
    }
    None
}

fn column_name(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Identifier(ident) => Some(ident.value.clone()),
        Expr::CompoundIdentifier(parts) => parts.last().map(|p| p.value.clone()),
        _ => None,
    }
}

fn text_value(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Value(v) => match &v.value {
            Value::SingleQuotedString(s) | Value::DoubleQuotedString(s) => Some(s.clone()),
            _ => None,
        },
        _ => None,
    }
}

/// The resources of the session's API tables.
async fn api_resources(ctx: &SessionContext) -> Vec<Arc<Resource>> {
    let mut out = Vec::new();
    for (full, _) in tables(ctx) {
        if let Ok(provider) = ctx.table_provider(full.as_str()).await {
            let any: &dyn std::any::Any = provider.as_ref();
            if let Some(table) = any.downcast_ref::<ApiTable>() {
                out.push(table.resource().clone());
            }
        }
    }
    out
}

fn struct_fields(resource: &Resource, column: &str) -> Option<Fields> {
    let c = resource.columns.iter().find(|c| c.name == column)?;
    match c.ty.to_arrow() {
        DataType::Struct(fields) => Some(fields),
        _ => None,
    }
}

/// `column['field']` for the text fields to compare with `value`: the one(s) whose spec
/// description lists the value as a word, else every text field.
fn text_fields(resource: &Resource, column: &str, fields: &Fields, value: &str) -> Vec<String> {
    let texts: Vec<&str> = fields
        .iter()
        .filter(|f| f.data_type() == &DataType::Utf8)
        .map(|f| f.name().as_str())
        .collect();
    let described = field_specs(resource, column);
    let listing: Vec<&str> = texts
        .iter()
        .copied()
        .filter(|name| {
            described.iter().any(|f| {
                f.name == *name
                    && f.description
                        .split(|c: char| !c.is_alphanumeric() && c != '_')
                        .any(|word| word == value)
            })
        })
        .collect();
    let chosen = if listing.is_empty() { texts } else { listing };
    chosen
        .into_iter()
        .map(|f| format!("{column}['{f}']"))
        .collect()
}

/// The spec's fields (with their descriptions) of a struct column.
fn field_specs<'a>(resource: &'a Resource, column: &str) -> &'a [ColumnSpec] {
    let Some(spec) = resource.spec.columns.iter().find(|c| c.name == column) else {
        return &[];
    };
    match &spec.reference {
        Some(name) => resource
            .types
            .get(name)
            .map_or(&[], |t| t.fields.as_slice()),
        None => &spec.fields,
    }
}

/// A DataFusion error as a user reads it: the root cause, without DataFusion's prefixes, an
/// unknown column with the closest valid names only ([`unknown_column`]), and
/// passed through [`crate::redact::outgoing`] (secrets masked, control characters escaped).
pub fn user_message(error: &DataFusionError) -> String {
    crate::redact::outgoing(&root_message(error))
}

fn root_message(error: &DataFusionError) -> String {
    match error.find_root() {
        DataFusionError::External(e) => e.to_string(),
        DataFusionError::Context(_, e) => root_message(e),
        DataFusionError::SchemaError(schema_error, _) => match schema_error.as_ref() {
            SchemaError::FieldNotFound {
                field,
                valid_fields,
            } => unknown_column(field, valid_fields),
            _ => error.find_root().to_string(),
        },
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_closest_columns_are_named() {
        let valid: Vec<Column> = ["run_id", "job_id", "job_run_id", "state", "start_time"]
            .iter()
            .map(|n| Column::new(Some("t"), *n))
            .collect();
        assert_eq!(
            unknown_column(&Column::new_unqualified("run_idd"), &valid),
            "no column named run_idd in t: did you mean run_id?"
        );
        assert_eq!(
            unknown_column(&Column::new_unqualified("zzzzzzzzzz"), &valid),
            "no column named zzzzzzzzzz in t (DESCRIBE the table for its columns)"
        );
    }
}
