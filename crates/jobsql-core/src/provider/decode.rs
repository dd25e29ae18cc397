//! Response pages to Arrow: one `RecordBatch` per page.
//!
//! The objects are found where the method's `response.objects` says (a dotted path, the body
//! itself as an array, or the body as the one object: `decode/shape.rs`), with what the body says
//! about the next page (`pagination.next`, `total`); for a listing, in one serde_json pass that
//! follows only those paths' keys (`decode/split.rs`) and picks out of each object the fields
//! the columns read, which arrow-json then decodes alone (`decode/picked.rs`). The typed columns are decoded straight
//! from the response bytes by arrow-json's `Decoder`, fed the raw bytes of each object (found
//! with `serde_json::value::RawValue`, which borrows rather than building values), under their
//! JSON names (a column's `field:`, `jobId` for `job_id`) and output under the column names, in
//! the same pass (a column's `from_param` fills its NULLs with the request's value of that
//! parameter). `json` columns get the raw text of their field; a column with a `path`
//! (jobs' `name` at `settings.name`, `schedule` at `settings.schedule`) gets the value found
//! there, of any type (`decode/nested.rs` for structs, lists and maps). Parameter columns get the
//! value the request used. Timestamps of every encoding end as `Timestamp(ms, UTC)`, an epoch 0
//! (the API's "not set") as NULL (`decode/times.rs`). A value of the wrong type is an error naming the
//! column's message from arrow and the row's key.

mod flatten;
mod shape;
mod nested;
mod picked;
mod split;
mod times;

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, BooleanArray, Int64Array, StringArray, StringBuilder};
use datafusion::arrow::compute::{is_null, kernels::zip::zip};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::json::reader::{Decoder, ReaderBuilder};
use datafusion::arrow::record_batch::{RecordBatch, RecordBatchOptions};
use serde_json::value::RawValue;

use crate::request::PageMarks;
use crate::spec::{ColumnType, FlattenSpec, PaginationSpec, Resource};

use flatten::Flattening;
use picked::Picks;
use shape::Objects;
use split::Layout;

use super::ProviderError;

type Object<'a> = HashMap<Cow<'a, str>, &'a RawValue>;

/// How each output column is filled.
#[derive(Debug, Clone)]
enum Source {
    /// The i-th column of the arrow-json decoder's output, of this type.
    Typed(usize, ColumnType),
    /// The raw JSON text of this field.
    Json(String),
    /// The scalar at this path of fields (NULL when a field is absent or null).
    Path { path: Vec<String>, ty: ColumnType },
    /// The request's value of this parameter.
    Param { name: String, ty: ColumnType },
    /// The name of the first of these fields present (and not null).
    Which(Vec<String>),
}

/// Decodes the pages of one resource into batches of the projected schema.
#[derive(Debug, Clone)]
pub struct PageDecoder {
    table: String,
    key: Option<String>,
    objects: Objects,
    /// The objects' and marks' paths as one tree, when they form one (one pass a page).
    layout: Option<Layout>,
    /// The fields each object's columns read, picked out in that pass (`decode/picked.rs`).
    picks: Option<Picks>,
    next: Option<Vec<String>>,
    total: Option<Vec<String>>,
    typed_schema: SchemaRef,
    output: SchemaRef,
    sources: Vec<Source>,
    /// When the rows are the elements of an array in each object (`response.flatten:`).
    flatten: Option<Box<Flattening>>,
    /// For each output column, the parameter whose request value fills its NULLs.
    fallbacks: Vec<Option<String>>,
}

/// One decoded page.
#[derive(Debug)]
pub struct Page {
    /// The rows.
    pub batch: RecordBatch,
    /// What the body says about the next page.
    pub marks: PageMarks,
    /// The objects the page held (before any limit cut the batch).
    pub objects: usize,
    /// When the rows are flattened: how many rows each object gave, in order.
    pub per_object: Option<Vec<usize>>,
}

