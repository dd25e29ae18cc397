//! The tools `jobsql mcp` offers, their JSON-schema'd arguments and descriptions (what an LLM
//! reads to choose one), and the dispatch of a call to [`super::query`] and [`super::catalog`].
//!
//! Arguments are checked against their schema here (unknown or missing fields are a tool error
//! naming them). Every failure — bad arguments, bad SQL, an unknown table, an API error, a write
//! refused — is a tool result with `isError: true` and the short message (secrets masked), never
//! a protocol error.

use std::sync::Arc;

use rmcp::model::{CallToolResult, ContentBlock, JsonObject, Tool, ToolAnnotations};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{catalog, query, render, McpError, McpServer};

/// `query` and `explain`'s argument.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SqlArgs {
    sql: String,
}

/// `describe_table`'s argument.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TableArgs {
    table: String,
}

/// `list_tables` takes none.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NoArgs {}

fn schema(value: Value) -> Arc<JsonObject> {
    match value {
        Value::Object(map) => Arc::new(map),
        _ => Arc::new(JsonObject::new()),
    }
}

fn sql_schema(what: &str) -> Arc<JsonObject> {
    schema(json!({
        "type": "object",
        "properties": {"sql": {"type": "string", "description": what}},
        "required": ["sql"],
        "additionalProperties": false,
    }))
}

/// The tools, as `tools/list` answers them.
pub fn tools(server: &McpServer) -> Vec<Tool> {
    let writes = if server.options.allow_writes {
        "Writes are allowed on this server: INSERT INTO <table> (...) VALUES (...) creates, \
         DELETE FROM <table> WHERE <key> = ... deletes, EXEC <table>.<method> @param = value \
         calls an API method; each sends real API requests."
    } else {
        "This server is read-only: INSERT, DELETE, EXEC, COPY, SET and DDL are refused."
    };
    let query = format!(
        "Run one SQL statement (Apache DataFusion SQL dialect) over cloud job APIs exposed as \
         tables (Databricks job runs, jobs, ...) and return its rows as JSON objects. Call \
         list_tables and describe_table first to learn the tables and columns. WHERE \
         predicates on some columns (see describe_table) are sent to the API and make the \
         query cheaper; ORDER BY start_time DESC LIMIT n reads only the newest n. At most {} \
         rows are returned; when there are more, the answer says so: add LIMIT, a narrower \
         WHERE or an aggregate. {writes}",
        server.options.max_rows
    );
    vec![
        Tool::new("query", query, sql_schema("One SQL statement, e.g. SELECT run_id, run_name, state['result_state'] AS result FROM job_runs WHERE job_id = 1 ORDER BY start_time DESC LIMIT 10"))
            .with_annotations(
                ToolAnnotations::with_title("Run SQL")
                    .read_only(!server.options.allow_writes)
                    .destructive(server.options.allow_writes)
                    .open_world(true),
            ),
        Tool::new(
            "list_tables",
            "List every table: its qualified name (provider.service.table), the short name it \
             also answers to when unambiguous, what it holds, and the writes it takes.",
            schema(json!({"type": "object", "properties": {}, "additionalProperties": false})),
        )
        .with_annotations(ToolAnnotations::with_title("List tables").read_only(true)),
        Tool::new(
            "describe_table",
            "Describe one table: each column's type and description, whether it is a field of \
             the API's answer or a request parameter, and which WHERE predicates on it are sent \
             to the API (others are evaluated on the fetched rows).",
            schema(json!({
                "type": "object",
                "properties": {"table": {"type": "string", "description": "The table's qualified or short name, e.g. databricks_workspace.jobs.job_runs or job_runs"}},
                "required": ["table"],
                "additionalProperties": false,
            })),
        )
        .with_annotations(ToolAnnotations::with_title("Describe a table").read_only(true)),
        Tool::new(
            "explain",
            "Show the plan of one SQL statement without running it: the API requests it would \
             send (method, path, parameters, pages) and what DataFusion does with the rows. \
             Sends no request.",
            sql_schema("The SQL statement to plan (not run)"),
        )
        .with_annotations(ToolAnnotations::with_title("Explain").read_only(true)),
    ]
}

fn args<T: serde::de::DeserializeOwned>(
    tool: &str,
    arguments: Option<JsonObject>,
) -> Result<T, McpError> {
    let value = Value::Object(arguments.unwrap_or_default());
    serde_json::from_value(value).map_err(|e| McpError::Arguments {
        tool: tool.to_string(),
        message: e.to_string(),
    })
}

fn text_and(text: String, structured: Value) -> CallToolResult {
    let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
    result.structured_content = Some(structured);
    result
}

/// Call `name` with `arguments`: its answer, or a tool error.
pub async fn call(server: &McpServer, name: &str, arguments: Option<JsonObject>) -> CallToolResult {
    match call_inner(server, name, arguments).await {
        Ok(result) => result,
        Err(e) => CallToolResult::error(vec![ContentBlock::text(e.to_string())]),
    }
}

async fn call_inner(
    server: &McpServer,
    name: &str,
    arguments: Option<JsonObject>,
) -> Result<CallToolResult, McpError> {
    let options = &server.options;
    match name {
        "query" => {
            let SqlArgs { sql } = args("query", arguments)?;
            let rows = query::run_capped(&server.ctx, &sql, options.allow_writes, options.max_rows)
                .await?;
            let (text, structured) = render::answer(&rows).map_err(McpError::Output)?;
            Ok(text_and(text, structured))
        }
        "list_tables" => {
            let NoArgs {} = args("list_tables", arguments)?;
            let (text, structured) = catalog::list_tables(&server.specs);
            Ok(text_and(text, structured))
        }
        "describe_table" => {
            let TableArgs { table } = args("describe_table", arguments)?;
            let (text, structured) =
                catalog::describe_table(&server.ctx, &server.specs, &table).await?;
            Ok(text_and(text, structured))
        }
        "explain" => {
            let SqlArgs { sql } = args("explain", arguments)?;
            let plan = query::explain(&server.ctx, &sql).await?;
            Ok(text_and(plan.clone(), json!({ "plan": plan })))
        }
        other => Err(McpError::UnknownTool(other.to_string())),
    }
}
