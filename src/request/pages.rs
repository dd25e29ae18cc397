//! How far a listing pages: the next-page cursors (tokens, markers, offsets, page numbers,
//! URLs) it has followed. A cursor coming back means the API would page forever; more pages
//! than the cap (`--max-pages`: a server that always sends a new token) stops the listing too,
//! as does a next page the API names badly (a URL on another origin). Either way the caller
//! names the table and the request.

use std::collections::HashSet;

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

/// The next-page tokens one listing has followed.
#[derive(Debug)]
pub struct PageTokens {
    seen: HashSet<String>,
    max_pages: usize,
}

impl PageTokens {
    /// A listing that may fetch at most `max_pages` pages; `start` is the token it starts
    /// from, if not the first page.
    pub fn new(max_pages: usize, start: Option<&str>) -> Self {
        PageTokens {
            seen: start.into_iter().map(str::to_string).collect(),
            max_pages,
        }
    }

    /// Record that the next page is to be fetched with `token`.
    pub fn follow(&mut self, token: &str) -> Result<(), PageLimitError> {
        // Pages fetched so far: the first, and one per token followed.
        let pages = self.seen.len() + 1;
        if pages >= self.max_pages {
            return Err(PageLimitError::TooMany {
                max: self.max_pages,
            });
        }
        if self.seen.insert(token.to_string()) {
            return Ok(());
        }
        Err(PageLimitError::Repeated { page: pages })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_token_and_the_cap_stop_the_listing() {
        let mut t = PageTokens::new(3, None);
        assert_eq!(t.follow("a"), Ok(()));
        assert_eq!(t.follow("a"), Err(PageLimitError::Repeated { page: 2 }));
        assert_eq!(t.follow("b"), Ok(()));
        assert_eq!(t.follow("c"), Err(PageLimitError::TooMany { max: 3 }));
    }
}
