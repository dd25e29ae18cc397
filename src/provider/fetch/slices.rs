//! Parallel listing: a listing sorted newest first (runs/list by `start_time`) is split into
//! disjoint ranges listed concurrently, so a long history costs a few round trips of latency
//! instead of one per page.
//!
//! The first page is fetched as usual, over the whole range. If it is the only page, that is
//! all (one request, as before). Otherwise it holds every object newer than its oldest one,
//! `t`; its rows at exactly `t` are dropped (more objects may share that instant on the next
//! pages), and the rest of the range, up to and including `t`, is cut into equal slices listed
//! concurrently, each paginated to its end. The API's bounds are inclusive, so slice `i` is
//! `[b_i, b_(i+1) - 1]`: no gap, no overlap; the oldest slice keeps the query's own lower bound
//! (or none), so objects older than the window are not lost. Every object is returned exactly
//! once, whatever the distribution; an uneven one only costs balance.
//!
//! Slicing is used when the method has a `parallel:` rule, the query has no LIMIT (one page
//! then does better), and the runtime allows more than one request at a time. When the scan
//! declares the listing's order, the slices (disjoint, newest first) are emitted one after the
//! other, newest first: concatenated, they are in the listing's order.

use std::sync::Arc;

use datafusion::arrow::array::BooleanArray;
use datafusion::arrow::compute::filter_record_batch;
use datafusion::arrow::record_batch::RecordBatch;
use futures::stream::{self, BoxStream};
use futures::{StreamExt, TryStreamExt};
use serde_json::value::RawValue;

use crate::spec::ParallelSpec;

use super::super::pushdown::RequestTemplate;
use super::super::ProviderError;
use super::{build_request, complete, pages_from, resolve_workspace, send, template_stream, Fetch};
use crate::workspace::Workspace;

const DAY_MS: i64 = 86_400_000;

/// How a scan's listings are split: the rule, its range parameters, and how many slices are
/// listed at once.
#[derive(Debug, Clone)]
pub struct Slicing {
    /// The method's `parallel:` rule.
    pub rule: ParallelSpec,
    /// The inclusive lower-bound parameter of the rule's column.
    pub lower: String,
    /// The inclusive upper-bound parameter.
    pub upper: String,
    /// Slices listed at once (the slices are twice as many, for balance).
    pub concurrency: usize,
    /// Whether the rows must come in the listing's order (the scan declares it): the slices
    /// are still listed concurrently, but each is collected and they are emitted newest
    /// first — memory up to what a sort would hold.
    pub ordered: bool,
}

/// The batches of one template: sliced when `slicing` is given, else page after page.
pub fn scan_stream(
    fetch: Arc<Fetch>,
    template: RequestTemplate,
    slicing: Option<Slicing>,
) -> BoxStream<'static, Result<RecordBatch, ProviderError>> {
    let Some(slicing) = slicing else {
        return template_stream(fetch, template).boxed();
    };
    let probe = {
        let fetch = fetch.clone();
        let slicing = slicing.clone();
        async move { first_page(&fetch, template, &slicing).await }
    };
    stream::once(probe)
        .flat_map(move |first| -> BoxStream<'static, _> {
            match first {
                Err(e) => stream::once(async move { Err(e) }).boxed(),
                Ok(First { batch, rest }) => {
                    let fetch = fetch.clone();
                    let rest = match rest {
                        Rest::Slices(slices) if slicing.ordered => {
                            stream::iter(slices.into_iter().rev())
                                .map(move |t| {
                                    template_stream(fetch.clone(), t).try_collect::<Vec<_>>()
                                })
                                .buffered(slicing.concurrency)
                                .map_ok(|batches| stream::iter(batches.into_iter().map(Ok)))
                                .try_flatten()
                                .boxed()
                        }
                        Rest::Slices(slices) => stream::iter(slices)
                            .map(move |t| template_stream(fetch.clone(), t).boxed())
                            .flatten_unordered(slicing.concurrency)
                            .boxed(),
                        Rest::Pages(template, workspace, token) => {
                            pages_from(fetch, template, Some(workspace), Some(token)).boxed()
                        }
                    };
                    stream::iter(batch.map(Ok)).chain(rest).boxed()
                }
            }
        })
        .boxed()
}

