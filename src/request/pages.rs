//! How far a listing pages: the next-page tokens it has followed. A token coming back means the
//! API would page forever; more pages than the cap (`--max-pages`: a server that always sends
//! a new token) stops the listing too. Either way the caller names the table and the request.

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
