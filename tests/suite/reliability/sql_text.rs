//! No SQL text from data, checked on the source (issue 27's first class: a key read back from
//! a Delta table was pasted into SQL and ran as a second statement). SQL the engine makes for
//! itself is a parser tree grown by `jobsql_core::sql::build`; values are literal nodes. This scan
//! of every crate's `src/` (test modules left out) fails on the other ways:
//!
//! - **Text to a parser or planner** (`Parser::parse_sql`, `try_with_sql`, `DFParserBuilder`,
//!   the tokenizer, `SessionContext::sql`, `create_logical_plan`, `create_logical_expr`) only in
//!   the places listed in [`ENTRY_POINTS`], each of which hands over text a person wrote (the
//!   user's script, a client's statement, a spec's predicate) or a `&'static str` shape.
//! - **No text built for one**: the argument of any of those, or of `parse_script`, is not a
//!   `format!`, nor a variable the same function built with `format!`, `push_str`, `join` or
//!   `concat`.
//! - **No hand-made quoting**: `replace('\'', "''")` is how text is spliced into SQL; a value
//!   shown to a person in SQL form is a `build` literal, displayed.
//!
//! The scanner is checked on the patterns it exists for (the old sync, `RETURNING` and
//! `ANY('{…}')` code), so that it can fail.

use std::path::{Path, PathBuf};

/// Where text may reach a parser or planner: (file, function, why the text is no data's).
const ENTRY_POINTS: &[(&str, &str, &str)] = &[
    (
        "crates/jobsql-core/src/sql.rs",
        "parse_script",
        "the user's script, as written",
    ),
    (
        "crates/jobsql-core/src/sql/bounds.rs",
        "check_text",
        "the user's script, counted before it is parsed",
    ),
    (
        "crates/jobsql-core/src/sql/build.rs",
        "query_shape",
        "a &'static str shape",
    ),
    (
        "crates/jobsql-core/src/sql/build.rs",
        "expr_shape",
        "a &'static str shape",
    ),
    (
        "crates/jobsql-core/src/spec/model.rs",
        "expr",
        "a spec's `matches:` predicate; its value is bound as a literal node after parsing",
    ),
    (
        "crates/jobsql-pgwire/src/protocol/classify.rs",
        "classify",
        "a Postgres client's query string, as it sent it: tokenized once, read as a session, \
         cursor or COPY statement, else handed to parse_script",
    ),
];

/// Calls that turn text into a tree or a plan.
const PARSERS: &[&str] = &[
    "parse_sql(",
    "try_with_sql(",
    "DFParserBuilder::new(",
    "DFParser::new(",
    "Tokenizer::new(",
    ".sql(",
    "sql_with_options(",
    "create_logical_plan(",
    "create_logical_expr(",
];

/// Calls whose text argument must not be built either.
const TEXT_TAKERS: &[&str] = &["parse_script("];

/// One finding of the scan: where, and what.
#[derive(Debug, PartialEq)]
struct Finding {
    line: usize,
    what: String,
}

/// The code of a file without its `#[cfg(test)] mod` (by convention the file's end).
fn non_test(source: &str) -> &str {
    match source.find("\n#[cfg(test)]\nmod ") {
        Some(at) => &source[..at],
        None => source,
    }
}

/// The function a byte offset of `code` is in: the name after the last `fn ` before it.
fn enclosing_fn(code: &str, at: usize) -> (&str, usize) {
    let before = &code[..at];
    let mut search = before.len();
    while let Some(i) = before[..search].rfind("fn ") {
        let boundary = i == 0 || !before.as_bytes()[i - 1].is_ascii_alphanumeric();
        let name: String = before[i + 3..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if boundary && !name.is_empty() {
            let start = i + 3;
            return (&before[start..start + name.len()], i);
        }
        search = i;
    }
    ("", 0)
}

/// The text of a call's arguments, from just after its `(` to the matching `)`.
fn arguments(code: &str, open: usize) -> &str {
    let mut depth = 0usize;
    for (i, c) in code[open..].char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return &code[open + 1..open + i];
                }
            }
            _ => {}
        }
    }
    &code[open + 1..]
}

/// The variables named in `args` (`&sql`, `sql.as_str()`, `&copy.query` → `sql`, `copy`).
fn names(args: &str) -> Vec<String> {
    args.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| {
            w.chars()
                .next()
                .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        })
        .map(str::to_string)
        .collect()
}

/// Whether `body` builds `name` as text: `let [mut] name = format!(`, `name.push_str(`,
/// `let name = ….join(` / `.concat(` on the same statement.
fn builds_text(body: &str, name: &str) -> bool {
    if body.contains(&format!("{name}.push_str(")) {
        return true;
    }
    for binding in [format!("let {name} ="), format!("let mut {name} =")] {
        for (at, _) in body.match_indices(&binding) {
            let statement = &body[at..];
            let statement = &statement[..statement.find(';').unwrap_or(statement.len())];
            if ["format!(", ".join(", ".concat(", "String::from(", " + "]
                .iter()
                .any(|b| statement.contains(b))
            {
                return true;
            }
        }
    }
    false
}

