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
//! The slices are sized to the data: the first page's `n` objects span `[t, newest]`, which
//! tells how dense the range is (`n − 1` gaps over that span), so how many objects, and pages,
//! the rest holds. A long range (two pages or more per slice) is cut into twice as many slices
//! as requests in flight, as before. A shorter one is cut into the count that lists it in the
//! fewest requests, at most one beyond its expected pages: each slice is expected to hold no
//! more than [`FILL`] of its pages (a slightly uneven slice then still fits); among equals the
//! most slices win. A window of `p` pages so costs at most about `p + 1` requests. A first
//! page all at one instant tells nothing: the most slices.
//!
//! Slicing is used when the method has a `parallel:` rule, the query has no LIMIT (one page
//! then does better), and the runtime allows more than one request at a time. When the scan
//! declares the listing's order, the slices (disjoint, newest first) are emitted one after the
//! other, newest first: concatenated, they are in the listing's order. Each slice in flight is
//! then held whole until its turn, so an ordered listing is cut into slices of at most
//! [`ORDERED_SLICE_PAGES`] expected pages: memory stays at about the slices in flight times
//! that many pages, whatever the history's size (a few more requests: each slice's last page
//! is a partial one).
//!
//! A flattened listing (a run's tasks as rows) is sliced by its objects' values all the same:
//! the rows of the first page's oldest objects are dropped, as many as each gave.

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
use super::{
    complete, listing_budget, next_page, page_request, pages_from, resolve_workspace, send,
    template_stream, Fetch, PageFacts, PageTokens,
};
use crate::request::{page_size, Cursor, PageBudget};
use crate::workspace::Workspace;

const DAY_MS: i64 = 86_400_000;

/// The share of a page a slice is expected to hold: enough below one page that an estimate a
/// few objects short still lists each slice in one request.
pub const FILL: f64 = 0.9;

/// The most pages an ordered listing's slice is expected to hold (see the module's header).
pub const ORDERED_SLICE_PAGES: f64 = 16.0;

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

