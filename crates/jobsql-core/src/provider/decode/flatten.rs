//! Flattened rows (`response.flatten:`): each object's array elements are the rows (a run's
//! `tasks`), with the columns the spec names as the object's (`parent:`) repeated on each.
//!
//! Two decoders share the work: one decodes the elements' columns from the elements, exactly
//! as it would decode listed objects; the other decodes the parent columns from the objects,
//! one row per object, which Arrow's `take` then repeats once per element. Both are the same
//! [`PageDecoder`] as any resource's (typed columns, `json`, `path`, parameters, timestamps),
//! so a flattened column behaves as it would on a resource of its own. An object without the
//! array (absent, `null` or `[]`) gives no row. The rows per object are kept for the slices,
//! which drop the first page's oldest objects' rows (`fetch/slices.rs`).

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, UInt32Array};
use datafusion::arrow::compute::take;
use datafusion::arrow::datatypes::{Schema, SchemaRef};
use datafusion::arrow::record_batch::{RecordBatch, RecordBatchOptions};
use serde_json::value::RawValue;

use crate::spec::{FlattenSpec, Resource};

use super::super::ProviderError;
use super::{Object, PageDecoder};

/// Where an output column comes from.
#[derive(Debug, Clone, Copy)]
enum Slot {
    /// The i-th column of the elements' batch.
    Element(usize),
    /// The i-th column of the objects' batch (repeated per element).
    Parent(usize),
}

/// How one scan flattens: the array, the two decoders, and where each output column is.
#[derive(Debug, Clone)]
pub(super) struct Flattening {
    array: String,
    element: PageDecoder,
    parent: PageDecoder,
    slots: Vec<Slot>,
}

/// A flattened batch, and how many of its rows each object gave.
pub(super) struct Flattened {
    pub batch: RecordBatch,
    pub per_object: Vec<usize>,
}

impl Flattening {
    /// The flattening of `resource`'s columns at `projection` by `spec`.
    pub(super) fn new(resource: &Resource, projection: &[usize], spec: &FlattenSpec) -> Self {
        let mut element = Vec::new();
        let mut parent = Vec::new();
        let slots = projection
            .iter()
            .map(|&i| {
                if spec.parent.contains(&resource.columns[i].name) {
                    parent.push(i);
                    Slot::Parent(parent.len() - 1)
                } else {
                    element.push(i);
                    Slot::Element(element.len() - 1)
                }
            })
            .collect();
        let decoder = |projection: &[usize]| {
            PageDecoder::new(
                resource,
                schema_of(resource, projection),
                projection,
                None,
                None,
            )
        };
        Self {
            array: spec.array.clone(),
            element: decoder(&element),
            parent: decoder(&parent),
            slots,
        }
    }

    /// The rows of `objects`: their array's elements, each with its object's columns, in
    /// `output`'s schema (`outer` names the table in errors).
    pub(super) fn decode(
        &self,
        outer: &PageDecoder,
        objects: &[&RawValue],
        params: &BTreeMap<String, String>,
    ) -> Result<Flattened, ProviderError> {
        let mut elements: Vec<&RawValue> = Vec::new();
        let mut per_object = Vec::with_capacity(objects.len());
        let mut owners: Vec<u32> = Vec::new();
        for (i, object) in objects.iter().enumerate() {
            let fields: Object = serde_json::from_str(object.get())
                .map_err(|e| outer.invalid(format!("an object is not a JSON object: {e}")))?;
            let before = elements.len();
            match fields.get(self.array.as_str()) {
                Some(raw) if raw.get() != "null" => {
                    let list: Vec<&RawValue> = serde_json::from_str(raw.get()).map_err(|e| {
                        outer.invalid(format!("`{}` is not an array: {e}", self.array))
                    })?;
                    elements.extend(list);
                }
                _ => {}
            }
            let n = elements.len() - before;
            let owner = u32::try_from(i)
                .map_err(|_| outer.invalid("too many objects in one page".into()))?;
            owners.extend(std::iter::repeat_n(owner, n));
            per_object.push(n);
        }
        let element = self.element.decode_objects(&elements, params)?;
        let parent = self.parent.decode_objects(objects, params)?;
        let owners = UInt32Array::from(owners);
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(self.slots.len());
        for slot in &self.slots {
            columns.push(match *slot {
                Slot::Element(i) => element.column(i).clone(),
                Slot::Parent(i) => take(parent.column(i).as_ref(), &owners, None)
                    .map_err(|e| outer.invalid(e.to_string()))?,
            });
        }
        let options = RecordBatchOptions::new().with_row_count(Some(elements.len()));
        let batch = RecordBatch::try_new_with_options(outer.output.clone(), columns, &options)
            .map_err(|e| outer.invalid(e.to_string()))?;
        Ok(Flattened { batch, per_object })
    }
}

/// The schema of `resource`'s columns at `projection`.
fn schema_of(resource: &Resource, projection: &[usize]) -> SchemaRef {
    let fields: Vec<_> = projection
        .iter()
        .map(|&i| {
            let c = &resource.columns[i];
            datafusion::arrow::datatypes::Field::new(&c.name, c.ty.to_arrow(), true)
        })
        .collect();
    Arc::new(Schema::new(fields))
}
