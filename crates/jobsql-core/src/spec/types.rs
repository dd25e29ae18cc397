//! Column types: from the spec's names (and `ref:`s to named object types) to Arrow types.
//!
//! `json` columns hold a free-form JSON value as text (readable with the JSON functions of
//! datafusion-functions-json); they are allowed only at the top level, because the response
//! decoder copies their raw text per object. Objects and arrays of typed fields are Arrow structs
//! and lists, so `state['result_state']` and `unnest(tasks)` work; a `map` (an object of free
//! keys, `tags`) is an Arrow map of string keys, so `tags['team']` works. Timestamps are one Arrow
//! type (`Timestamp(ms, UTC)`) whatever the API's encoding (epoch ms, epoch s, RFC 3339), so
//! predicates and range pushdown treat them alike.

use super::error::Finding;
use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Fields, TimeUnit};

use super::model::{ColumnSpec, ObjectType, TimeEncoding};

const NESTED_KEYS: &str = "`fields` belong to objects, `items` to arrays and `values` to maps";

/// The time zone of every timestamp column.
pub const TIMESTAMP_TZ: &str = "UTC";

/// A resolved column type.
#[derive(Debug, Clone, PartialEq)]
pub enum ColumnType {
    /// Utf8.
    String,
    /// Int64.
    Integer,
    /// Float64.
    Double,
    /// Boolean.
    Boolean,
    /// A time, `Timestamp(ms, UTC)` in SQL whatever its encoding in the API: epoch
    /// milliseconds or seconds (0, the API's "not set", e.g. the `end_time` of an active run,
    /// reads as NULL), or RFC 3339 text (`null` reads as NULL).
    Timestamp(TimeEncoding),
    /// Free-form JSON, kept as text.
    Json,
    /// A struct of named fields.
    Object(Vec<(String, ColumnType)>),
    /// A list.
    Array(Box<ColumnType>),
    /// A map from string keys to values of one type (a JSON object of free keys: `tags`).
    Map(Box<ColumnType>),
}

impl ColumnType {
    /// The Arrow type of the column.
    pub fn to_arrow(&self) -> DataType {
        match self {
            ColumnType::String | ColumnType::Json => DataType::Utf8,
            ColumnType::Integer => DataType::Int64,
            ColumnType::Double => DataType::Float64,
            ColumnType::Boolean => DataType::Boolean,
            ColumnType::Timestamp(_) => {
                DataType::Timestamp(TimeUnit::Millisecond, Some(TIMESTAMP_TZ.into()))
            }
            ColumnType::Object(fields) => DataType::Struct(Fields::from(
                fields
                    .iter()
                    .map(|(name, ty)| Field::new(name, ty.to_arrow(), true))
                    .collect::<Vec<_>>(),
            )),
            ColumnType::Array(item) => {
                DataType::List(Arc::new(Field::new("item", item.to_arrow(), true)))
            }
            ColumnType::Map(value) => map_type(value.to_arrow()),
        }
    }

    /// The Arrow type arrow-json decodes the API's JSON into: [`to_arrow`](Self::to_arrow),
    /// except epoch seconds, decoded as `Timestamp(s, UTC)` and then cast to milliseconds.
    pub fn to_decoded_arrow(&self) -> DataType {
        match self {
            ColumnType::Timestamp(TimeEncoding::EpochS) => {
                DataType::Timestamp(TimeUnit::Second, Some(TIMESTAMP_TZ.into()))
            }
            ColumnType::Object(fields) => DataType::Struct(Fields::from(
                fields
                    .iter()
                    .map(|(name, ty)| Field::new(name, ty.to_decoded_arrow(), true))
                    .collect::<Vec<_>>(),
            )),
            ColumnType::Array(item) => {
                DataType::List(Arc::new(Field::new("item", item.to_decoded_arrow(), true)))
            }
            ColumnType::Map(value) => map_type(value.to_decoded_arrow()),
            other => other.to_arrow(),
        }
    }

    /// Whether a value of this type (or inside it) is an epoch timestamp, whose 0 reads as
    /// NULL.
    pub fn has_epoch_timestamp(&self) -> bool {
        match self {
            ColumnType::Timestamp(e) => *e != TimeEncoding::Rfc3339,
            ColumnType::Object(fields) => fields.iter().any(|(_, t)| t.has_epoch_timestamp()),
            ColumnType::Array(item) | ColumnType::Map(item) => item.has_epoch_timestamp(),
            _ => false,
        }
    }

    /// True for the free-form JSON text type.
    pub fn is_json(&self) -> bool {
        matches!(self, ColumnType::Json)
    }
}

/// Arrow's map of string keys to `value`s (entries `key`, `value`; keys unsorted).
fn map_type(value: DataType) -> DataType {
    let entries = Fields::from(vec![
        Field::new("key", DataType::Utf8, false),
        Field::new("value", value, true),
    ]);
    DataType::Map(
        Arc::new(Field::new("entries", DataType::Struct(entries), false)),
        false,
    )
}

/// Named object types of one spec file, for resolving `ref:`.
#[derive(Debug)]
pub struct TypeRegistry<'a> {
    types: &'a BTreeMap<String, ObjectType>,
}

