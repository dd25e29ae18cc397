//! One request template → a stream of batches, one per page.
//!
//! Pagination follows the method's `pagination:` spec, in its style (a token or marker from the
//! body sent back in a parameter, an offset advanced by the objects received, a page number, a
//! next-page URL in the body or the `Link` header: [`crate::request::paging`]) until its stop
//! rule says the last page came (nothing is dropped silently; a URL on another origin than the
//! workspace's is an error, never a request). A listing that goes on
//! past [`ApiRuntime::max_pages`] pages (`--max-pages`, default
//! [`DEFAULT_MAX_PAGES`](super::DEFAULT_MAX_PAGES): far beyond any real history; counted over
//! the whole listing, its slices together: [`PageBudget`]) fails naming the cap, as does one past its scan's deadline (`--timeout`, [`Fetch::deadline`]). With a
//! LIMIT, each page asks only for the rows still needed (`limit = min(max, remaining)`) and the
//! stream stops once they are there. Single-object methods with `merge_arrays` (runs/get pages
//! `tasks` 100 at a time) are fetched whole and merged into one row (their next pages only when
//! the query reads a paged array: else one request per object). An API error the spec marks
//! as not-found (a run that does not exist) on the *first* page of a request is zero rows; on a
//! later page it is an error (rows would otherwise be lost silently). A next-page token that
//! repeats one already followed is an error too, rather than an endless loop. Listed objects the
//! method's `complete:` rules name are fetched whole (`fetch/complete.rs`); long listings are
//! cut into concurrent slices ([`Slicing`]).

mod complete;
mod slices;
mod whole;

use std::sync::Arc;

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::ScalarValue;
use futures::Stream;

use crate::client::{ApiRequest, Deadline, Reply};
use crate::request::paging::{next_cursor, Received};
use crate::request::{is_not_found, page_request, page_size, Cursor, PageBudget, PageLimitError};
use crate::spec::{MethodSpec, Resource};
use crate::workspace::Workspace;

use super::decode::{Page, PageDecoder};
use super::pushdown::RequestTemplate;
use super::{ApiRuntime, ProviderError};

pub use complete::Completion;
pub use slices::{scan_stream, Slicing};
use whole::fetch_whole;

/// What every template of one scan shares.
#[derive(Debug, Clone)]
pub struct Fetch {
    /// The resource.
    pub resource: Arc<Resource>,
    /// Client and workspaces.
    pub runtime: Arc<ApiRuntime>,
    /// The chosen method.
    pub method: MethodSpec,
    /// Pages → batches.
    pub decoder: PageDecoder,
    /// Rows wanted, when the query has a LIMIT that could be pushed.
    pub limit: Option<usize>,
    /// When the method returns incomplete objects and a column they lack is read: the rules
    /// and the method that fetches an object whole.
    pub complete: Option<Completion>,
    /// When the scan must be done by (`--timeout`): set when it starts executing.
    pub deadline: Option<Deadline>,
    /// Whether the query reads an array the method's `merge_arrays` pages (`tasks`, ...): only
    /// then are a single object's next pages fetched (else its first page has every column
    /// read: one round trip per object).
    pub merge_pages: bool,
    /// With a limit: the column (index in the batches) whose ties with the limit's last row
    /// are read too, the limit then being a lower bound (the top n of a sort whose first key
    /// is the listing's order; the sort above makes it exact). Pages are then full pages.
    pub ties: Option<usize>,
}

struct State {
    fetch: Arc<Fetch>,
    template: RequestTemplate,
    workspace: Option<Workspace>,
    cursor: Option<Cursor>,
    /// Objects received so far (for a `total`).
    received: u64,
    remaining: Option<usize>,
    done: bool,
    seen: PageTokens,
    /// With [`Fetch::ties`], once the limit is reached: the limit's last value.
    tie: Option<ScalarValue>,
}

/// The pages of one template, as batches, counted in the listing's `budget`.
pub fn template_stream(
    fetch: Arc<Fetch>,
    template: RequestTemplate,
    budget: PageBudget,
) -> impl Stream<Item = Result<RecordBatch, ProviderError>> + Send {
    pages_from(fetch, template, None, None, budget)
}

