//! The SET clause of an UPDATE / REPLACE: what each assignment sets, and the request body a
//! row's values make.
//!
//! - `data__<param> = v` (StackQL's form): the method's body parameter `param`, typed as the
//!   spec declares it (a JSON parameter takes JSON text).
//! - `<object column> = v` (a job's `settings`): the body parameter the spec's `columns.into`
//!   names, whole (JSON text of an object).
//! - `<column> = v` for a column read from a top-level field of the object (`name`, read from
//!   `settings.name`): `{into: {field: v}}`; `= NULL` names the field in `columns.remove` (a
//!   partial update's "fields to remove"), or leaves it out of a whole replacement.
//!
//! A column read from deeper in the object (`settings.schedule.timezone_id`) is not settable
//! on its own: the API replaces top-level fields whole, so setting one part would drop its
//! siblings. The key columns name the row and are not settable either.

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef};
use datafusion::arrow::datatypes::{Field, Schema};
use datafusion::arrow::json::ArrayWriter;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::ScalarValue;
use serde_json::{Map, Value};

use super::error::UpdateError;
use crate::request::args::typed_value;
use crate::spec::{ColumnType, MethodSpec, ParamLocation, Resource, UpdateSpec};
use crate::sql::SqlValue;

/// The prefix of a body parameter in SET (and INSERT): `data__new_settings`.
pub const BODY_PREFIX: &str = "data__";

/// What one assignment of the SET clause sets.
#[derive(Debug, Clone, PartialEq)]
pub enum Set {
    /// A body parameter of the method (`data__<param>`).
    Param(String),
    /// The object column: the body parameter `into`, whole.
    Object,
    /// A top-level field of the object, from the column read from it.
    Field {
        /// The field.
        field: String,
        /// Whether the column is JSON text (its value is parsed, not quoted).
        json: bool,
    },
}

/// UPDATE or REPLACE, with the spec section it follows.
#[derive(Debug, Clone, Copy)]
pub struct Statement<'a> {
    /// `UPDATE` or `REPLACE`.
    pub word: &'static str,
    /// The resource's `update` or `replace`.
    pub spec: &'a UpdateSpec,
    /// Its method.
    pub method: &'a MethodSpec,
}

impl<'a> Statement<'a> {
    /// The statement `word` (`UPDATE` / `REPLACE`) on `resource`, or why it has none.
    pub fn of(resource: &'a Resource, replace: bool) -> Result<Self, UpdateError> {
        let (word, spec) = match replace {
            false => ("UPDATE", &resource.spec.update),
            true => ("REPLACE", &resource.spec.replace),
        };
        let not_supported = || UpdateError::NotSupported {
            statement: word,
            table: resource.qualified_name(),
        };
        let spec = spec.as_ref().ok_or_else(not_supported)?;
        let method = resource
            .spec
            .methods
            .get(&spec.method)
            .ok_or_else(not_supported)?;
        Ok(Self { word, spec, method })
    }

    /// `update` or `replace`, for messages.
    pub fn verb(&self) -> &'static str {
        match self.word {
            "REPLACE" => "replace",
            _ => "update",
        }
    }
}

/// What each of `names` (the SET clause's targets, in order) sets; refuses a name that is
/// neither, a key column, a target named twice, and the object with one of its fields.
pub fn resolve(
    resource: &Resource,
    statement: &Statement,
    names: &[String],
) -> Result<Vec<Set>, UpdateError> {
    let table = resource.qualified_name();
    let mut sets = Vec::new();
    for name in names {
        let set = resolve_one(resource, statement, name)?;
        if sets.contains(&set) {
            return Err(UpdateError::Conflicting {
                statement: statement.word,
                table,
                message: format!("`{name}` is set twice"),
            });
        }
        sets.push(set);
    }
    let object = sets.contains(&Set::Object);
    let fields = sets.iter().any(|s| matches!(s, Set::Field { .. }));
    let into_param = statement
        .spec
        .columns
        .as_ref()
        .is_some_and(|c| sets.contains(&Set::Param(c.into.clone())));
    if (object || into_param) && fields || object && into_param {
        let from = statement.spec.columns.as_ref().map(|c| c.from.as_str());
        return Err(UpdateError::Conflicting {
            statement: statement.word,
            table,
            message: format!(
                "the whole object ({}) and some of its fields are both set: set one or the other",
                from.unwrap_or("")
            ),
        });
    }
    Ok(sets)
}

fn resolve_one(resource: &Resource, statement: &Statement, name: &str) -> Result<Set, UpdateError> {
    let refuse = |why: String| UpdateError::NotSettable {
        statement: statement.word,
        table: resource.qualified_name(),
        name: name.to_string(),
        why,
        valid: settable(resource, statement).join(", "),
    };
    if let Some(param) = name.strip_prefix(BODY_PREFIX) {
        if statement.spec.params.contains_key(param) {
            return Err(refuse(": it names the row (set it in WHERE)".into()));
        }
        return match statement.method.params.get(param) {
            Some(p) if p.location == ParamLocation::Body => Ok(Set::Param(param.to_string())),
            _ => Err(refuse(String::new())),
        };
    }
    let Some(column) = resource.columns.iter().find(|c| c.name == name) else {
        return Err(refuse(String::new()));
    };
    if statement.spec.params.values().any(|c| c == name) {
        return Err(refuse(": it names the row (set it in WHERE)".into()));
    }
    let Some(object) = &statement.spec.columns else {
        return Err(refuse(String::new()));
    };
    if column.name == object.from {
        return Ok(Set::Object);
    }
    match column.path.as_deref() {
        Some([from, field]) if *from == object.from => Ok(Set::Field {
            field: field.clone(),
            json: column.ty == ColumnType::Json,
        }),
        Some([from, field, ..]) if *from == object.from => Err(refuse(format!(
            ": it is part of {from}.{field}, which the API replaces whole (set {field})"
        ))),
        _ => Err(refuse(String::new())),
    }
}