/// Scan one file's code (`path` relative to the crate root).
fn scan(path: &str, source: &str) -> Vec<Finding> {
    let code = non_test(source);
    let line_of = |at: usize| code[..at].matches('\n').count() + 1;
    let mut findings = Vec::new();
    for (at, _) in code.match_indices("replace('\\'', \"''\")") {
        findings.push(Finding {
            line: line_of(at),
            what: "quotes doubled by hand: a value spliced into SQL text (use sql::build)".into(),
        });
    }
    for call in PARSERS.iter().chain(TEXT_TAKERS) {
        for (at, _) in code.match_indices(call) {
            let line_start = code[..at].rfind('\n').map_or(0, |i| i + 1);
            if code[line_start..at].trim_start().starts_with("//") {
                continue;
            }
            let (function, fn_at) = enclosing_fn(code, at);
            let open = at + call.len() - 1;
            let args = arguments(code, open);
            let body = &code[fn_at..at];
            let built =
                args.contains("format!(") || names(args).iter().any(|n| builds_text(body, n));
            if built {
                findings.push(Finding {
                    line: line_of(at),
                    what: format!(
                        "`{call}` in `{function}` is given text built from values (use sql::build)"
                    ),
                });
            }
            let listed = ENTRY_POINTS
                .iter()
                .any(|(file, f, _)| *file == path && *f == function);
            if PARSERS.contains(call) && !listed {
                findings.push(Finding {
                    line: line_of(at),
                    what: format!(
                        "`{call}` in `{function}` is not a listed entry point for SQL text \
                         (build the tree with sql::build, or list it with the reason)"
                    ),
                });
            }
        }
    }
    findings
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("src is readable")
        .map(|e| e.expect("an entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn no_sql_text_is_built_from_data() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    for krate in std::fs::read_dir(root.join("crates")).expect("crates/ is readable") {
        rust_files(&krate.expect("an entry").path().join("src"), &mut files);
    }
    assert!(files.len() > 200, "the sources have {} files", files.len());
    let mut report = Vec::new();
    let mut seen_entries = Vec::new();
    for file in files {
        let relative = file
            .strip_prefix(root)
            .expect("under the root")
            .to_string_lossy()
            .replace('\\', "/");
        let source = std::fs::read_to_string(&file).expect("readable");
        for finding in scan(&relative, &source) {
            report.push(format!("{relative}:{}: {}", finding.line, finding.what));
        }
        for (path, function, _) in ENTRY_POINTS {
            if *path == relative && source.contains(&format!("fn {function}")) {
                seen_entries.push((*path, *function));
            }
        }
    }
    assert!(report.is_empty(), "{}", report.join("\n"));
    // Every listed entry point still exists: the list is not a stale blanket permission.
    for (path, function, _) in ENTRY_POINTS {
        assert!(
            seen_entries.contains(&(*path, *function)),
            "{path}: no fn {function}"
        );
    }
}

#[test]
fn the_shapes_are_static() {
    let build = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/jobsql-core/src/sql/build.rs"),
    )
    .expect("readable");
    assert!(build.contains("pub fn query_shape(shape: &'static str)"));
    assert!(build.contains("pub fn expr_shape(shape: &'static str)"));
}

/// The scanner finds what it is for: the code issue 27 found, and its kin.
#[test]
fn the_scan_finds_sql_built_from_values() {
    let cases: &[(&str, &str)] = &[
        // The sync's `literals`, pasted into a script that ran its last statement.
        (
            "crates/jobsql-history/src/sync/read.rs",
            "fn marks(keys: &[String]) { let sql = format!(\"SELECT * FROM t WHERE id IN ({})\", \
             keys.join(\", \")); let plans = crate::sql::parse_script(&sql); }",
        ),
        // RETURNING's read-back by key, as text.
        (
            "crates/jobsql-core/src/write/returning.rs",
            "async fn read_back() { let mut sql = String::new(); sql.push_str(&key); \
             let df = ctx.sql(&sql).await?; }",
        ),
        // A client's array text, re-quoted by hand.
        (
            "crates/jobsql-pgwire/src/catalog/rewrite/any.rs",
            "fn literal(v: &str) -> String { format!(\"'{}'\", v.replace('\\'', \"''\")) }",
        ),
        // A listed entry point given a format! directly.
        (
            "crates/jobsql-pgwire/src/protocol/classify.rs",
            "fn classify() { Tokenizer::new(&dialect, &format!(\"SELECT {x}\")).tokenize() }",
        ),
        // Text parsed somewhere new.
        (
            "crates/jobsql-mcp/src/tools.rs",
            "fn explain(sql: &str) { Parser::parse_sql(&GenericDialect {}, sql); }",
        ),
    ];
    for (path, code) in cases {
        assert!(!scan(path, code).is_empty(), "not found in {path}: {code}");
    }
    // What is allowed passes: a listed entry point with the text it was given, a comment.
    let fine = "pub fn parse_script(sql: &str) { let p = DFParserBuilder::new(sql); }\n\
                // ctx.sql(&format!(...)) is how it was done";
    assert_eq!(scan("crates/jobsql-core/src/sql.rs", fine), []);
}
