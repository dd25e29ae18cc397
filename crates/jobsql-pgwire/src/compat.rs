//! What Postgres clients say that is not a query of the data: answered by the server itself.
//!
//! Drivers and BI tools open sessions with `SET extra_float_digits = 3`, `SET application_name
//! = ...`, wrap statements in `BEGIN` / `COMMIT` (psycopg does by default), and ask `SHOW
//! search_path` or `SHOW transaction isolation level`. DataFusion knows none of these, so a
//! statement that is one of them (alone in its query string) gets a Postgres-like answer here:
//! transactions are accepted and have no effect (every statement acts at once, as in
//! autocommit; `SAVEPOINT x`, `RELEASE [SAVEPOINT] x` and `ROLLBACK TO [SAVEPOINT] x`, which
//! SQLAlchemy with psycopg 3 sends, likewise), `SET` of a non-DataFusion setting is accepted and ignored, and `SHOW` of a
//! well-known Postgres setting returns its usual value. `SET datafusion.*` and `SHOW
//! datafusion.*` / `SHOW ALL` / `SHOW TABLES` / `SHOW COLUMNS` go to DataFusion.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Schema};
use pgwire::api::results::{Response, Tag};

/// A statement answered without DataFusion.
#[derive(Debug, Clone, PartialEq)]
pub enum Compat {
    /// `BEGIN` / `START TRANSACTION`.
    Begin,
    /// `COMMIT` / `END` (`"COMMIT"`) or `ROLLBACK` / `ABORT` (`"ROLLBACK"`).
    End(&'static str),
    /// A session command that is accepted and has no effect; the tag to answer.
    Ignored(String),
    /// `SHOW name`: the parameter's name and value.
    Show(String, String),
}

/// The well-known Postgres settings `SHOW` answers, with their values.
pub(super) const SETTINGS: &[(&str, &str)] = &[
    ("search_path", "\"$user\", public"),
    ("server_version", "16.6"),
    ("server_version_num", "160006"),
    ("server_encoding", "UTF8"),
    ("client_encoding", "UTF8"),
    ("standard_conforming_strings", "on"),
    ("datestyle", "ISO, MDY"),
    ("timezone", "UTC"),
    ("intervalstyle", "postgres"),
    ("integer_datetimes", "on"),
    ("transaction_isolation", "read committed"),
    ("default_transaction_isolation", "read committed"),
    ("transaction_read_only", "off"),
    ("max_identifier_length", "63"),
    ("lc_collate", "C"),
    ("lc_ctype", "C"),
    ("is_superuser", "off"),
];

/// Whether `sql` (one statement, maybe with a trailing `;`) is answered here, and how.
pub fn intercept(sql: &str) -> Option<Compat> {
    let text = strip_comments(sql);
    let text = text.trim().trim_end_matches(';').trim();
    if text.contains(';') {
        return None;
    }
    let lower = text.to_ascii_lowercase();
    let words: Vec<&str> = lower.split_whitespace().collect();
    let first = *words.first()?;
    match first {
        "begin" | "start" if first == "begin" || words.get(1) == Some(&"transaction") => {
            Some(Compat::Begin)
        }
        "commit" | "end" => Some(Compat::End("COMMIT")),
        // `ROLLBACK TO [SAVEPOINT] x`: the transaction goes on.
        "rollback" if words.get(1) == Some(&"to") => Some(Compat::Ignored("ROLLBACK".into())),
        "rollback" | "abort" => Some(Compat::End("ROLLBACK")),
        "savepoint" => Some(Compat::Ignored("SAVEPOINT".into())),
        "release" => Some(Compat::Ignored("RELEASE".into())),
        "set" => {
            let mut rest = &words[1..];
            if matches!(rest.first(), Some(&"session") | Some(&"local")) {
                rest = &rest[1..];
            }
            let name = rest.first()?.trim_matches('"');
            (!name.starts_with("datafusion.")).then(|| Compat::Ignored("SET".into()))
        }
        "reset" | "discard" | "deallocate" | "unlisten" | "close" => {
            Some(Compat::Ignored(first.to_ascii_uppercase()))
        }
        "show" => {
            let name = words[1..].join(" ");
            let key = match name.as_str() {
                "transaction isolation level" => "transaction_isolation",
                "time zone" => "timezone",
                other => other.trim_matches('"'),
            };
            SETTINGS
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(k, v)| Compat::Show((*k).to_string(), (*v).to_string()))
        }
        _ => None,
    }
}