/// The pages of one template from `cursor` on (the first page when `None`), in `workspace`
/// (resolved from the template when `None`), counted in the listing's `budget`.
fn pages_from(
    fetch: Arc<Fetch>,
    template: RequestTemplate,
    workspace: Option<Workspace>,
    cursor: Option<Cursor>,
    budget: PageBudget,
) -> impl Stream<Item = Result<RecordBatch, ProviderError>> + Send {
    let seen = PageTokens::new(budget, cursor.as_ref());
    let state = State {
        remaining: fetch.limit,
        fetch,
        template,
        workspace,
        cursor,
        received: 0,
        done: false,
        seen,
        tie: None,
    };
    futures::stream::try_unfold(state, |mut s| async move {
        if s.done || (s.remaining == Some(0) && s.tie.is_none()) {
            return Ok(None);
        }
        let fetch = s.fetch.clone();
        let workspace = match &s.workspace {
            Some(w) => w.clone(),
            None => {
                let w = resolve_workspace(&fetch, &mut s.template)?;
                s.workspace = Some(w.clone());
                w
            }
        };
        let merging = fetch
            .method
            .pagination
            .as_ref()
            .is_some_and(|p| !p.merge_arrays.is_empty());
        if merging {
            s.done = true;
            let Some(object) = fetch_whole(
                &fetch,
                &fetch.method,
                &workspace,
                &s.template.params,
                &[],
                fetch.merge_pages,
            )
            .await?
            else {
                return Ok(None);
            };
            let batch = fetch
                .decoder
                .decode_objects(&[object.as_ref()], &s.template.params)?;
            return Ok(Some((batch, s)));
        }
        let size = if fetch.ties.is_some() {
            None
        } else {
            s.remaining
        };
        let request = page_request(
            &fetch.method,
            &s.template.sent_params(),
            s.cursor.as_ref(),
            size,
        );
        let first_page = s.cursor.is_none();
        if first_page {
            s.seen.first(&fetch, &request)?;
        }
        let reply = match send(&fetch, &fetch.method, &workspace, &request, first_page).await? {
            Some(reply) => reply,
            None => return Ok(None),
        };
        let mut page =
            complete::decode_completing(&fetch, &workspace, &reply.body, &s.template.params)
                .await?;
        s.received += page.objects as u64;
        let facts = PageFacts {
            reply: &reply,
            asked: page_size(&fetch.method, size),
            so_far: s.received,
        };
        if let Some(column) = fetch.ties {
            if ties_done(&mut s, &page.batch, column)? {
                s.done = true;
            }
        } else if let Some(r) = s.remaining.as_mut() {
            // A server sending more than asked: the limit is exact (DataFusion relies on it).
            if page.batch.num_rows() > *r {
                page.batch = page.batch.slice(0, *r);
            }
            *r = r.saturating_sub(page.batch.num_rows());
        }
        if let Some(p) = &fetch.runtime.progress {
            p.page(page.batch.num_rows());
        }
        if s.done || (s.remaining == Some(0) && s.tie.is_none()) {
            // Enough rows: the next page is neither needed nor looked at.
            s.done = true;
            return Ok(Some((page.batch, s)));
        }
        let next = next_page(
            &fetch,
            s.cursor.as_ref(),
            &page,
            facts,
            &workspace,
            &request,
        )?;
        if let Some(next) = &next {
            s.seen.follow(&fetch, &fetch.method, &request, next)?;
        }
        s.done |= next.is_none();
        s.cursor = next;
        Ok(Some((page.batch, s)))
    })
}

/// What the paging rules need of a page besides its decoded marks.
#[derive(Clone, Copy)]
pub(crate) struct PageFacts<'a> {
    /// The response (its `Link` header).
    pub reply: &'a Reply,
    /// The page size asked.
    pub asked: Option<usize>,
    /// Objects received so far, this page's included.
    pub so_far: u64,
}

/// The cursor of the page after `page` (fetched by `request` with `current`), or `None` when
/// it was the last; an error names the table and the request.
pub(crate) fn next_page(
    fetch: &Fetch,
    current: Option<&Cursor>,
    page: &Page,
    facts: PageFacts<'_>,
    workspace: &Workspace,
    request: &ApiRequest,
) -> Result<Option<Cursor>, ProviderError> {
    let Some(pg) = &fetch.method.pagination else {
        return Ok(None);
    };
    let received = Received {
        marks: &page.marks,
        rows: page.objects,
        so_far: facts.so_far,
        asked: facts.asked,
        link: facts.reply.link.as_deref(),
    };
    next_cursor(pg, current, received, workspace.base_url(), &request.path).map_err(|e| {
        ProviderError::InvalidResponse {
            table: fetch.resource.qualified_name(),
            message: format!("{e} (the page of {})", request.describe_bounded()),
        }
    })
}

/// Count a page of a top-n-with-ties listing ([`Fetch::ties`]): whether the listing is done
/// (the limit is reached and the page's last row is past the limit's last value).
fn ties_done(s: &mut State, batch: &RecordBatch, column: usize) -> Result<bool, ProviderError> {
    let rows = batch.num_rows();
    let value = |i: usize| {
        ScalarValue::try_from_array(batch.column(column), i).map_err(|e| {
            ProviderError::InvalidResponse {
                table: s.fetch.resource.qualified_name(),
                message: format!("cannot read the sort column: {e}"),
            }
        })
    };
    if let Some(r) = s.remaining.as_mut() {
        if *r > 0 && rows >= *r {
            s.tie = Some(value(*r - 1)?);
        }
        *r = r.saturating_sub(rows);
    }
    match &s.tie {
        Some(tie) if rows > 0 => Ok(value(rows - 1)? != *tie),
        Some(_) => Ok(true),
        None => Ok(false),
    }
}

