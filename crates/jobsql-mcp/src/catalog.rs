//! The `list_tables` and `describe_table` tools: what an assistant needs before it writes SQL.
//!
//! Tables come from the loaded specs (each resource: its qualified name, its short name when no
//! other resource shares it — the names [`jobsql_core::session::names`] resolves — its description
//! and what writes it takes). A table's columns are jobsql's own `DESCRIBE` (type, nullability,
//! `kind`: `field` / `parameter` / `insert only`, the spec's description), run through the
//! session like any statement, with, per column, the WHERE forms the spec's `pushdown:` rules
//! send to the API (`=`, `IN`, ranges); other predicates are evaluated on the fetched rows.

use std::collections::BTreeMap;

use datafusion::prelude::SessionContext;
use serde_json::{json, Value};

use super::query::run_capped;
use super::render::json_rows;
use super::McpError;
use jobsql_core::spec::{PushdownOp, Resource, SpecSet};

/// Short names that stand for exactly one resource (as the session resolves them).
fn short_names(specs: &SpecSet) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for r in specs.resources.iter().filter(|r| r.profile.short_names) {
        *counts.entry(r.name.clone()).or_insert(0) += 1;
    }
    counts
}

/// The writes a resource takes, as SQL.
fn writes(resource: &Resource) -> Vec<String> {
    let mut out = Vec::new();
    if resource.spec.insert.is_some() {
        out.push("INSERT".to_string());
    }
    if resource.spec.delete.is_some() {
        out.push("DELETE".to_string());
    }
    for method in &resource.spec.exec {
        out.push(format!("EXEC {}.{method}", resource.qualified_name()));
    }
    out
}

/// Every table of the specs: `(text, structured)`.
pub fn list_tables(specs: &SpecSet) -> (String, Value) {
    let counts = short_names(specs);
    let mut text = String::new();
    let mut tables = Vec::new();
    for r in &specs.resources {
        let short = (r.profile.short_names && counts.get(&r.name) == Some(&1)).then(|| &r.name);
        let writes = writes(r);
        text.push_str(&r.qualified_name());
        if let Some(short) = short {
            text.push_str(&format!(" (or {short})"));
        }
        text.push_str(&format!(": {}", r.spec.description.trim()));
        if !writes.is_empty() {
            text.push_str(&format!(" Writes: {}.", writes.join(", ")));
        }
        text.push('\n');
        tables.push(json!({
            "name": r.qualified_name(),
            "short_name": short,
            "description": r.spec.description.trim(),
            "writes": writes,
        }));
    }
    (text, json!({ "tables": tables }))
}

/// The resource `name` stands for: its qualified name, `service.table`, or its short name (the
/// last two only when one resource has it); double quotes are ignored.
pub fn find_resource<'a>(specs: &'a SpecSet, name: &str) -> Option<&'a Resource> {
    let name = name.trim().replace('"', "");
    if let Some(r) = specs.resources.iter().find(|r| r.qualified_name() == name) {
        return Some(r.as_ref());
    }
    let matching: Vec<&Resource> = specs
        .resources
        .iter()
        .filter(|r| r.profile.short_names)
        .filter(|r| r.name == name || format!("{}.{}", r.service, r.name) == name)
        .map(|r| r.as_ref())
        .collect();
    match matching[..] {
        [one] => Some(one),
        _ => None,
    }
}

/// The WHERE forms on `column` that `resource` sends to the API.
fn pushed(resource: &Resource, column: &str) -> Vec<&'static str> {
    let mut out = Vec::new();
    for rule in resource.spec.pushdown.iter().filter(|r| r.column == column) {
        for op in &rule.ops {
            let form = match op {
                PushdownOp::Eq => "=",
                PushdownOp::In => "IN (...)",
                PushdownOp::Range => "<, <=, >, >=, BETWEEN",
            };
            if !out.contains(&form) {
                out.push(form);
            }
        }
    }
    out
}

/// `DESCRIBE table`, with each column's pushed-down WHERE forms: `(text, structured)`.
pub async fn describe_table(
    ctx: &SessionContext,
    specs: &SpecSet,
    table: &str,
) -> Result<(String, Value), McpError> {
    if table.trim().is_empty() || table.contains(';') {
        return Err(McpError::BadTableName(table.to_string()));
    }
    let rows = run_capped(ctx, &format!("DESCRIBE {table}"), false, 100_000).await?;
    let mut columns = json_rows(&rows.schema, &rows.batches).map_err(McpError::Output)?;
    let resource = find_resource(specs, table);
    let mut text = match resource {
        Some(r) => format!("{}: {}\n", r.qualified_name(), r.spec.description.trim()),
        None => format!("{table}: not an API table (nothing is pushed to an API)\n"),
    };
    for column in &mut columns {
        let name = column["column_name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let forms = resource.map(|r| pushed(r, &name)).unwrap_or_default();
        let field = |key: &str| column[key].as_str().unwrap_or_default().to_string();
        text.push_str(&format!("- {name} {}", field("data_type")));
        if field("is_nullable") == "NO" {
            text.push_str(" NOT NULL");
        }
        match field("kind").as_str() {
            "" | "field" => {}
            kind => text.push_str(&format!(" [{kind}]")),
        }
        if !forms.is_empty() {
            text.push_str(&format!(" [WHERE {} sent to the API]", forms.join(" | ")));
        }
        let description = field("description");
        if !description.is_empty() {
            text.push_str(&format!(": {description}"));
        }
        text.push('\n');
        column["pushed_down"] = json!(forms);
    }
    if let Some(r) = resource {
        text.push_str(
            "Predicates on other columns (and OR, functions) are evaluated on the fetched rows. ",
        );
        let writes = writes(r);
        if !writes.is_empty() {
            text.push_str(&format!("Writes: {}.", writes.join(", ")));
        }
        text.push('\n');
    }
    let structured = json!({
        "table": resource.map(|r| r.qualified_name()).unwrap_or_else(|| table.to_string()),
        "description": resource.map(|r| r.spec.description.trim().to_string()),
        "columns": columns,
        "writes": resource.map(writes).unwrap_or_default(),
    });
    Ok((text, structured))
}
