//! `COPY (query) TO STDOUT`: what psql's `\copy (SELECT ...) TO 'f.csv' CSV HEADER` and
//! psycopg's `cursor.copy(...)` send, answered with Postgres' copy-out protocol.
//!
//! A query string that is one `COPY (query) TO STDOUT [options]` (parsed by
//! [`crate::protocol::classify`] with sqlparser's Postgres dialect: `WITH (FORMAT csv, HEADER, DELIMITER ',', NULL '')` and the legacy `CSV
//! HEADER` forms) runs its query like any statement (the same rewrite, plan check and guard),
//! and the rows go out as `CopyData` messages as the batches come, one line each, in Postgres'
//! text format (tab-separated, `\N` for NULL, backslash escapes) or CSV (quoted when needed,
//! NULL as an empty field, an optional header line). Each value is the text the row protocol
//! sends (structs and lists as JSON). `COPY table TO STDOUT`, `COPY ... FROM` and `FORMAT
//! binary` are refused with a short error; `COPY ... TO 'file'` is DataFusion's (under the
//! `--allow-files` sandbox).

use datafusion::sql::sqlparser::ast::{
    CopyLegacyCsvOption, CopyLegacyOption, CopyOption, CopySource, CopyTarget, Query,
    Statement as SqlStatement,
};

/// A `COPY (query) TO STDOUT` to answer.
#[derive(Debug, Clone, PartialEq)]
pub struct CopyOut {
    /// The query whose rows are copied, as parsed.
    pub query: Box<Query>,
    /// CSV (else Postgres' text format).
    pub csv: bool,
    /// A header line of the column names (CSV only).
    pub header: bool,
    /// The field separator (tab for text, comma for CSV, or `DELIMITER`).
    pub delimiter: char,
    /// How NULL is written (`\N` for text, empty for CSV, or `NULL '...'`).
    pub null: String,
}

/// `Some(Ok)` when `statement` (parsed by [`crate::protocol::classify`]) is a `COPY (query) TO
/// STDOUT`, `Some(Err(message))` for a `COPY ... STDOUT` / `STDIN` jobsql does not answer,
/// `None` for anything else.
pub fn copy_out(statement: &SqlStatement) -> Option<Result<CopyOut, String>> {
    let SqlStatement::Copy {
        source,
        to,
        target,
        options,
        legacy_options,
        ..
    } = statement
    else {
        return None;
    };
    match (target, to) {
        (CopyTarget::Stdout, true) => {}
        (CopyTarget::Stdin, false) => {
            return Some(Err(
                "COPY ... FROM STDIN is not supported: jobsql tables take \
                 INSERT (see docs/src/writes.md)"
                    .into(),
            ))
        }
        _ => return None,
    }
    let query = match source {
        CopySource::Query(query) => query.clone(),
        CopySource::Table { table_name, .. } => {
            return Some(Err(format!(
                "COPY {table_name} TO STDOUT is not supported: copy a query instead, e.g. \
                 COPY (SELECT * FROM {table_name}) TO STDOUT"
            )))
        }
    };
    let mut csv = false;
    let mut header = false;
    let mut delimiter = None;
    let mut null = None;
    for option in options {
        match option {
            CopyOption::Format(f) if f.value.eq_ignore_ascii_case("csv") => csv = true,
            CopyOption::Format(f) if f.value.eq_ignore_ascii_case("text") => csv = false,
            CopyOption::Format(f) => {
                return Some(Err(format!(
                    "COPY format {} is not supported (text or csv)",
                    f.value
                )))
            }
            CopyOption::Header(h) => header = *h,
            CopyOption::Delimiter(d) => delimiter = Some(*d),
            CopyOption::Null(n) => null = Some(n.clone()),
            other => return Some(Err(format!("COPY option {other} is not supported"))),
        }
    }
    for option in legacy_options {
        match option {
            CopyLegacyOption::Csv(csv_options) => {
                csv = true;
                for o in csv_options {
                    match o {
                        CopyLegacyCsvOption::Header => header = true,
                        other => return Some(Err(format!("COPY option {other} is not supported"))),
                    }
                }
            }
            CopyLegacyOption::Header => header = true,
            CopyLegacyOption::Delimiter(d) => delimiter = Some(*d),
            CopyLegacyOption::Null(n) => null = Some(n.clone()),
            CopyLegacyOption::Binary => {
                return Some(Err(
                    "COPY format binary is not supported (text or csv)".into()
                ))
            }
            other => return Some(Err(format!("COPY option {other} is not supported"))),
        }
    }
    Some(Ok(CopyOut {
        query,
        csv,
        header: header && csv,
        delimiter: delimiter.unwrap_or(if csv { ',' } else { '\t' }),
        null: null.unwrap_or_else(|| if csv { String::new() } else { "\\N".into() }),
    }))
}