/// `sql` without `--` and `/* */` comments (string literals kept as they are).
pub(super) fn strip_comments(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        if let Some(q) = quote {
            out.push(c);
            if c == q {
                quote = None;
            }
            continue;
        }
        match (c, chars.peek()) {
            ('\'' | '"', _) => {
                quote = Some(c);
                out.push(c);
            }
            ('-', Some('-')) => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
                out.push(' ');
            }
            ('/', Some('*')) => {
                chars.next();
                let mut prev = ' ';
                for c in chars.by_ref() {
                    if prev == '*' && c == '/' {
                        break;
                    }
                    prev = c;
                }
                out.push(' ');
            }
            _ => out.push(c),
        }
    }
    out
}

impl Compat {
    /// The result's schema: one text column for `SHOW`, none otherwise.
    pub fn schema(&self) -> Arc<Schema> {
        match self {
            Compat::Show(name, _) => {
                Arc::new(Schema::new(vec![Field::new(name, DataType::Utf8, false)]))
            }
            _ => Arc::new(Schema::empty()),
        }
    }

    /// The answer of a statement without rows (`None` for `SHOW`, which has one).
    pub fn response(&self) -> Option<Response> {
        match self {
            Compat::Begin => Some(Response::TransactionStart(Tag::new("BEGIN"))),
            Compat::End(tag) => Some(Response::TransactionEnd(Tag::new(tag))),
            Compat::Ignored(tag) => Some(Response::Execution(Tag::new(tag))),
            Compat::Show(_, _) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_commands_are_recognised() {
        assert_eq!(intercept("BEGIN"), Some(Compat::Begin));
        assert_eq!(
            intercept("start transaction read only;"),
            Some(Compat::Begin)
        );
        assert_eq!(intercept(" commit ; "), Some(Compat::End("COMMIT")));
        assert_eq!(intercept("ROLLBACK"), Some(Compat::End("ROLLBACK")));
        assert_eq!(
            intercept("SAVEPOINT \"_pg3_1\""),
            Some(Compat::Ignored("SAVEPOINT".into()))
        );
        assert_eq!(
            intercept("release savepoint \"_pg3_1\""),
            Some(Compat::Ignored("RELEASE".into()))
        );
        assert_eq!(
            intercept("ROLLBACK TO SAVEPOINT \"_pg3_1\""),
            Some(Compat::Ignored("ROLLBACK".into()))
        );
        assert_eq!(
            intercept("SET extra_float_digits = 3"),
            Some(Compat::Ignored("SET".into()))
        );
        assert_eq!(
            intercept("SET SESSION application_name TO 'x;y'"),
            None,
            "a ';' in the text is left to the parser"
        );
        assert_eq!(intercept("SET datafusion.execution.batch_size = 10"), None);
        assert_eq!(
            intercept("/* psql */ SHOW search_path"),
            Some(Compat::Show(
                "search_path".into(),
                "\"$user\", public".into()
            ))
        );
        assert_eq!(
            intercept("show transaction isolation level"),
            Some(Compat::Show(
                "transaction_isolation".into(),
                "read committed".into()
            ))
        );
        assert_eq!(intercept("SHOW TABLES"), None);
        assert_eq!(intercept("SELECT 1; COMMIT"), None);
        assert_eq!(intercept("SELECT 'BEGIN'"), None);
        assert_eq!(intercept(""), None);
    }
}
