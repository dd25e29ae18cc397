//! How far a listing pages: the next-page cursors (tokens, markers, offsets, page numbers,
//! URLs) it has followed. A cursor coming back means the API would page forever; more pages
//! than the cap (`--max-pages`: a server that always sends a new token) stops the listing too,
//! as does a next page the API names badly (a URL on another origin). Either way the caller
//! names the table and the request.
//!
//! The cap counts the pages of the whole listing ([`PageBudget`]): a listing cut into
//! concurrent slices shares one budget among its first page and every page of every slice, so
//! `--max-pages N` means at most N requests for it, however it was cut.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Why a listing stops paging.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PageLimitError {
    /// More pages than the cap.
    #[error("more than {max} pages")]
    TooMany {
        /// The cap.
        max: usize,
    },
    /// A next-page token already followed.
    #[error("page {page} returned a next-page token already followed")]
    Repeated {
        /// The page (counting from 1) whose token repeats.
        page: usize,
    },
    /// A next-page URL on another origin than the workspace's: never requested (the
    /// credentials would go with it).
    #[error(
        "the next page is on {origin}, not on the workspace's {expected}: not followed \
         (the credentials would be sent there)"
    )]
    OtherOrigin {
        /// The URL's scheme, host and port.
        origin: String,
        /// The workspace's.
        expected: String,
    },
    /// A next-page URL on the workspace's origin but outside its base path.
    #[error("the next page's path {path} is not under the workspace's base path {base}")]
    OutsideBase {
        /// The URL's path (bounded).
        path: String,
        /// The base URL's path.
        base: String,
    },
    /// The body's or header's next page is not what the style says it is.
    #[error("{what}")]
    BadNext {
        /// What is wrong (names the key; quotes no more than a bounded value).
        what: String,
    },
}

/// The pages one listing may still fetch, shared by all its slices. Cloning shares it.
#[derive(Debug, Clone)]
pub struct PageBudget {
    taken: Arc<AtomicUsize>,
    max: usize,
}

impl PageBudget {
    /// A listing that may fetch at most `max` pages (at least 1).
    pub fn new(max: usize) -> Self {
        PageBudget {
            taken: Arc::new(AtomicUsize::new(0)),
            max: max.max(1),
        }
    }

    /// Take one page before requesting it: an error once `max` pages were taken.
    pub fn take(&self) -> Result<(), PageLimitError> {
        self.taken
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < self.max).then_some(n + 1)
            })
            .map(|_| ())
            .map_err(|_| PageLimitError::TooMany { max: self.max })
    }

    /// Pages taken so far.
    pub fn taken(&self) -> usize {
        self.taken.load(Ordering::SeqCst)
    }
}

/// The next-page tokens one run of pages (a listing, or one slice of it) has followed, its
/// pages counted in the listing's [`PageBudget`].
#[derive(Debug)]
pub struct PageTokens {
    seen: HashSet<String>,
    budget: PageBudget,
}

impl PageTokens {
    /// Pages counted in `budget`; `start` is the token they start from, if not a first page.
    pub fn new(budget: PageBudget, start: Option<&str>) -> Self {
        PageTokens {
            seen: start.into_iter().map(str::to_string).collect(),
            budget,
        }
    }

    /// Record that a first page (of the listing, or of a slice) is to be fetched.
    pub fn first(&self) -> Result<(), PageLimitError> {
        self.budget.take()
    }

    /// Record that the next page is to be fetched with `token`.
    pub fn follow(&mut self, token: &str) -> Result<(), PageLimitError> {
        self.budget.take()?;
        if self.seen.insert(token.to_string()) {
            return Ok(());
        }
        Err(PageLimitError::Repeated {
            page: self.seen.len() + 1,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_token_and_the_cap_stop_the_listing() {
        let mut t = PageTokens::new(PageBudget::new(4), None);
        assert_eq!(t.first(), Ok(()));
        assert_eq!(t.follow("a"), Ok(()));
        assert_eq!(t.follow("a"), Err(PageLimitError::Repeated { page: 2 }));
        assert_eq!(t.follow("b"), Ok(()));
        assert_eq!(t.follow("c"), Err(PageLimitError::TooMany { max: 4 }));
    }

    #[test]
    fn the_slices_of_a_listing_share_its_pages() {
        let budget = PageBudget::new(5);
        let mut slices: Vec<PageTokens> = (0..4)
            .map(|_| PageTokens::new(budget.clone(), None))
            .collect();
        for s in &slices {
            assert_eq!(s.first(), Ok(()));
        }
        assert_eq!(slices[0].follow("x"), Ok(()));
        assert_eq!(
            slices[1].follow("y"),
            Err(PageLimitError::TooMany { max: 5 })
        );
        assert_eq!(budget.taken(), 5);
    }
}