impl CopyOut {
    /// One line of `fields` (each `None` for NULL), ending in a newline.
    pub fn line(&self, fields: &[Option<&str>]) -> String {
        let mut out = String::new();
        for (i, field) in fields.iter().enumerate() {
            if i > 0 {
                out.push(self.delimiter);
            }
            match field {
                None => out.push_str(&self.null),
                Some(value) if self.csv => self.csv_field(value, &mut out),
                Some(value) => text_field(value, self.delimiter, &mut out),
            }
        }
        out.push('\n');
        out
    }

    fn csv_field(&self, value: &str, out: &mut String) {
        let quote = value.is_empty()
            || value == self.null
            || value
                .chars()
                .any(|c| c == self.delimiter || c == '"' || c == '\n' || c == '\r');
        if quote {
            out.push('"');
            out.push_str(&value.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(value);
        }
    }
}

/// A value in Postgres' text format: backslash, newline, carriage return, tab and the
/// delimiter escaped.
fn text_field(value: &str, delimiter: char, out: &mut String) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == delimiter => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::classify::{classify, Classified};

    /// What the classifier makes of `sql` as a `COPY`, `None` if not one.
    fn parse_copy_out(sql: &str) -> Option<Result<CopyOut, String>> {
        match classify(sql) {
            Classified::CopyOut(copy) => Some(copy),
            _ => None,
        }
    }

    #[test]
    fn psql_and_psycopg_forms_parse() {
        let c = parse_copy_out("COPY ( SELECT 1 AS a ) TO STDOUT CSV HEADER")
            .expect("a copy")
            .expect("supported");
        assert!(c.csv && c.header && c.delimiter == ',' && c.null.is_empty());
        assert_eq!(c.query.to_string(), "SELECT 1 AS a");
        let c = parse_copy_out("copy (select 1) to stdout with (format csv, header true)")
            .expect("a copy")
            .expect("supported");
        assert!(c.csv && c.header);
        let c = parse_copy_out("COPY (SELECT 1) TO STDOUT")
            .expect("a copy")
            .expect("supported");
        assert!(!c.csv && c.delimiter == '\t' && c.null == "\\N");
        assert!(parse_copy_out("COPY t TO STDOUT").expect("copy").is_err());
        assert!(parse_copy_out("COPY t FROM STDIN").expect("copy").is_err());
        assert!(parse_copy_out("COPY (SELECT 1) TO STDOUT (FORMAT binary)")
            .expect("copy")
            .is_err());
        assert!(parse_copy_out("COPY (SELECT 1) TO 'f.csv'").is_none());
        assert!(parse_copy_out("SELECT 1").is_none());
    }

    #[test]
    fn lines_escape_as_postgres_does() {
        let csv = parse_copy_out("COPY (SELECT 1) TO STDOUT CSV")
            .expect("copy")
            .expect("ok");
        assert_eq!(
            csv.line(&[Some("a,b"), None, Some("say \"hi\""), Some(""), Some("x")]),
            "\"a,b\",,\"say \"\"hi\"\"\",\"\",x\n"
        );
        let text = parse_copy_out("COPY (SELECT 1) TO STDOUT")
            .expect("copy")
            .expect("ok");
        assert_eq!(
            text.line(&[Some("a\tb\\c\nd"), None]),
            "a\\tb\\\\c\\nd\t\\N\n"
        );
    }
}