/// What SET may name: the body parameters as `data__<param>`, then the settable columns.
fn settable(resource: &Resource, statement: &Statement) -> Vec<String> {
    let mut names: Vec<String> = statement
        .method
        .params
        .iter()
        .filter(|(p, spec)| {
            spec.location == ParamLocation::Body && !statement.spec.params.contains_key(*p)
        })
        .map(|(p, _)| format!("{BODY_PREFIX}{p}"))
        .collect();
    if let Some(object) = &statement.spec.columns {
        for column in &resource.columns {
            let settable = column.name == object.from
                || matches!(column.path.as_deref(), Some([from, _]) if *from == object.from);
            if settable && !statement.spec.params.values().any(|c| c == &column.name) {
                names.push(column.name.clone());
            }
        }
    }
    names
}

/// The body one row's SET values make (`values[i]` is `sets[i]`'s cell, at `row`), beside
/// its key parameters; `row` names the row in errors.
pub fn body(
    statement: &Statement,
    sets: &[Set],
    values: &[ArrayRef],
    row: usize,
    label: &str,
) -> Result<BTreeMap<String, Value>, String> {
    let mut body = BTreeMap::new();
    let mut object = Map::new();
    let mut removed = Vec::new();
    let object_spec = statement.spec.columns.as_ref();
    for (set, array) in sets.iter().zip(values) {
        match set {
            Set::Param(param) => {
                let Some(spec) = statement.method.params.get(param) else {
                    continue;
                };
                let value = sql_value(array, row)?;
                let name = format!("{BODY_PREFIX}{param}");
                let typed =
                    typed_value(&name, spec, &value).map_err(|m| format!("{m} ({label})"))?;
                if let Some(v) = typed {
                    body.insert(param.clone(), v);
                }
            }
            Set::Object => {
                let Some(into) = object_spec.map(|c| &c.into) else {
                    continue;
                };
                match json_text(array, row, into, label)? {
                    Some(Value::Object(o)) => {
                        body.insert(into.clone(), Value::Object(o));
                    }
                    Some(other) => {
                        return Err(format!(
                            "{into} must be a JSON object, got {other} ({label})"
                        ))
                    }
                    None => return Err(format!("{into} cannot be NULL ({label})")),
                }
            }
            Set::Field { field, json } => {
                let value = match json {
                    true => json_text(array, row, field, label)?,
                    false => json_cell(array, row)?,
                };
                match value {
                    Some(v) => {
                        object.insert(field.clone(), v);
                    }
                    None => removed.push(Value::String(field.clone())),
                }
            }
        }
    }
    if let Some(spec) = object_spec {
        if !object.is_empty() || (!removed.is_empty() && spec.remove.is_none()) {
            body.insert(spec.into.clone(), Value::Object(object));
        }
        if !removed.is_empty() {
            if let Some(remove) = &spec.remove {
                body.insert(remove.clone(), Value::Array(removed));
            }
        }
    }
    Ok(body)
}

/// A cell as SQL gave it.
fn sql_value(array: &ArrayRef, row: usize) -> Result<SqlValue, String> {
    let scalar = ScalarValue::try_from_array(array, row).map_err(|e| e.to_string())?;
    Ok(SqlValue::from_scalar(&scalar))
}

/// A text cell holding JSON (a JSON column, the object), parsed; `None` for NULL.
fn json_text(
    array: &ArrayRef,
    row: usize,
    name: &str,
    label: &str,
) -> Result<Option<Value>, String> {
    match sql_value(array, row)? {
        SqlValue::Null => Ok(None),
        SqlValue::Text(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| format!("{name} is not valid JSON ({e}) ({label})")),
        other => Err(format!(
            "{name} expects JSON text, got {} ({label})",
            other.quoted()
        )),
    }
}

/// A typed cell (a number, a string, a struct, a list) as the JSON the API reads; `None` for
/// NULL. Written by arrow's JSON writer, so nested values keep their shape.
fn json_cell(array: &ArrayRef, row: usize) -> Result<Option<Value>, String> {
    if array.is_null(row) {
        return Ok(None);
    }
    let cell = array.slice(row, 1);
    let schema = Arc::new(Schema::new(vec![Field::new(
        "v",
        cell.data_type().clone(),
        true,
    )]));
    let batch = RecordBatch::try_new(schema, vec![cell]).map_err(|e| e.to_string())?;
    let mut writer = ArrayWriter::new(Vec::new());
    writer.write(&batch).map_err(|e| e.to_string())?;
    writer.finish().map_err(|e| e.to_string())?;
    let rows: Vec<Map<String, Value>> =
        serde_json::from_slice(&writer.into_inner()).map_err(|e| e.to_string())?;
    Ok(rows.into_iter().next().and_then(|mut r| r.remove("v")))
}
