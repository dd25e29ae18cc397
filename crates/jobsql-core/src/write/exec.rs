//! `EXEC provider.service.resource.method @param = value ... [@@json = '{...}']`: one call of
//! a method the spec lists under the resource's `exec`.
//!
//! `@param`s are the method's parameters (typed by the spec; the server variable, e.g.
//! `@deployment_name`, picks the workspace). `@@json` is the request body as JSON text; its
//! keys are merged with the parameters, and values the spec types are coerced the way
//! StackQL's templates write them (`"run_id": "42"`, `"rerun_all_failed_tasks": "true"`,
//! `"rerun_tasks": "[\"a\"]"`); keys the spec does not list go to the body unchanged (refused
//! for a GET, which has no body). A key given twice — in `@@json` (at any depth) or as an
//! `@param` and in `@@json` — is refused: which value was meant cannot be guessed.
//!
//! A call whose answer was lost (a 5xx, a connection closed after sending) is reported as an
//! *unknown* outcome, with how to check it, not as a failure. The result is the method's result columns when the spec gives
//! them (one row per object of the response), else the body as one JSON column `response`.

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::TableReference;
use datafusion::error::Result;
use datafusion::prelude::SessionContext;
use serde_json::Value;

use super::StatementResult;
use crate::provider::decode::PageDecoder;
use crate::spec::{MethodSpec, Resource};
use crate::sql::ExecStatement;

use super::json_body::parse_object;
use super::{api_table_names, find_api_table, send_mutation, WriteError};
use crate::request::args::{fill_idempotency_token, missing_required, typed_value};
use crate::request::{build_call, Unlisted};
use crate::sql::SqlValue;

/// Run one EXEC statement.
pub async fn run_exec(ctx: &SessionContext, statement: &ExecStatement) -> Result<StatementResult> {
    let [p, s, r] = &statement.table;
    let reference = TableReference::full(p.as_str(), s.as_str(), r.as_str());
    let Some((resource, runtime)) = find_api_table(ctx, reference).await else {
        return Err(WriteError::UnknownTable {
            statement: "EXEC",
            table: statement.table_name(),
            tables: api_table_names(ctx),
        }
        .into());
    };
    let target = format!("{}.{}", resource.qualified_name(), statement.method);
    let method = resource
        .spec
        .exec
        .contains(&statement.method)
        .then(|| resource.spec.methods.get(&statement.method))
        .flatten()
        .ok_or_else(|| WriteError::UnknownMethod {
            table: resource.qualified_name(),
            method: statement.method.clone(),
            methods: resource.spec.exec.join(", "),
        })?;
    if runtime.max_writes < 1 {
        let one = super::guard::ScriptWrites {
            execs: 1,
            ..Default::default()
        };
        return Err(super::guard::too_many(one, runtime.max_writes).into());
    }
    let (workspace, values) = exec_values(&resource, method, statement, &target)?;
    let request = build_call(method, &values, Unlisted::Body);
    let body = send_mutation(&runtime, &resource, workspace.as_deref(), &request)
        .await
        .map_err(|source| WriteError::Call {
            hint: exec_hint(method, &values),
            target: target.clone(),
            source: Box::new(source),
        })?;
    let sent: BTreeMap<String, String> = values
        .iter()
        .map(|(k, v)| match v {
            Value::String(s) => (k.clone(), s.clone()),
            other => (k.clone(), other.to_string()),
        })
        .collect();
    result(&resource, method, &statement.method, body.as_deref(), &sent)
}

/// How to check a call whose outcome is unknown: with its idempotency token, re-running it is
/// safe; otherwise its effect must be looked at first.
fn exec_hint(method: &MethodSpec, values: &BTreeMap<String, Value>) -> String {
    match method
        .idempotency_token
        .as_ref()
        .and_then(|t| Some((t, values.get(t)?)))
    {
        Some((name, Value::String(token))) => format!(
            "re-running it with @{name} = {} is safe (the API answers with what it did, if it did)",
            crate::sql::build::text(token)
        ),
        _ if method.idempotent => "re-running it is safe (the method is idempotent)".to_string(),
        _ => "check its effect (e.g. with SELECT) before re-running it".to_string(),
    }
}