impl<'a> TypeRegistry<'a> {
    /// Wrap a file's `types` map.
    pub fn new(types: &'a BTreeMap<String, ObjectType>) -> Self {
        Self { types }
    }

    /// Resolve a column's type; `place` names it in errors (e.g. `resources.job_runs.columns[3]`).
    pub fn resolve(&self, column: &ColumnSpec, place: &str) -> Result<ColumnType, Finding> {
        self.resolve_at(column, place, 0, true)
    }

    fn resolve_at(
        &self,
        column: &ColumnSpec,
        place: &str,
        depth: usize,
        top_level: bool,
    ) -> Result<ColumnType, Finding> {
        if depth > 16 {
            return Err(Finding::new(
                place,
                "types nest too deeply (a `ref:` cycle?)",
            ));
        }
        if !top_level
            && (column.field.is_some() || column.path.is_some() || !column.which.is_empty())
        {
            return Err(Finding::new(
                place,
                "`field`, `path` and `which` are for top-level columns (a struct's fields and \
                 an array's items are read by their names)",
            ));
        }
        if let Some(name) = &column.reference {
            if column.kind.is_some() {
                return Err(Finding::new(place, "give either `type` or `ref`, not both"));
            }
            let object = self.types.get(name).ok_or_else(|| {
                Finding::new(
                    place,
                    format!("unknown type `{name}` in `ref` (known: {})", self.known()),
                )
            })?;
            return self.object(&object.fields, &format!("types.{name}"), depth);
        }
        let kind = column.kind.as_deref().ok_or_else(|| {
            Finding::new(
                place,
                format!("column `{}` needs a `type` or a `ref`", column.name),
            )
        })?;
        let nested_ok = |what: &str| -> Result<(), Finding> {
            let (fields, items, values) = (
                !column.fields.is_empty(),
                column.items.is_some(),
                column.values.is_some(),
            );
            match (what, fields, items, values) {
                ("object", _, false, false)
                | ("array", false, _, false)
                | ("map", false, false, _) => Ok(()),
                _ => Err(Finding::new(place, NESTED_KEYS)),
            }
        };
        let ty = match kind {
            "string" => ColumnType::String,
            "integer" => ColumnType::Integer,
            "double" => ColumnType::Double,
            "boolean" => ColumnType::Boolean,
            "timestamp_ms" => ColumnType::Timestamp(TimeEncoding::EpochMs),
            "timestamp_s" => ColumnType::Timestamp(TimeEncoding::EpochS),
            "timestamp_rfc3339" => ColumnType::Timestamp(TimeEncoding::Rfc3339),
            "json" if top_level => ColumnType::Json,
            "json" => {
                return Err(Finding::new(
                    place,
                    "`json` is supported for top-level columns only; type the fields or \
                     leave this one out",
                ))
            }
            "object" => {
                nested_ok("object")?;
                if column.fields.is_empty() {
                    return Err(Finding::new(place, "an `object` needs `fields`"));
                }
                self.object(&column.fields, place, depth)?
            }
            "array" => {
                nested_ok("array")?;
                let items = column
                    .items
                    .as_ref()
                    .ok_or_else(|| Finding::new(place, "an `array` needs `items`"))?;
                let item = self.resolve_at(items, &format!("{place}.items"), depth + 1, false)?;
                ColumnType::Array(Box::new(item))
            }
            "map" => {
                nested_ok("map")?;
                let values = column
                    .values
                    .as_ref()
                    .ok_or_else(|| Finding::new(place, "a `map` needs `values`"))?;
                let value =
                    self.resolve_at(values, &format!("{place}.values"), depth + 1, false)?;
                ColumnType::Map(Box::new(value))
            }
            other => {
                return Err(Finding::new(
                    place,
                    format!(
                        "unknown type `{other}` (expected string, integer, double, boolean, \
                     timestamp_ms, timestamp_s, timestamp_rfc3339, json, object, array, map)"
                    ),
                ))
            }
        };
        if !matches!(kind, "object" | "array" | "map")
            && (!column.fields.is_empty() || column.items.is_some() || column.values.is_some())
        {
            return Err(Finding::new(place, NESTED_KEYS));
        }
        Ok(ty)
    }

    fn object(
        &self,
        fields: &[ColumnSpec],
        place: &str,
        depth: usize,
    ) -> Result<ColumnType, Finding> {
        let mut out = Vec::with_capacity(fields.len());
        for (i, field) in fields.iter().enumerate() {
            let at = format!("{place}.fields[{i}] ({})", field.name);
            if field.name.is_empty() {
                return Err(Finding::new(
                    format!("{place}.fields[{i}]"),
                    "a field needs a `name`",
                ));
            }
            if out.iter().any(|(n, _)| n == &field.name) {
                return Err(Finding::new(
                    at,
                    format!("duplicate field `{}`", field.name),
                ));
            }
            out.push((
                field.name.clone(),
                self.resolve_at(field, &at, depth + 1, false)?,
            ));
        }
        Ok(ColumnType::Object(out))
    }

    fn known(&self) -> String {
        let names: Vec<&str> = self.types.keys().map(String::as_str).collect();
        if names.is_empty() {
            "none".to_string()
        } else {
            names.join(", ")
        }
    }
}