/// The workspace of `template`; its parameter column is set to the workspace actually used.
fn resolve_workspace(
    fetch: &Fetch,
    template: &mut RequestTemplate,
) -> Result<Workspace, ProviderError> {
    let variable = &fetch.resource.server.variable;
    let w = fetch.runtime.workspaces.resolve(
        &fetch.resource.profile,
        template.params.get(variable).map(String::as_str),
    )?;
    template.params.insert(variable.clone(), w.name.clone());
    Ok(w)
}

/// The next-page cursors of one run of pages, counted in its listing's budget of the
/// runtime's [`max_pages`](ApiRuntime::max_pages); its errors name the table and the request.
pub(crate) struct PageTokens(crate::request::PageTokens);

/// A new listing's page budget: the runtime's [`max_pages`](ApiRuntime::max_pages).
pub(crate) fn listing_budget(fetch: &Fetch) -> PageBudget {
    PageBudget::new(fetch.runtime.max_pages)
}

impl PageTokens {
    pub(crate) fn new(budget: PageBudget, start: Option<&Cursor>) -> Self {
        let start = start.map(Cursor::key);
        PageTokens(crate::request::PageTokens::new(budget, start.as_deref()))
    }

    /// Record that `request`, a first page (of the listing, or of one of its slices), is to
    /// be sent.
    pub(crate) fn first(&self, fetch: &Fetch, request: &ApiRequest) -> Result<(), ProviderError> {
        self.0.first().map_err(|_| ProviderError::TooManyPages {
            table: fetch.resource.qualified_name(),
            request: request.describe_bounded(),
            max: fetch.runtime.max_pages,
        })
    }

    /// Record that the page after `request` (of `method`) is to be fetched with `cursor`.
    pub(crate) fn follow(
        &mut self,
        fetch: &Fetch,
        method: &MethodSpec,
        request: &ApiRequest,
        cursor: &Cursor,
    ) -> Result<(), ProviderError> {
        let table = fetch.resource.qualified_name();
        match self.0.follow(&cursor.key()) {
            Ok(()) => Ok(()),
            Err(PageLimitError::TooMany { max }) => Err(ProviderError::TooManyPages {
                table,
                request: request.describe_bounded(),
                max,
            }),
            Err(PageLimitError::Repeated { page }) => {
                let key = method
                    .pagination
                    .as_ref()
                    .map_or("a next-page token".to_string(), |p| {
                        format!("a {}", p.next_name())
                    });
                Err(ProviderError::InvalidResponse {
                    table,
                    message: format!(
                        "page {page} returned {key} already followed: the pages would \
                         repeat forever, so the query stops here"
                    ),
                })
            }
            Err(other) => Err(ProviderError::InvalidResponse {
                table,
                message: other.to_string(),
            }),
        }
    }
}

/// Send one request; `None` when the API says the object does not exist, which only the first
/// page of a request can say (later, the object existed a moment ago: rows would be lost).
async fn send(
    fetch: &Fetch,
    method: &MethodSpec,
    workspace: &Workspace,
    request: &ApiRequest,
    first_page: bool,
) -> Result<Option<Reply>, ProviderError> {
    match fetch
        .runtime
        .client
        .send_page_by(workspace, request, fetch.deadline)
        .await
    {
        Ok(reply) => Ok(Some(reply)),
        Err(e) if first_page && is_not_found(method, &e) => Ok(None),
        // --keep-going: a workspace that fails is skipped with a warning.
        Err(source)
            if fetch.runtime.skip_failed_workspace(
                &fetch.resource.qualified_name(),
                workspace,
                &source,
            ) =>
        {
            Ok(None)
        }
        Err(source) => Err(ProviderError::Api {
            table: fetch.resource.qualified_name(),
            source: Box::new(source),
        }),
    }
}

/// A template's first request as text (for EXPLAIN).
pub fn describe_template(fetch: &Fetch, template: &RequestTemplate) -> String {
    // With ties, pages are full pages.
    let size = if fetch.ties.is_some() {
        None
    } else {
        fetch.limit
    };
    let request = page_request(&fetch.method, &template.params, None, size);
    match template.params.get(&fetch.resource.server.variable) {
        Some(ws) => format!("{} @ {ws}", request.describe()),
        None => request.describe(),
    }
}
