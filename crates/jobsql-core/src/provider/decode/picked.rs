//! The fast way through a listing page: the splitting pass (`split.rs`) picks out of each
//! object only the top-level fields the columns read, and arrow-json's tape decoder then reads
//! those fields alone — rewritten as one small object per row (`{"run_id":1,"state":{...}}`),
//! the whole page in one call — instead of every byte of every object. `json` and `path`
//! columns read the picked values directly.
//!
//! The answers are the same as decoding the whole objects (arrow-json ignores the fields no
//! column reads). Any failure — a body that is not JSON, an element that is not an object, a
//! value of the wrong type — gives up the fast way: the page is then decoded the whole way,
//! which names the problem (and the row) exactly as before.

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, StringBuilder};
use datafusion::arrow::record_batch::{RecordBatch, RecordBatchOptions};
use serde_json::value::RawValue;

use super::split::Picked;
use super::{feed, param_column, times, Page, PageDecoder, Source};

/// The fields one decoder picks out of each object, and how its columns find them.
#[derive(Debug, Clone)]
pub(super) struct Picks {
    /// The top-level JSON fields read, each once.
    names: Vec<String>,
    /// For each picked field, its key as the rewritten object writes it (`"run_id":`), when a
    /// typed column reads it.
    keys: Vec<Option<String>>,
    /// For each output column of a `json` or `path` source, the picked field it starts at.
    starts: Vec<Option<usize>>,
}

impl Picks {
    /// The picks of `sources` (typed columns named by `typed`, their JSON names).
    pub(super) fn new(sources: &[Source], typed: &[String]) -> Self {
        let mut names: Vec<String> = Vec::new();
        let index = |name: &str, names: &mut Vec<String>| match names.iter().position(|n| n == name)
        {
            Some(i) => i,
            None => {
                names.push(name.to_string());
                names.len() - 1
            }
        };
        let typed_at: Vec<usize> = typed.iter().map(|t| index(t, &mut names)).collect();
        let starts = sources
            .iter()
            .map(|s| match s {
                Source::Json(name) => Some(index(name, &mut names)),
                Source::Path { path, .. } => path.first().map(|f| index(f, &mut names)),
                // `which` reads several fields: such a page is decoded the whole way.
                Source::Typed(..) | Source::Param { .. } | Source::Which(_) => None,
            })
            .collect();
        let mut keys = vec![None; names.len()];
        for i in typed_at {
            keys[i] = serde_json::to_string(&names[i]).ok().map(|k| k + ":");
        }
        Self {
            names,
            keys,
            starts,
        }
    }
}

impl PageDecoder {
    /// The page decoded the fast way, or `None` when it cannot be (then the whole way).
    pub(super) fn decode_picked(
        &self,
        body: &[u8],
        params: &BTreeMap<String, String>,
    ) -> Option<Page> {
        let (layout, picks) = (self.layout.as_ref()?, self.picks.as_ref()?);
        let (picked, marks) = layout.pick(body, &picks.names).ok()?;
        let rows = picked.objects;
        let typed = self.decode_rewritten(&picked, picks, rows)?;
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(self.sources.len());
        for (source, start) in self.sources.iter().zip(&picks.starts) {
            columns.push(match (source, start) {
                (Source::Typed(i, ty), _) => times::finish(typed.get(*i)?, ty).ok()?,
                (Source::Param { name, ty }, _) => param_column(params.get(name), ty, rows),
                (Source::Json(_), Some(start)) => {
                    let mut b = StringBuilder::with_capacity(rows, rows * 64);
                    for value in last_values(&picked, *start, rows) {
                        match value.map(RawValue::get) {
                            Some("null") | None => b.append_null(),
                            Some(text) => b.append_value(text),
                        }
                    }
                    Arc::new(b.finish())
                }
                (Source::Path { path, ty }, Some(start)) => {
                    let mut texts = Vec::with_capacity(rows);
                    for value in last_values(&picked, *start, rows) {
                        texts.push(self.below(value, path).ok()?);
                    }
                    self.path_values(&texts, path, ty).ok()?
                }
                _ => return None,
            });
        }
        let columns = self.fill_from_params(columns, params, rows).ok()?;
        let options = RecordBatchOptions::new().with_row_count(Some(rows));
        let batch =
            RecordBatch::try_new_with_options(self.output.clone(), columns, &options).ok()?;
        Some(Page {
            batch,
            marks,
            objects: rows,
            per_object: None,
        })
    }

    /// The typed columns, decoded by arrow-json from the picked fields rewritten as one
    /// object per row.
    fn decode_rewritten(
        &self,
        picked: &Picked,
        picks: &Picks,
        rows: usize,
    ) -> Option<Vec<ArrayRef>> {
        if self.typed_schema.fields().is_empty() {
            return Some(Vec::new());
        }
        let mut text: Vec<u8> = Vec::with_capacity(rows * 64);
        let mut values = picked.values.iter().peekable();
        for row in 0..rows {
            text.push(b'{');
            let mut first = true;
            while let Some((_, name, value)) = values.next_if(|(o, _, _)| *o == row) {
                let Some(key) = &picks.keys[*name] else {
                    continue;
                };
                if !first {
                    text.push(b',');
                }
                first = false;
                text.extend_from_slice(key.as_bytes());
                text.extend_from_slice(value.get().as_bytes());
            }
            text.extend_from_slice(b"}\n");
        }
        let mut decoder = self.new_decoder(rows).ok()?;
        feed(&mut decoder, &text).ok()?;
        match decoder.flush().ok()? {
            Some(batch) => Some(batch.columns().to_vec()),
            None => Some(
                self.typed_schema
                    .fields()
                    .iter()
                    .map(|f| datafusion::arrow::array::new_empty_array(f.data_type()))
                    .collect(),
            ),
        }
    }
}

/// For each of `rows` objects, the last value of the `name`-th picked field (a key given
/// twice: the last wins, as in a map), `None` when absent.
fn last_values<'a>(picked: &Picked<'a>, name: usize, rows: usize) -> Vec<Option<&'a RawValue>> {
    let mut out = vec![None; rows];
    for (object, n, value) in &picked.values {
        if *n == name {
            if let Some(slot) = out.get_mut(*object) {
                *slot = Some(*value);
            }
        }
    }
    out
}
