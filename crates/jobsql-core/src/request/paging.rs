//! The next page of a listing, in each pagination style of the spec (`pagination: { style }`).
//!
//! A page tells where the next one is by a [`Cursor`]: a value for the paging parameter (a
//! `token` or `marker` found in the body, an `offset` advanced by the objects received, a
//! `page` number counted up), or a URL (`next_url` in the body, or the `Link` header's
//! `rel="next"`, RFC 8288). Each style has its stop rule ([`next_cursor`]); a short page ends
//! the listing only where the spec opts in (`short_page_ends`). A URL is followed only on the
//! workspace's origin (scheme, host and port) and under its base path: the credentials go
//! with every request, so a URL elsewhere is an error naming its origin, never a request.

use url::Url;

use crate::spec::{PaginationSpec, PaginationStyle};

use super::pages::PageLimitError;

/// Where the next page of a listing is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cursor {
    /// The paging parameter's value: a token, a marker, an offset or a page number.
    Param(String),
    /// A URL the API named, on the workspace's origin: its path below the base URL's path
    /// (starting with `/`) and its query.
    Url {
        /// The path, relative to the workspace's base path.
        path: String,
        /// The query pairs, decoded.
        query: Vec<(String, String)>,
    },
}

impl Cursor {
    /// What tells this cursor from the listing's others (for the repeat guard).
    pub fn key(&self) -> String {
        match self {
            Cursor::Param(value) => value.clone(),
            Cursor::Url { path, query } => {
                let query = url::form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(query.iter())
                    .finish();
                format!("{path}?{query}")
            }
        }
    }
}

/// What a page's body says about the next page (read by the response decoder).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageMarks {
    /// The non-empty string at the style's `next` path: a token, a marker or a URL.
    pub next: Option<String>,
    /// The number at the `total` path.
    pub total: Option<u64>,
}

/// One page as the paging rules see it.
#[derive(Debug, Clone, Copy)]
pub struct Received<'a> {
    /// What its body says.
    pub marks: &'a PageMarks,
    /// Its objects.
    pub rows: usize,
    /// The listing's objects so far, this page's included.
    pub so_far: u64,
    /// The page size asked, when the method has a page-size parameter.
    pub asked: Option<usize>,
    /// Its `Link` header(s), joined with `, `.
    pub link: Option<&'a str>,
}

/// The cursor of the page after `page` (fetched with `current`, `None` for the first), or
/// `None` when `page` is the last. `base` is the workspace's base URL and `path` the request
/// path of `page` (relative URLs resolve against their join).
pub fn next_cursor(
    pg: &PaginationSpec,
    current: Option<&Cursor>,
    page: Received<'_>,
    base: &Url,
    path: &str,
) -> Result<Option<Cursor>, PageLimitError> {
    use PaginationStyle::*;
    let counted_end = || {
        page.rows == 0
            || pg.total.is_some() && page.marks.total.is_some_and(|t| page.so_far >= t)
            || pg.short_page_ends && page.asked.is_some_and(|a| page.rows < a)
    };
    match pg.style {
        Token | Marker => Ok(page.marks.next.clone().map(Cursor::Param)),
        Offset => {
            if counted_end() {
                return Ok(None);
            }
            let offset = current_number(current, 0)?;
            Ok(Some(Cursor::Param((offset + page.rows as i64).to_string())))
        }
        Page => {
            if counted_end() {
                return Ok(None);
            }
            let number = current_number(current, pg.first_page.unwrap_or(1))?;
            Ok(Some(Cursor::Param((number + 1).to_string())))
        }
        NextUrl => page
            .marks
            .next
            .as_deref()
            .map(|u| same_origin(u, base, path))
            .transpose(),
        Link => page
            .link
            .and_then(link_next)
            .map(|u| same_origin(&u, base, path))
            .transpose(),
    }
}

/// The first page's value of the paging parameter, when the style sends one (an offset of
/// 0, the first page number).
pub fn first_param(pg: &PaginationSpec) -> Option<String> {
    match pg.style {
        PaginationStyle::Offset => Some("0".into()),
        PaginationStyle::Page => Some(pg.first_page.unwrap_or(1).to_string()),
        _ => None,
    }
}

fn current_number(current: Option<&Cursor>, first: i64) -> Result<i64, PageLimitError> {
    match current {
        None => Ok(first),
        Some(Cursor::Param(v)) => v.parse().map_err(|_| PageLimitError::BadNext {
            what: format!("the paging parameter `{v}` is not a number"),
        }),
        Some(Cursor::Url { .. }) => Err(PageLimitError::BadNext {
            what: "a URL cannot be a page number".into(),
        }),
    }
}