/// The batches of one template (one listing): sliced when `slicing` is given, else page
/// after page. Its pages, all slices together, count against one budget of `--max-pages`.
pub fn scan_stream(
    fetch: Arc<Fetch>,
    template: RequestTemplate,
    slicing: Option<Slicing>,
) -> BoxStream<'static, Result<RecordBatch, ProviderError>> {
    let budget = listing_budget(&fetch);
    let Some(slicing) = slicing else {
        return template_stream(fetch, template, budget).boxed();
    };
    let probe = {
        let fetch = fetch.clone();
        let slicing = slicing.clone();
        let budget = budget.clone();
        async move { first_page(&fetch, template, &slicing, &budget).await }
    };
    stream::once(probe)
        .flat_map(move |first| -> BoxStream<'static, _> {
            match first {
                Err(e) => stream::once(async move { Err(e) }).boxed(),
                Ok(First { batch, rest }) => {
                    let fetch = fetch.clone();
                    let budget = budget.clone();
                    let rest = match rest {
                        Rest::Slices(slices) if slicing.ordered => {
                            stream::iter(slices.into_iter().rev())
                                .map(move |t| {
                                    template_stream(fetch.clone(), t, budget.clone())
                                        .try_collect::<Vec<_>>()
                                })
                                .buffered(slicing.concurrency)
                                .map_ok(|batches| stream::iter(batches.into_iter().map(Ok)))
                                .try_flatten()
                                .boxed()
                        }
                        Rest::Slices(slices) => stream::iter(slices)
                            .map(move |t| template_stream(fetch.clone(), t, budget.clone()).boxed())
                            .flatten_unordered(slicing.concurrency)
                            .boxed(),
                        Rest::Pages(rest) => {
                            let (template, workspace, token) = *rest;
                            pages_from(fetch, template, Some(workspace), Some(token), budget)
                                .boxed()
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
    /// Page after page from the next page's cursor: the objects do not carry the sort column,
    /// so the listing cannot be cut safely.
    Pages(Box<(RequestTemplate, Workspace, Cursor)>),
}

/// The first page over the whole range (without the rows at its oldest instant when more pages
/// follow), and the slices that list the rest.
async fn first_page(
    fetch: &Fetch,
    mut template: RequestTemplate,
    slicing: &Slicing,
    budget: &PageBudget,
) -> Result<First, ProviderError> {
    let workspace = resolve_workspace(fetch, &mut template)?;
    let request = page_request(&fetch.method, &template.sent_params(), None, None);
    let mut tokens = PageTokens::new(budget.clone(), None);
    tokens.first(fetch, &request)?;
    let Some(reply) = send(fetch, &fetch.method, &workspace, &request, true).await? else {
        return Ok(First {
            batch: None,
            rest: Rest::Slices(Vec::new()),
        });
    };
    let body = &reply.body;
    let page = complete::decode_completing(fetch, &workspace, body, &template.params).await?;
    if let Some(p) = &fetch.runtime.progress {
        p.page(page.batch.num_rows());
    }
    let facts = PageFacts {
        reply: &reply,
        asked: page_size(&fetch.method, None),
        so_far: page.objects as u64,
    };
    let Some(token) = next_page(fetch, None, &page, facts, &workspace, &request)? else {
        return Ok(First {
            batch: Some(page.batch),
            rest: Rest::Slices(Vec::new()),
        });
    };
    let times = sort_values(fetch, body, &slicing.rule.column);
    let oldest = times.iter().min().copied();
    // Each row's object's value: one row per object, or, flattened, as many as it gave.
    let row_times: Option<Vec<i64>> = match &page.per_object {
        None => Some(times.clone()),
        Some(counts) if counts.len() == times.len() => Some(
            times
                .iter()
                .zip(counts)
                .flat_map(|(&t, &n)| std::iter::repeat_n(t, n))
                .collect(),
        ),
        Some(_) => None,
    }
    .filter(|rows| rows.len() == page.batch.num_rows());
    let (Some(oldest), Some(row_times)) = (oldest, row_times) else {
        // The next page is followed here, and counted.
        tokens.follow(fetch, &fetch.method, &request, &token)?;
        return Ok(First {
            batch: Some(page.batch),
            rest: Rest::Pages(Box::new((template, workspace, token))),
        });
    };
    let newer: BooleanArray = row_times.iter().map(|&t| Some(t != oldest)).collect();
    let batch = filter_record_batch(&page.batch, &newer).map_err(|e| {
        invalid(
            fetch,
            format!("cannot drop the rows of the oldest instant: {e}"),
        )
    })?;
    let density = Density {
        objects: times.len(),
        span: times.iter().max().map_or(0, |newest| newest - oldest),
    };
    Ok(First {
        batch: Some(batch),
        rest: Rest::Slices(slices(&template, slicing, oldest, density)),
    })
}

/// How dense the first page found the range: `objects` (a full page) over `span` ms.
#[derive(Debug, Clone, Copy)]
struct Density {
    objects: usize,
    span: i64,
}

impl Density {
    /// How many pages `span` ms below the first page is expected to hold (0 when the first
    /// page tells nothing).
    fn pages(self, span: i64) -> f64 {
        if self.span <= 0 || self.objects < 2 {
            return 0.0;
        }
        let expected = (self.objects - 1) as f64 * span as f64 / self.span as f64;
        (expected / self.objects as f64).ceil()
    }

    /// How many slices list `span` ms below the first page, at most `max`. A long range (at
    /// least two pages per slice) gets `max`. A shorter one gets the count that lists it in
    /// the fewest requests, no more than one beyond its expected pages, each slice expected
    /// to hold at most [`FILL`] of its pages (so a slightly uneven one still fits); among
    /// equals, the most slices. When none fits, one slice: page after page.
    fn slices(self, span: i64, max: usize) -> usize {
        if self.span <= 0 || self.objects < 2 {
            return max;
        }
        let page = self.objects as f64;
        // `objects` at the span's two ends and between them: `objects − 1` gaps.
        let expected = (self.objects - 1) as f64 * span as f64 / self.span as f64;
        let pages = (expected / page).ceil();
        if pages >= 2.0 * max as f64 {
            return max;
        }
        let budget = pages as usize + 1;
        let mut best = (usize::MAX, 1);
        for k in 1..=max {
            let per_slice = expected / k as f64;
            let j = (per_slice / (page * FILL)).ceil().max(1.0) as usize;
            let requests = k * j;
            if requests <= budget && requests <= best.0 {
                best = (requests, k);
            }
        }
        best.1
    }
}

/// The most slices a range of `span` ms is cut into: twice the requests in flight, or, for
/// an ordered listing, enough that none is expected to hold more than
/// [`ORDERED_SLICE_PAGES`].
fn most_slices(concurrency: usize, ordered: bool, density: Density, span: i64) -> usize {
    let most = (concurrency * 2).max(1);
    if !ordered {
        return most;
    }
    most.max((density.pages(span) / ORDERED_SLICE_PAGES).ceil() as usize)
}

/// The slices covering the query's range up to and including `upto`, as many as `density`
/// expects the range to need.
fn slices(
    template: &RequestTemplate,
    slicing: &Slicing,
    upto: i64,
    density: Density,
) -> Vec<RequestTemplate> {
    let given = |p: &str| {
        template
            .sent_params()
            .get(p)
            .and_then(|v| v.parse::<i64>().ok())
    };
    let lower = given(&slicing.lower);
    let window = i64::from(slicing.rule.window_days).saturating_mul(DAY_MS);
    let from = lower.unwrap_or(i64::MIN).max(upto.saturating_sub(window));
    let span = upto.saturating_sub(from).saturating_add(1);
    let most = most_slices(slicing.concurrency, slicing.ordered, density, span);
    let count = density.slices(span, most) as i64;
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
            fields
                .get(fetch.resource.json_field(column))
                .and_then(serde_json::Value::as_i64)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A first page of 25 runs one minute apart.
    const PAGE: Density = Density {
        objects: 25,
        span: 24 * 60_000,
    };

    #[test]
    fn an_ordered_listing_is_cut_into_slices_of_at_most_16_pages() {
        // 4,000 pages below the first one (100,000 runs a minute apart).
        let span = 100_000 * 60_000;
        let pages = PAGE.pages(span);
        assert!((4_000.0..4_200.0).contains(&pages), "{pages}");
        // Unordered: twice the 16 requests in flight, each slice some 130 pages.
        assert_eq!(most_slices(16, false, PAGE, span), 32);
        assert_eq!(PAGE.slices(span, 32), 32);
        // Ordered: each slice is held whole until its turn, so no more than 16 pages each.
        let most = most_slices(16, true, PAGE, span);
        assert_eq!(most, (pages / ORDERED_SLICE_PAGES).ceil() as usize);
        assert_eq!(PAGE.slices(span, most), most);
        assert!(pages / most as f64 <= ORDERED_SLICE_PAGES);
        // A short ordered range is sliced as before (fewest requests).
        let short = 100 * 60_000;
        assert_eq!(
            most_slices(16, true, PAGE, short),
            most_slices(16, false, PAGE, short)
        );
        // A first page that tells nothing: as before.
        let flat = Density {
            objects: 25,
            span: 0,
        };
        assert_eq!(most_slices(16, true, flat, span), 32);
    }
}