impl PageDecoder {
    /// A decoder for `resource`'s columns at `projection` (indices into its schema), reading
    /// objects at the method's `objects` path and the next page's marks `pagination` names.
    pub fn new(
        resource: &Resource,
        output: SchemaRef,
        projection: &[usize],
        objects: Option<&str>,
        pagination: Option<&PaginationSpec>,
    ) -> Self {
        let mut typed_fields: Vec<Field> = Vec::new();
        let mut sources = Vec::with_capacity(projection.len());
        let mut fallbacks = Vec::with_capacity(projection.len());
        for &i in projection {
            let column = &resource.columns[i];
            fallbacks.push(column.from_param.clone());
            let source = if column.is_parameter {
                Source::Param {
                    name: column.name.clone(),
                    ty: column.ty.clone(),
                }
            } else if !column.which.is_empty() {
                Source::Which(column.which.clone())
            } else if let Some(path) = &column.path {
                Source::Path {
                    path: path.clone(),
                    ty: column.ty.clone(),
                }
            } else if column.ty.is_json() {
                Source::Json(column.json_name().to_string())
            } else {
                let decoded = column.ty.to_decoded_arrow();
                typed_fields.push(Field::new(column.json_name(), decoded, true));
                Source::Typed(typed_fields.len() - 1, column.ty.clone())
            };
            sources.push(source);
        }
        let objects = Objects::of(objects);
        let next = pagination.and_then(PaginationSpec::next_path);
        let total = pagination.and_then(PaginationSpec::total_path);
        let layout = match &objects {
            Objects::At(path) => Layout::new(path, next.as_deref(), total.as_deref()),
            Objects::Body => None,
        };
        let typed: Vec<String> = typed_fields.iter().map(|f| f.name().clone()).collect();
        let picks = layout.as_ref().map(|_| Picks::new(&sources, &typed));
        Self {
            table: resource.qualified_name(),
            key: resource
                .spec
                .key
                .first()
                .map(|k| resource.json_field(k).to_string()),
            objects,
            layout,
            picks,
            next,
            total,
            typed_schema: Arc::new(Schema::new(typed_fields)),
            output,
            sources,
            flatten: None,
            fallbacks,
        }
    }

    /// This decoder making one row per element of `flatten`'s array in each object (none:
    /// unchanged), for `resource`'s columns at `projection` (as given to [`Self::new`]).
    pub fn flattening(
        mut self,
        resource: &Resource,
        projection: &[usize],
        flatten: Option<&FlattenSpec>,
    ) -> Self {
        if let Some(spec) = flatten {
            self.flatten = Some(Box::new(Flattening::new(resource, projection, spec)));
            // The fast way picks the objects' fields; the rows are the elements'.
            self.picks = None;
        }
        self
    }

    /// Decode one response body. `params` are the request's parameters (for parameter columns).
    pub fn decode(
        &self,
        body: &[u8],
        params: &BTreeMap<String, String>,
    ) -> Result<Page, ProviderError> {
        if let Some(page) = self.decode_picked(body, params) {
            return Ok(page);
        }
        let (objects, marks) = self.split(body)?;
        let (batch, per_object) = self.decode_counted(&objects, params)?;
        Ok(Page {
            batch,
            marks,
            objects: objects.len(),
            per_object,
        })
    }