/// `next` (absolute, or relative to the page's URL) as a cursor, when it is on `base`'s
/// origin and under its path.
fn same_origin(next: &str, base: &Url, path: &str) -> Result<Cursor, PageLimitError> {
    let base_path = base.path().trim_end_matches('/').to_string();
    let mut page_url = base.clone();
    page_url.set_path(&format!("{base_path}{path}"));
    let url = page_url.join(next).map_err(|e| PageLimitError::BadNext {
        what: format!("the next page's URL is not a URL: {e}"),
    })?;
    let (origin, expected) = (
        url.origin().ascii_serialization(),
        base.origin().ascii_serialization(),
    );
    if origin != expected || !matches!(url.scheme(), "http" | "https") {
        return Err(PageLimitError::OtherOrigin { origin, expected });
    }
    let rest = match url.path().strip_prefix(&base_path) {
        Some(rest) if rest.starts_with('/') => rest.to_string(),
        Some("") => "/".to_string(),
        _ => {
            return Err(PageLimitError::OutsideBase {
                path: crate::redact::outgoing(&bounded(url.path())),
                base: if base_path.is_empty() {
                    "/".into()
                } else {
                    base_path
                },
            })
        }
    };
    Ok(Cursor::Url {
        path: rest,
        query: url.query_pairs().into_owned().collect(),
    })
}

fn bounded(text: &str) -> String {
    match text.char_indices().nth(200) {
        Some((i, _)) => format!("{}...", &text[..i]),
        None => text.to_string(),
    }
}

/// The target of the first link with relation type `next` in a `Link` header value
/// (RFC 8288: `<url>; rel="next", <url>; rel="last"`; relation types are case-insensitive and
/// `rel` may list several, separated by spaces).
pub fn link_next(header: &str) -> Option<String> {
    let mut rest = header;
    loop {
        let start = rest.find('<')?;
        let end = start + rest[start..].find('>')?;
        let target = &rest[start + 1..end];
        rest = &rest[end + 1..];
        // The parameters run to the next `,` outside quotes.
        let mut in_quotes = false;
        let mut stop = rest.len();
        for (i, c) in rest.char_indices() {
            match c {
                '"' => in_quotes = !in_quotes,
                ',' if !in_quotes => {
                    stop = i;
                    break;
                }
                _ => {}
            }
        }
        let params = &rest[..stop];
        rest = &rest[stop..];
        let is_next = params.split(';').any(|p| {
            let Some((name, value)) = p.split_once('=') else {
                return false;
            };
            name.trim().eq_ignore_ascii_case("rel")
                && value
                    .trim()
                    .trim_matches('"')
                    .split_ascii_whitespace()
                    .any(|r| r.eq_ignore_ascii_case("next"))
        });
        if is_next {
            return Some(target.trim().to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_headers_are_read_as_rfc_8288_says() {
        let cases = [
            (
                r#"<https://a/x?page=2>; rel="next""#,
                Some("https://a/x?page=2"),
            ),
            (
                r#"<https://a/1>; rel="prev", <https://a/3>; rel="next", <https://a/9>; rel=last"#,
                Some("https://a/3"),
            ),
            (
                r#"</x?c=a,b>; title="a, b"; REL="last Next""#,
                Some("/x?c=a,b"),
            ),
            (r#"<https://a/2>; rel=next"#, Some("https://a/2")),
            (r#"<https://a/1>; rel="prev nextish""#, None),
            (r#"<https://a/1>; rel="last""#, None),
            ("garbage", None),
            ("", None),
        ];
        for (header, want) in cases {
            assert_eq!(link_next(header).as_deref(), want, "{header}");
        }
    }

    #[test]
    fn urls_stay_on_the_workspace_origin_and_base_path() {
        let base = Url::parse("http://127.0.0.1:8080/api/v1").unwrap();
        let ok = same_origin(
            "http://127.0.0.1:8080/api/v1/runs?c=2&d=%2F",
            &base,
            "/runs",
        );
        assert_eq!(
            ok,
            Ok(Cursor::Url {
                path: "/runs".into(),
                query: vec![("c".into(), "2".into()), ("d".into(), "/".into())]
            })
        );
        let relative = same_origin("?c=3", &base, "/runs").unwrap();
        assert_eq!(relative.key(), "/runs?c=3");
        for (next, origin) in [
            ("http://127.0.0.1:8081/api/v1/runs", "http://127.0.0.1:8081"),
            (
                "https://127.0.0.1:8080/api/v1/runs",
                "https://127.0.0.1:8080",
            ),
            ("http://localhost:8080/api/v1/runs", "http://localhost:8080"),
            ("//evil.example/api/v1/runs", "http://evil.example"),
        ] {
            let e = same_origin(next, &base, "/runs").unwrap_err();
            assert!(
                e.to_string().contains(origin) && e.to_string().contains("127.0.0.1:8080"),
                "{e}"
            );
        }
        let e = same_origin("/other/runs", &base, "/runs").unwrap_err();
        assert!(e.to_string().contains("/other/runs"), "{e}");
    }
}