/// The first page of a listing, and how the rest is fetched.
struct First {
    batch: Option<RecordBatch>,
    rest: Rest,
}

/// The rest of a listing after its first page.
enum Rest {
    /// Concurrent slices (none when the first page was the only one).
    Slices(Vec<RequestTemplate>),
    /// Page after page from the next-page token: the objects do not carry the sort column, so
    /// the listing cannot be cut safely.
    Pages(RequestTemplate, Workspace, String),
}

/// The first page over the whole range (without the rows at its oldest instant when more pages
/// follow), and the slices that list the rest.
async fn first_page(
    fetch: &Fetch,
    mut template: RequestTemplate,
    slicing: &Slicing,
) -> Result<First, ProviderError> {
    let workspace = resolve_workspace(fetch, &mut template)?;
    let request = build_request(&fetch.method, &template.sent_params(), None, None);
    let Some(body) = send(fetch, &fetch.method, &workspace, &request, true).await? else {
        return Ok(First {
            batch: None,
            rest: Rest::Slices(Vec::new()),
        });
    };
    let page = complete::decode_completing(fetch, &workspace, &body, &template.params).await?;
    if let Some(p) = &fetch.runtime.progress {
        p.page(page.batch.num_rows());
    }
    let Some(token) = page.next_token else {
        return Ok(First {
            batch: Some(page.batch),
            rest: Rest::Slices(Vec::new()),
        });
    };
    let times = sort_values(fetch, &body, &slicing.rule.column);
    let oldest = times.iter().min().copied();
    let (Some(oldest), true) = (oldest, times.len() == page.batch.num_rows()) else {
        return Ok(First {
            batch: Some(page.batch),
            rest: Rest::Pages(template, workspace, token),
        });
    };
    let newer: BooleanArray = times.iter().map(|&t| Some(t != oldest)).collect();
    let batch = filter_record_batch(&page.batch, &newer).map_err(|e| {
        invalid(
            fetch,
            format!("cannot drop the rows of the oldest instant: {e}"),
        )
    })?;
    Ok(First {
        batch: Some(batch),
        rest: Rest::Slices(slices(&template, slicing, oldest)),
    })
}

/// The slices covering the query's range up to and including `upto`.
fn slices(template: &RequestTemplate, slicing: &Slicing, upto: i64) -> Vec<RequestTemplate> {
    let given = |p: &str| {
        template
            .sent_params()
            .get(p)
            .and_then(|v| v.parse::<i64>().ok())
    };
    let lower = given(&slicing.lower);
    let window = i64::from(slicing.rule.window_days).saturating_mul(DAY_MS);
    let from = lower.unwrap_or(i64::MIN).max(upto.saturating_sub(window));
    let count = (slicing.concurrency * 2).max(1) as i64;
    let span = upto.saturating_sub(from).saturating_add(1);
    let count = count.min(span.max(1));
    let width = (span / count).max(1);
    let mut out = Vec::new();
    for i in 0..count {
        let start = from + i * width;
        let end = if i == count - 1 {
            upto
        } else {
            start + width - 1
        };
        let mut slice = template.clone();
        if i > 0 {
            slice.sent.insert(slicing.lower.clone(), start.to_string());
        } else if lower.is_none() {
            // The oldest slice stays open below: objects older than the window are kept.
            slice.sent.remove(&slicing.lower);
        }
        slice.sent.insert(slicing.upper.clone(), end.to_string());
        out.push(slice);
    }
    out
}

/// The `column` value of each object of a listing page, in page order; empty when some object
/// lacks it.
fn sort_values(fetch: &Fetch, body: &[u8], column: &str) -> Vec<i64> {
    let Ok((objects, _)) = fetch.decoder.split(body) else {
        return Vec::new();
    };
    objects
        .iter()
        .map(|object: &&RawValue| {
            let fields: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(object.get()).unwrap_or_default();
            fields.get(column).and_then(serde_json::Value::as_i64)
        })
        .collect::<Option<Vec<i64>>>()
        .unwrap_or_default()
}

fn invalid(fetch: &Fetch, message: String) -> ProviderError {
    ProviderError::InvalidResponse {
        table: fetch.resource.qualified_name(),
        message,
    }
}