    /// A response body's objects (borrowed, not parsed into values) and what it says about
    /// the next page: one pass of `decode/split.rs` when the paths form a tree (always for a
    /// listing), else step by step (`decode/shape.rs`).
    pub fn split<'a>(
        &self,
        body: &'a [u8],
    ) -> Result<(Vec<&'a RawValue>, PageMarks), ProviderError> {
        if let Some(layout) = &self.layout {
            return layout.split(body).map_err(|m| self.invalid(m));
        }
        let raw: &RawValue =
            serde_json::from_slice(body).map_err(|e| self.invalid(format!("not JSON: {e}")))?;
        let marks = shape::marks(raw, self.next.as_deref(), self.total.as_deref())
            .map_err(|m| self.invalid(m))?;
        let objects = shape::objects(raw, &self.objects).map_err(|m| self.invalid(m))?;
        Ok((objects, marks))
    }

    /// Decode a list of objects (already merged across pages, for single-object methods).
    pub fn decode_objects(
        &self,
        objects: &[&RawValue],
        params: &BTreeMap<String, String>,
    ) -> Result<RecordBatch, ProviderError> {
        self.decode_counted(objects, params).map(|(batch, _)| batch)
    }

    /// Decode a list of objects, and, when the rows are flattened, how many each gave.
    pub fn decode_counted(
        &self,
        objects: &[&RawValue],
        params: &BTreeMap<String, String>,
    ) -> Result<(RecordBatch, Option<Vec<usize>>), ProviderError> {
        if let Some(flatten) = &self.flatten {
            let flat = flatten.decode(self, objects, params)?;
            return Ok((flat.batch, Some(flat.per_object)));
        }
        self.decode_each(objects, params).map(|batch| (batch, None))
    }

    /// One row per object.
    fn decode_each(
        &self,
        objects: &[&RawValue],
        params: &BTreeMap<String, String>,
    ) -> Result<RecordBatch, ProviderError> {
        let rows = objects.len();
        let typed = if self.typed_schema.fields().is_empty() {
            Vec::new()
        } else {
            self.decode_typed(objects)?
        };
        let needs_json = self
            .sources
            .iter()
            .any(|s| matches!(s, Source::Json(_) | Source::Path { .. } | Source::Which(_)));
        let parsed: Vec<Object> = if needs_json {
            objects
                .iter()
                .map(|o| serde_json::from_str(o.get()))
                .collect::<Result<_, _>>()
                .map_err(|e| self.invalid(format!("an object is not a JSON object: {e}")))?
        } else {
            Vec::new()
        };
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(self.sources.len());
        for source in &self.sources {
            columns.push(match source {
                Source::Typed(i, ty) => {
                    times::finish(&typed[*i], ty).map_err(|m| self.invalid(m))?
                }
                Source::Json(name) => {
                    let mut b = StringBuilder::with_capacity(rows, rows * 64);
                    for o in &parsed {
                        match o.get(name.as_str()).map(|r| r.get()) {
                            Some("null") | None => b.append_null(),
                            Some(text) => b.append_value(text),
                        }
                    }
                    Arc::new(b.finish())
                }
                Source::Param { name, ty } => param_column(params.get(name), ty, rows),
                Source::Path { path, ty } => self.path_column(&parsed, path, ty)?,
                Source::Which(names) => which_column(&parsed, names),
            });
        }
        let columns = self.fill_from_params(columns, params, rows)?;
        let options = RecordBatchOptions::new().with_row_count(Some(rows));
        RecordBatch::try_new_with_options(self.output.clone(), columns, &options)
            .map_err(|e| self.invalid(e.to_string()))
    }

    /// The columns with a `from_param` rule, their NULLs filled with the request's value of
    /// that parameter (when it sent one).
    fn fill_from_params(
        &self,
        mut columns: Vec<ArrayRef>,
        params: &BTreeMap<String, String>,
        rows: usize,
    ) -> Result<Vec<ArrayRef>, ProviderError> {
        for (column, fallback) in columns.iter_mut().zip(&self.fallbacks) {
            let Some(value) = fallback.as_ref().and_then(|p| params.get(p)) else {
                continue;
            };
            if column.null_count() == 0 {
                continue;
            }
            let ty = match column.data_type() {
                DataType::Int64 => ColumnType::Integer,
                DataType::Boolean => ColumnType::Boolean,
                _ => ColumnType::String,
            };
            let filler = param_column(Some(value), &ty, rows);
            let nulls = is_null(column).map_err(|e| self.invalid(e.to_string()))?;
            *column = zip(&nulls, &filler, column).map_err(|e| self.invalid(e.to_string()))?;
        }
        Ok(columns)
    }

    /// The scalars at `path` in each object, as a column of type `ty`.
    fn path_column(
        &self,
        objects: &[Object],
        path: &[String],
        ty: &ColumnType,
    ) -> Result<ArrayRef, ProviderError> {
        let mut texts: Vec<Option<&str>> = Vec::with_capacity(objects.len());
        for o in objects {
            texts.push(self.at_path(o, path)?);
        }
        self.path_values(&texts, path, ty)
    }

    /// The values `texts` (raw JSON, found at `path`), as a column of type `ty`: scalars
    /// directly, `json` as their text, structs, lists and maps through arrow-json.
    fn path_values(
        &self,
        texts: &[Option<&str>],
        path: &[String],
        ty: &ColumnType,
    ) -> Result<ArrayRef, ProviderError> {
        match ty {
            ColumnType::String | ColumnType::Integer | ColumnType::Boolean => {
                self.scalar_column(texts, path, ty)
            }
            ColumnType::Json => Ok(Arc::new(texts.iter().copied().collect::<StringArray>())),
            _ => nested::column(texts, ty).map_err(|message| ProviderError::UnexpectedValue {
                table: self.table.clone(),
                row: String::new(),
                message: crate::redact::outgoing(&format!("`{}`: {message}", path.join("."))),
            }),
        }
    }

    /// The scalars `texts` (raw JSON, found at `path`), as a column of type `ty`.
    fn scalar_column(
        &self,
        texts: &[Option<&str>],
        path: &[String],
        ty: &ColumnType,
    ) -> Result<ArrayRef, ProviderError> {
        let wrong = |text: &str| ProviderError::UnexpectedValue {
            table: self.table.clone(),
            row: String::new(),
            message: crate::redact::outgoing(&format!(
                "`{}` is not {}: {text}",
                path.join("."),
                ty.to_arrow()
            )),
        };
        Ok(match ty {
            ColumnType::Integer => Arc::new(
                texts
                    .iter()
                    .map(|t| {
                        t.map(|t| t.parse::<i64>().map_err(|_| wrong(t)))
                            .transpose()
                    })
                    .collect::<Result<Int64Array, _>>()?,
            ),
            ColumnType::Boolean => Arc::new(
                texts
                    .iter()
                    .map(|t| {
                        t.map(|t| t.parse::<bool>().map_err(|_| wrong(t)))
                            .transpose()
                    })
                    .collect::<Result<BooleanArray, _>>()?,
            ),
            _ => Arc::new(
                texts
                    .iter()
                    .map(|t| {
                        t.map(|t| serde_json::from_str::<String>(t).map_err(|_| wrong(t)))
                            .transpose()
                    })
                    .collect::<Result<StringArray, _>>()?,
            ),
        })
    }

    /// The raw JSON text at `path` in `object`; `None` when a field is absent or null.
    fn at_path<'a>(
        &self,
        object: &Object<'a>,
        path: &[String],
    ) -> Result<Option<&'a str>, ProviderError> {
        let Some(first) = path.first() else {
            return Ok(None);
        };
        self.below(object.get(first.as_str()).copied(), path)
    }

    /// The raw JSON text at `path` given the value of its first field (`None`: absent).
    fn below<'a>(
        &self,
        first: Option<&'a RawValue>,
        path: &[String],
    ) -> Result<Option<&'a str>, ProviderError> {
        let (Some(mut raw), Some((name, rest))) = (first, path.split_first()) else {
            return Ok(None);
        };
        for field in rest {
            if raw.get() == "null" {
                return Ok(None);
            }
            let inner: Object<'a> = serde_json::from_str(raw.get())
                .map_err(|e| self.invalid(format!("`{name}` is not a JSON object: {e}")))?;
            raw = match inner.get(field.as_str()) {
                Some(r) => r,
                None => return Ok(None),
            };
        }
        Ok(Some(raw.get()).filter(|t| *t != "null"))
    }

    fn decode_typed(&self, objects: &[&RawValue]) -> Result<Vec<ArrayRef>, ProviderError> {
        let attempt = |objects: &[&RawValue]| -> Result<Option<RecordBatch>, String> {
            let mut decoder = self.new_decoder(objects.len()).map_err(|e| e.to_string())?;
            for o in objects {
                feed(&mut decoder, o.get().as_bytes())?;
            }
            decoder.flush().map_err(|e| e.to_string())
        };
        match attempt(objects) {
            Ok(Some(batch)) => Ok(batch.columns().to_vec()),
            Ok(None) => Ok(self
                .typed_schema
                .fields()
                .iter()
                .map(|f| datafusion::arrow::array::new_empty_array(f.data_type()))
                .collect()),
            Err(message) => {
                // Find the object that does not fit, to name it.
                let culprit = objects
                    .iter()
                    .find(|o| attempt(std::slice::from_ref(o)).is_err());
                let row = culprit.map(|o| self.describe_row(o)).unwrap_or_default();
                // Both quote the response, which may echo a secret.
                Err(ProviderError::UnexpectedValue {
                    table: self.table.clone(),
                    row: crate::redact::outgoing(&row),
                    message: crate::redact::outgoing(&message),
                })
            }
        }
    }

    /// A decoder whose one batch holds every object of the page.
    fn new_decoder(&self, rows: usize) -> Result<Decoder, datafusion::arrow::error::ArrowError> {
        ReaderBuilder::new(self.typed_schema.clone())
            .with_batch_size(rows.max(1))
            .build_decoder()
    }

    fn describe_row(&self, object: &RawValue) -> String {
        let key = self.key.as_deref().unwrap_or("");
        let parsed: Result<Object, _> = serde_json::from_str(object.get());
        match parsed
            .ok()
            .and_then(|o| o.get(key).map(|v| v.get().to_string()))
        {
            Some(v) => format!(" ({key} {v})"),
            None => String::new(),
        }
    }

    fn invalid(&self, message: String) -> ProviderError {
        ProviderError::InvalidResponse {
            table: self.table.clone(),
            message,
        }
    }
}