/// The workspace and typed parameter values of an EXEC.
fn exec_values(
    resource: &Resource,
    method: &MethodSpec,
    statement: &ExecStatement,
    target: &str,
) -> Result<(Option<String>, BTreeMap<String, Value>), WriteError> {
    let variable = &resource.server.variable;
    let invalid = |message: String| WriteError::InvalidValue {
        statement: "EXEC",
        target: target.to_string(),
        message,
    };
    let mut values = BTreeMap::new();
    let mut from_json_text: Vec<String> = Vec::new();
    if let Some(json) = &statement.json {
        let body = parse_object(json).map_err(invalid)?;
        let sends_body = !matches!(method.verb.as_str(), "GET" | "HEAD");
        for (key, value) in body {
            if &key == variable {
                return Err(invalid(format!(
                    "@@json key \"{key}\" picks the workspace: give it as @{variable} = '...'"
                )));
            }
            let typed = match method.params.get(&key) {
                Some(spec) => typed_value(&key, spec, &from_json(value)).map_err(invalid)?,
                // Not in the spec: into the body as given (the spec may lag the API).
                None if sends_body => Some(value),
                None => {
                    return Err(invalid(format!(
                        "@@json key \"{key}\" is not a parameter of {} (valid: {}), and a {} \
                         request has no body to carry it",
                        statement.method,
                        method.params.keys().cloned().collect::<Vec<_>>().join(", "),
                        method.verb.as_str()
                    )))
                }
            };
            if let Some(typed) = typed {
                values.insert(key.clone(), typed);
            }
            from_json_text.push(key);
        }
    }
    let mut workspace = None;
    for param in &statement.params {
        if &param.name == variable {
            workspace = match &param.value {
                SqlValue::Text(t) => Some(t.clone()),
                SqlValue::Null => None,
                other => return Err(invalid(format!("@{variable} must be text, got {other:?}"))),
            };
            continue;
        }
        let Some(spec) = method.params.get(&param.name) else {
            let mut valid: Vec<String> = method.params.keys().map(|k| format!("@{k}")).collect();
            valid.push(format!("@{variable}"));
            valid.push("@@json".into());
            return Err(WriteError::UnknownParameter {
                statement: "EXEC",
                target: target.to_string(),
                what: "parameter",
                name: format!("@{}", param.name),
                valid: valid.join(", "),
            });
        };
        if from_json_text.contains(&param.name) {
            return Err(invalid(format!(
                "{} is given twice, as @{} and in @@json: give it once",
                param.name, param.name
            )));
        }
        match typed_value(&param.name, spec, &param.value).map_err(invalid)? {
            Some(v) => values.insert(param.name.clone(), v),
            None => values.remove(&param.name),
        };
    }
    fill_idempotency_token(method, &mut values);
    if let Some(name) = missing_required(method, &values).into_iter().next() {
        return Err(WriteError::MissingParameter {
            statement: "EXEC",
            target: target.to_string(),
            name: format!("@{name}"),
            row: String::new(),
        });
    }
    Ok((workspace, values))
}

/// A JSON value from `@@json` as a SQL value, to be typed like an `@param`. Objects and arrays
/// stay JSON (as text, parsed again for `json` parameters).
fn from_json(value: Value) -> SqlValue {
    match value {
        Value::Null => SqlValue::Null,
        Value::Bool(b) => SqlValue::Bool(b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => SqlValue::Int(i),
            None => SqlValue::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => SqlValue::Text(s),
        other => SqlValue::Text(other.to_string()),
    }
}

/// The statement's result: the method's result columns, or the body as JSON text. A dry run
/// (no body) gives the same columns and no rows. An empty body (a 200 or 204 with nothing)
/// reads as `{}`: one row, its columns NULL unless filled from the parameters `sent`
/// (`from_param`), so `EXEC ... cancel @run_id = 5` answers one row saying `run_id` 5.
fn result(
    resource: &Resource,
    method: &MethodSpec,
    name: &str,
    body: Option<&[u8]>,
    sent: &BTreeMap<String, String>,
) -> Result<StatementResult> {
    let body = body.map(|b| match b.iter().all(u8::is_ascii_whitespace) {
        true => b"{}".as_slice(),
        false => b,
    });
    // The response is shown: an echoed secret is masked in it (see crate::redact).
    let masked = body.map(|b| crate::redact::redact(&String::from_utf8_lossy(b)).into_owned());
    let body = masked.as_deref().map(str::as_bytes);
    let columns = resource
        .method_columns
        .get(name)
        .cloned()
        .unwrap_or_default();
    if columns.is_empty() {
        let schema: SchemaRef = Arc::new(Schema::new(vec![Field::new(
            "response",
            DataType::Utf8,
            true,
        )]));
        let text: Vec<String> = body
            .map(|b| vec![String::from_utf8_lossy(b).into_owned()])
            .unwrap_or_default();
        let array: ArrayRef = Arc::new(StringArray::from(text));
        let batch = RecordBatch::try_new(schema.clone(), vec![array])?;
        return Ok(StatementResult {
            schema,
            batches: vec![batch],
        });
    }
    let view = Resource {
        columns,
        ..resource.clone()
    };
    let schema: SchemaRef = Arc::new(Schema::new(
        view.columns
            .iter()
            .map(|c| Field::new(&c.name, c.ty.to_arrow(), true))
            .collect::<Vec<_>>(),
    ));
    let Some(body) = body else {
        return Ok(StatementResult {
            batches: vec![RecordBatch::new_empty(schema.clone())],
            schema,
        });
    };
    let projection: Vec<usize> = (0..view.columns.len()).collect();
    let decoder = PageDecoder::new(
        &view,
        schema.clone(),
        &projection,
        method.response.objects.as_deref(),
        None,
    );
    let page = decoder.decode(body, sent).map_err(WriteError::Provider)?;
    Ok(StatementResult {
        schema,
        batches: vec![page.batch],
    })
}
