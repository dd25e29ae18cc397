//! The spec's response shapes (serde model, beside `model.rs`): how a listing pages
//! (`pagination:`, a style and its keys), the page-size parameter, dotted body paths, and how
//! a time is written (`encoding:` of a range rule). Every struct denies unknown keys; the
//! loader checks which keys belong to which style (`load/shapes.rs`).

use serde::Deserialize;

/// How a listing pages (`pagination:`): a `style`, and the keys that style uses. The loader
/// checks that each key given belongs to the style (`param` is the request parameter of
/// `token`, `marker`, `offset` and `page`; `next` the body path of `token`, `marker` and
/// `next_url`; `total`, `first_page` and `short_page_ends` are for `offset` and `page`).
///
/// Stop rules: `token` / `marker` stop when the body has no (or an empty) next value at
/// `next`; `next_url` when the body has none; `link` when the response has no `Link: <...>;
/// rel="next"` header; `offset` / `page` on an empty page, once `total` objects (at the body
/// path `total`) were received, or — only with `short_page_ends: true`, for an API that
/// documents it — on a page shorter than the page size asked.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaginationSpec {
    /// The style.
    pub style: PaginationStyle,
    /// The request parameter carrying the token, marker, offset or page number.
    #[serde(default)]
    pub param: Option<String>,
    /// The dotted path in the body of the next token, marker or URL.
    #[serde(default)]
    pub next: Option<String>,
    /// `offset` / `page`: the dotted path in the body of the listing's total object count.
    #[serde(default)]
    pub total: Option<String>,
    /// `page`: the number of the first page (default 1).
    #[serde(default)]
    pub first_page: Option<i64>,
    /// `offset` / `page`: a page shorter than the page size asked is the last one (only when
    /// the API documents it; needs `page_size`).
    #[serde(default)]
    pub short_page_ends: bool,
    /// The page-size parameter, when there is one.
    #[serde(default)]
    pub page_size: Option<PageSizeSpec>,
    /// For single-object methods: array fields whose following elements arrive on the next
    /// pages, to be appended to the object (Jobs API 2.2 pages `tasks` 100 at a time); a
    /// dotted path names an array inside a JSON column (`settings.tasks`).
    #[serde(default)]
    pub merge_arrays: Vec<String>,
}

impl PaginationSpec {
    /// The body path of the next token, marker or URL, as its fields.
    pub fn next_path(&self) -> Option<Vec<String>> {
        self.next.as_deref().map(split_path)
    }

    /// The body path of the total count, as its fields.
    pub fn total_path(&self) -> Option<Vec<String>> {
        self.total.as_deref().map(split_path)
    }

    /// The name of the next-page value, for messages (`next_page_token`, `Link` header).
    pub fn next_name(&self) -> String {
        match (self.style, &self.next, &self.param) {
            (PaginationStyle::Link, _, _) => "`Link` header".into(),
            (_, Some(next), _) => format!("`{next}`"),
            (_, None, Some(param)) => format!("`{param}`"),
            _ => "next page".into(),
        }
    }
}

/// A dotted path (`data.items`) as its fields; `.` (the body itself) is no fields.
pub fn split_path(path: &str) -> Vec<String> {
    if path == "." {
        return Vec::new();
    }
    path.split('.').map(str::to_string).collect()
}

/// The pagination styles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaginationStyle {
    /// An opaque token at `next` in the body, sent back in `param`.
    Token,
    /// A marker at `next` in the body (absent on the last page), sent back in `param`.
    Marker,
    /// `param` is the offset of the first object, advanced by the objects received.
    Offset,
    /// `param` is the page number, from `first_page`.
    Page,
    /// The URL of the next page at `next` in the body (same origin as the workspace).
    NextUrl,
    /// The URL of the next page in the `Link` header, `rel="next"` (RFC 8288; same origin).
    Link,
}

impl PaginationStyle {
    /// Whether the next page is named by a cursor the API hands out (token, marker): a
    /// listing can then be resumed, cut into slices, or read newest-first.
    pub fn is_cursor(self) -> bool {
        matches!(self, PaginationStyle::Token | PaginationStyle::Marker)
    }

    /// The style as written in YAML.
    pub fn as_str(self) -> &'static str {
        match self {
            PaginationStyle::Token => "token",
            PaginationStyle::Marker => "marker",
            PaginationStyle::Offset => "offset",
            PaginationStyle::Page => "page",
            PaginationStyle::NextUrl => "next_url",
            PaginationStyle::Link => "link",
        }
    }
}

/// The page-size parameter and its maximum.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageSizeSpec {
    /// Parameter name.
    pub param: String,
    /// Largest value the API accepts.
    pub max: u32,
}

/// How a timestamp is written: in a response field, or in a pushed parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeEncoding {
    /// Milliseconds since the epoch (an integer).
    #[default]
    EpochMs,
    /// Seconds since the epoch (an integer).
    EpochS,
    /// RFC 3339 text (`2026-12-01T10:00:00Z`, offsets accepted when read).
    Rfc3339,
}