fn feed(decoder: &mut Decoder, mut bytes: &[u8]) -> Result<(), String> {
    while !bytes.is_empty() {
        let read = decoder.decode(bytes).map_err(|e| e.to_string())?;
        if read == 0 {
            return Err("the decoder made no progress".into());
        }
        bytes = &bytes[read..];
    }
    Ok(())
}

/// The name of the first of `names` each object has (present and not null), else NULL.
fn which_column(objects: &[Object], names: &[String]) -> ArrayRef {
    let present = |o: &Object, n: &String| o.get(n.as_str()).is_some_and(|r| r.get() != "null");
    Arc::new(
        objects
            .iter()
            .map(|o| names.iter().find(|n| present(o, n)).map(String::as_str))
            .collect::<StringArray>(),
    )
}

/// A constant column holding a parameter's value (NULL when the request did not set it).
fn param_column(value: Option<&String>, ty: &ColumnType, rows: usize) -> ArrayRef {
    match ty {
        ColumnType::Boolean => Arc::new(BooleanArray::from(vec![value.map(|v| v == "true"); rows])),
        ColumnType::Integer => Arc::new(Int64Array::from(vec![
            value.and_then(|v| v
                .parse::<i64>()
                .ok());
            rows
        ])),
        _ => Arc::new(StringArray::from(vec![value.map(String::as_str); rows])),
    }
}
