//! The one statement classifier: what a client's query string is, read off sqlparser's tree.
//!
//! Every decision "what kind of statement is this" the server makes is made here, once, from
//! the parsed statement — never from the text's first word, where a comment, a quoted name or
//! another spelling would fool it. [`classify`] tokenizes the query string with sqlparser's
//! Postgres dialect (comments and white space are dropped by the tokenizer), parses its first
//! statement, and answers:
//!
//! - a cursor statement ([`CursorCommand`]: `DECLARE` / `FETCH` / `MOVE` / `CLOSE`), or why it
//!   cannot run — from `Statement::Declare`, `Statement::Fetch`, `Statement::Close`;
//! - a `COPY (query) TO STDOUT` ([`CopyOut`]), or why jobsql does not answer that `COPY` —
//!   from `Statement::Copy`;
//! - a session command the server answers itself ([`SessionCommand`]: `BEGIN`, `COMMIT`, `SET`
//!   of a Postgres setting, `SHOW search_path`, `DISCARD ALL`, ...) — from the transaction,
//!   `Set`, `ShowVariable`, `Reset`, `Discard`, `Deallocate` and `UNLISTEN` statements;
//! - anything else: the statements for the engine, parsed by its own parser
//!   ([`jobsql_core::sql::parse_script`]: DataFusion's, with `EXEC`), which both protocols
//!   plan from.
//!
//! A session command or a `COPY` counts only alone in its query string; a cursor statement with
//! others after it is an error, as before.
//!
//! **The token stream, where sqlparser does not parse what drivers send** (sqlparser 0.62's
//! Postgres dialect reads every other form drivers were seen to send, `SET SESSION
//! CHARACTERISTICS AS TRANSACTION ...`, `DISCARD ALL`, `SHOW TRANSACTION ISOLATION LEVEL` and
//! `BEGIN READ ONLY` included): when the first statement does not parse, its tokens are
//! rewritten into the equivalent statement sqlparser reads, and parsed again (`spelled_out`):
//!
//! - `MOVE ...` (not in sqlparser: no `MOVE` keyword either, so its word is compared, as the
//!   engine's parser spots `EXEC`): read as `FETCH ...` whose rows are skipped;
//! - `FETCH` / `MOVE` without a direction or without `FROM` / `IN` (`FETCH c`, `FETCH FORWARD
//!   ALL c`, `FETCH FORWARD FROM c`) and with a signed count (`FETCH -1 FROM c`): Postgres makes
//!   these optional; the direction becomes `NEXT` (`PRIOR` for a bare `BACKWARD`), `-n`
//!   `BACKWARD n`, and `FROM` is put before the name;
//! - `ABORT`: read as `ROLLBACK`, which it is in Postgres.
//!
//! A statement of the cursor family that still does not parse is a syntax error
//! ([`CursorError::Syntax`]); anything else that does not parse is the engine's to refuse, with
//! its own message.

use datafusion::error::DataFusionError;
use datafusion::sql::sqlparser::ast::{
    CloseCursor, DeclareType, FetchDirection, Ident, ObjectName, ObjectNamePart, Query, Set,
    SetExpr, Statement as SqlStatement, Value, ValueWithSpan,
};
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::parser::Parser;
use datafusion::sql::sqlparser::tokenizer::{Token, Tokenizer};

use crate::catalog::settings::SETTINGS;
use crate::protocol::copy_out::{copy_out, CopyOut};
use crate::protocol::cursor_statements::{CursorCommand, CursorError, Declare, Fetch};
use crate::protocol::query_statement::query_statement;
use crate::protocol::session_commands::SessionCommand;
use jobsql_core::sql::{bounds, parse_script, Statement};

/// What a query string is.
#[derive(Debug)]
pub enum Classified {
    /// One session command, answered by the server.
    Session(SessionCommand),
    /// A cursor statement, or why it cannot run.
    Cursor(Result<CursorCommand, CursorError>),
    /// One `COPY ... TO STDOUT` / `FROM STDIN`: the copy, or why it is not answered.
    CopyOut(Result<CopyOut, String>),
    /// Statements for the engine (none for an empty query string), or why they do not parse.
    Script(Result<Vec<Statement>, DataFusionError>),
}

/// What the query string `sql` is, as a client sent it.
pub fn classify(sql: &str) -> Classified {
    let dialect = PostgreSqlDialect {};
    let Ok(tokens) = Tokenizer::new(&dialect, sql).tokenize() else {
        // The engine's parser says where the text is wrong.
        return engine(sql);
    };
    if bounds::check_tokens(&tokens).is_err() {
        // Past the bounds: the engine's parser refuses it, with the bound's message.
        return engine(sql);
    }
    let tokens: Vec<Token> = tokens
        .into_iter()
        .filter(|t| !matches!(t, Token::Whitespace(_)))
        .collect();
    let mut statements = tokens
        .split(|t| *t == Token::SemiColon)
        .filter(|s| !s.is_empty());
    let Some(first) = statements.next() else {
        return engine(sql);
    };
    let alone = statements.next().is_none();
    let family = is_cursor_family(first);
    let (statement, skip) = match parsed(first.to_vec()) {
        Some(statement) => (statement, false),
        None => match spelled_out(first).and_then(|(tokens, skip)| Some((parsed(tokens)?, skip))) {
            Some(found) => found,
            None if family => return Classified::Cursor(Err(syntax(sql))),
            None => return engine(sql),
        },
    };
    if let Some(command) = cursor_command(&statement, skip) {
        return Classified::Cursor(match (command, alone) {
            (command, true) => command,
            (Ok(CursorCommand::Declare(_)), false) => Err(query_refused()),
            (_, false) => Err(syntax(sql)),
        });
    }
    if !alone {
        return engine(sql);
    }
    if let Some(copy) = copy_out(&statement) {
        return Classified::CopyOut(copy);
    }
    match session_command(&statement) {
        Some(command) => Classified::Session(command),
        None => engine(sql),
    }
}

/// `sql` as statements for the engine, parsed by its own parser (DataFusion's, with `EXEC`).
fn engine(sql: &str) -> Classified {
    Classified::Script(engine_script(sql))
}

/// `sql` parsed by the engine's own parser (DataFusion's, with `EXEC`): the statements the
/// server does not answer itself (and, in the extended protocol, a `COPY`, which only the
/// simple protocol answers).
pub fn engine_script(sql: &str) -> Result<Vec<Statement>, DataFusionError> {
    parse_script(sql)
}

/// The one statement `tokens` hold, if sqlparser's Postgres dialect reads them whole.
fn parsed(tokens: Vec<Token>) -> Option<SqlStatement> {
    let mut statements = Parser::new(&PostgreSqlDialect {})
        .with_tokens(tokens)
        .parse_statements()
        .ok()?;
    match (statements.pop(), statements.is_empty()) {
        (Some(statement), true) => Some(statement),
        _ => None,
    }
}

/// The keyword of `token` when it is an unquoted word.
fn keyword(token: Option<&Token>) -> Option<Keyword> {
    match token? {
        Token::Word(w) if w.quote_style.is_none() => Some(w.keyword),
        _ => None,
    }
}

/// Whether `token` is the unquoted word `MOVE` (not one of sqlparser's keywords).
fn is_move(token: Option<&Token>) -> bool {
    matches!(token, Some(Token::Word(w))
        if w.quote_style.is_none() && w.value.eq_ignore_ascii_case("MOVE"))
}

/// Whether the statement `tokens` hold starts as a cursor statement does.
fn is_cursor_family(tokens: &[Token]) -> bool {
    let first = tokens.first();
    is_move(first)
        || matches!(
            keyword(first),
            Some(Keyword::DECLARE | Keyword::FETCH | Keyword::CLOSE)
        )
}

/// `tokens` (one statement sqlparser did not read) rewritten into the statement sqlparser
/// reads and Postgres means (see the module's header), and whether its rows are skipped
/// (`MOVE`). `None` when no rewrite applies.
fn spelled_out(tokens: &[Token]) -> Option<(Vec<Token>, bool)> {
    let (head, rest) = tokens.split_first()?;
    if keyword(Some(head)) == Some(Keyword::ABORT) {
        let mut out = vec![Token::make_keyword("ROLLBACK")];
        out.extend(rest.iter().cloned());
        return Some((out, false));
    }
    let skip = is_move(Some(head));
    if !skip && keyword(Some(head)) != Some(Keyword::FETCH) {
        return None;
    }
    let (name, mut direction) = rest.split_last()?;
    if matches!(keyword(direction.last()), Some(Keyword::FROM | Keyword::IN)) {
        direction = &direction[..direction.len() - 1];
    }
    let direction: Vec<Token> = match direction {
        [] => vec![Token::make_keyword("NEXT")],
        [t] if keyword(Some(t)) == Some(Keyword::FORWARD) => vec![Token::make_keyword("NEXT")],
        [t] if keyword(Some(t)) == Some(Keyword::BACKWARD) => vec![Token::make_keyword("PRIOR")],
        [Token::Minus, n @ Token::Number(..)] => vec![Token::make_keyword("BACKWARD"), n.clone()],
        [Token::Plus, n @ Token::Number(..)] => vec![n.clone()],
        other => other.to_vec(),
    };
    let mut out = vec![Token::make_keyword("FETCH")];
    out.extend(direction);
    out.push(Token::make_keyword("FROM"));
    out.push(name.clone());
    Some((out, skip))
}

/// A name as Postgres reads an identifier: folded to lower case (ASCII letters, as Postgres
/// does in UTF-8) unless double-quoted.
fn folded(ident: &Ident) -> String {
    match ident.quote_style {
        Some(_) => ident.value.clone(),
        None => ident.value.to_ascii_lowercase(),
    }
}

fn syntax(sql: &str) -> CursorError {
    CursorError::Syntax(sql.trim().to_string())
}

fn query_refused() -> CursorError {
    CursorError::Unsupported(
        "a cursor reads one query (SELECT, VALUES or WITH ... SELECT), alone in its statement"
            .into(),
    )
}

/// `statement` as a cursor statement (`skip`: read as `MOVE`), if it is one.
fn cursor_command(
    statement: &SqlStatement,
    skip: bool,
) -> Option<Result<CursorCommand, CursorError>> {
    Some(match statement {
        SqlStatement::Declare { stmts } => match stmts.as_slice() {
            [d] if d.declare_type == Some(DeclareType::Cursor) => declare(d),
            _ => Err(CursorError::Unsupported(
                "DECLARE declares one cursor (DECLARE name CURSOR FOR query)".into(),
            )),
        },
        SqlStatement::Fetch {
            name,
            direction,
            into: None,
            ..
        } => fetch_count(direction).map(|count| {
            CursorCommand::Fetch(Fetch {
                name: folded(name),
                count,
                skip,
            })
        }),
        SqlStatement::Close { cursor } => Ok(CursorCommand::Close(match cursor {
            CloseCursor::All => None,
            CloseCursor::Specific { name } => Some(folded(name)),
        })),
        _ => return None,
    })
}

/// `DECLARE name ... CURSOR ... FOR query` as the cursor to open.
fn declare(d: &datafusion::sql::sqlparser::ast::Declare) -> Result<CursorCommand, CursorError> {
    if d.scroll == Some(true) {
        return Err(CursorError::Unsupported(
            "SCROLL cursors are not supported: jobsql cursors read forward only (NO SCROLL)".into(),
        ));
    }
    let ([name], Some(query)) = (d.names.as_slice(), &d.for_query) else {
        return Err(CursorError::Unsupported(
            "DECLARE declares one cursor (DECLARE name CURSOR FOR query)".into(),
        ));
    };
    Ok(CursorCommand::Declare(Declare {
        name: folded(name),
        binary: d.binary == Some(true),
        hold: d.hold == Some(true),
        query: cursor_query(query)?,
    }))
}

/// A cursor's query as a statement for the engine: a query that reads (`SELECT`, `VALUES`,
/// `WITH ... SELECT`, ...), not one that writes, within the engine's bounds.
fn cursor_query(query: &Query) -> Result<Statement, CursorError> {
    fn reads(body: &SetExpr) -> bool {
        match body {
            SetExpr::Select(_) | SetExpr::Values(_) | SetExpr::Table(_) => true,
            SetExpr::Query(q) => reads(&q.body),
            SetExpr::SetOperation { left, right, .. } => reads(left) && reads(right),
            _ => false,
        }
    }
    if !reads(&query.body) {
        return Err(query_refused());
    }
    query_statement(query).map_err(|e| CursorError::Unsupported(e.to_string()))
}

/// How many rows a `FETCH` direction reads (`None`: all that are left).
fn fetch_count(direction: &FetchDirection) -> Result<Option<u64>, CursorError> {
    let count = |limit: &ValueWithSpan| -> Result<Option<u64>, CursorError> {
        let n = match &limit.value {
            Value::Number(n, _) => n.parse::<u64>().ok(),
            _ => None,
        };
        match n {
            Some(0) => Err(CursorError::Unsupported(
                "FETCH 0 (the current row again) is not supported".into(),
            )),
            Some(n) => Ok(Some(n)),
            None => Err(CursorError::Syntax(format!("FETCH {limit}"))),
        }
    };
    match direction {
        FetchDirection::Next | FetchDirection::Forward { limit: None } => Ok(Some(1)),
        FetchDirection::All | FetchDirection::ForwardAll => Ok(None),
        FetchDirection::Count { limit } | FetchDirection::Forward { limit: Some(limit) } => {
            count(limit)
        }
        FetchDirection::Prior
        | FetchDirection::First
        | FetchDirection::Last
        | FetchDirection::Absolute { .. }
        | FetchDirection::Relative { .. }
        | FetchDirection::Backward { .. }
        | FetchDirection::BackwardAll => Err(CursorError::Backward),
    }
}

/// `statement` as a session command the server answers, if it is one.
fn session_command(statement: &SqlStatement) -> Option<SessionCommand> {
    Some(match statement {
        SqlStatement::StartTransaction { .. } => SessionCommand::Begin,
        SqlStatement::Commit { .. } => SessionCommand::End("COMMIT"),
        // `ROLLBACK TO [SAVEPOINT] x`: the transaction goes on.
        SqlStatement::Rollback {
            savepoint: Some(_), ..
        } => SessionCommand::Ignored("ROLLBACK"),
        SqlStatement::Rollback { .. } => SessionCommand::End("ROLLBACK"),
        SqlStatement::Savepoint { .. } => SessionCommand::Ignored("SAVEPOINT"),
        SqlStatement::ReleaseSavepoint { .. } => SessionCommand::Ignored("RELEASE"),
        SqlStatement::Set(set) if !sets_datafusion(set) => SessionCommand::Ignored("SET"),
        SqlStatement::Reset(_) => SessionCommand::Ignored("RESET"),
        SqlStatement::Discard { .. } => SessionCommand::Ignored("DISCARD"),
        SqlStatement::Deallocate { .. } => SessionCommand::Ignored("DEALLOCATE"),
        SqlStatement::UNLISTEN { .. } => SessionCommand::Ignored("UNLISTEN"),
        SqlStatement::ShowVariable { variable } => show(variable)?,
        _ => return None,
    })
}

/// Whether `set` sets a DataFusion setting (`SET datafusion.x = ...`), which DataFusion runs.
fn sets_datafusion(set: &Set) -> bool {
    let datafusion = |name: &ObjectName| {
        matches!(name.0.first(), Some(ObjectNamePart::Identifier(i))
            if folded(i) == "datafusion")
    };
    match set {
        Set::SingleAssignment { variable, .. } => datafusion(variable),
        Set::ParenthesizedAssignments { variables, .. } => variables.iter().any(datafusion),
        Set::MultipleAssignments { assignments } => assignments.iter().any(|a| datafusion(&a.name)),
        _ => false,
    }
}

/// `SHOW name` of a well-known Postgres setting: its value (Postgres' names of settings are
/// case-insensitive).
fn show(variable: &[Ident]) -> Option<SessionCommand> {
    let words: Vec<String> = variable.iter().map(folded).collect();
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    let name = match words.as_slice() {
        ["transaction", "isolation", "level"] => "transaction_isolation",
        ["time", "zone"] => "timezone",
        [one] => one,
        _ => return None,
    };
    SETTINGS
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(k, v)| SessionCommand::Show((*k).to_string(), (*v).to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn session(sql: &str) -> Option<SessionCommand> {
        match classify(sql) {
            Classified::Session(c) => Some(c),
            _ => None,
        }
    }

    fn cursor(sql: &str) -> Option<Result<CursorCommand, CursorError>> {
        match classify(sql) {
            Classified::Cursor(c) => Some(c),
            _ => None,
        }
    }

    fn declare_of(sql: &str) -> Declare {
        match cursor(sql) {
            Some(Ok(CursorCommand::Declare(d))) => d,
            other => panic!("{sql}: {other:?}"),
        }
    }

    fn fetch_of(sql: &str) -> Result<Fetch, CursorError> {
        match cursor(sql) {
            Some(Ok(CursorCommand::Fetch(f))) => Ok(f),
            Some(Err(e)) => Err(e),
            other => panic!("{sql}: {other:?}"),
        }
    }

    fn close_of(sql: &str) -> Result<Option<String>, CursorError> {
        match cursor(sql) {
            Some(Ok(CursorCommand::Close(name))) => Ok(name),
            Some(Err(e)) => Err(e),
            other => panic!("{sql}: {other:?}"),
        }
    }

    fn show(name: &str, value: &str) -> Option<SessionCommand> {
        Some(SessionCommand::Show(name.into(), value.into()))
    }

    #[test]
    fn session_commands_are_recognised() {
        use SessionCommand::*;
        for (sql, want) in [
            ("BEGIN", Begin),
            ("start transaction read only;", Begin),
            ("BEGIN READ ONLY", Begin),
            ("BEGIN ISOLATION LEVEL SERIALIZABLE", Begin),
            (" commit ; ", End("COMMIT")),
            ("END", End("COMMIT")),
            ("ROLLBACK", End("ROLLBACK")),
            ("abort", End("ROLLBACK")),
            ("SAVEPOINT \"_pg3_1\"", Ignored("SAVEPOINT")),
            ("release savepoint \"_pg3_1\"", Ignored("RELEASE")),
            ("ROLLBACK TO SAVEPOINT \"_pg3_1\"", Ignored("ROLLBACK")),
            ("SET extra_float_digits = 3", Ignored("SET")),
            ("SET SESSION application_name TO 'x;y'", Ignored("SET")),
            (
                "SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL READ COMMITTED",
                Ignored("SET"),
            ),
            ("SET TIME ZONE 'UTC'", Ignored("SET")),
            ("RESET ALL", Ignored("RESET")),
            ("DISCARD ALL", Ignored("DISCARD")),
            ("DEALLOCATE pdo_stmt_1", Ignored("DEALLOCATE")),
            ("UNLISTEN *", Ignored("UNLISTEN")),
        ] {
            assert_eq!(session(sql), Some(want), "{sql}");
        }
        assert_eq!(
            session("/* psql */ SHOW search_path"),
            show("search_path", "\"$user\", public")
        );
        assert_eq!(
            session("show transaction isolation level"),
            show("transaction_isolation", "read committed")
        );
        assert_eq!(session("SHOW TIME ZONE"), show("timezone", "UTC"));
        assert_eq!(session("SHOW \"search_path\""), session("SHOW search_path"));
        for sql in [
            "SET datafusion.execution.batch_size = 10",
            "SHOW datafusion.execution.batch_size",
            "SHOW TABLES",
            "SHOW ALL",
            "SELECT 1; COMMIT",
            "COMMIT; SELECT 1",
            "SELECT 'BEGIN'",
            "-- BEGIN\nSELECT 1",
            "",
        ] {
            assert!(
                matches!(classify(sql), Classified::Script(Ok(_))),
                "{sql}: {:?}",
                classify(sql)
            );
        }
    }

    #[test]
    fn what_drivers_send_of_cursors_parses() {
        let d = declare_of("DECLARE \"c\" CURSOR FOR SELECT 1 WHERE x = $1");
        assert_eq!((d.name.as_str(), d.binary, d.hold), ("c", false, false));
        let d = declare_of("declare \"My \"\"c\"\"\" cursor without hold for select 1;");
        assert_eq!((d.name.as_str(), d.hold), ("My \"c\"", false));
        let d = declare_of("DECLARE Big BINARY NO SCROLL CURSOR WITH HOLD FOR\n SELECT 'for'");
        assert_eq!((d.name.as_str(), d.binary, d.hold), ("big", true, true));
        let Statement::Sql(query) = &d.query else {
            panic!("a query");
        };
        assert_eq!(query.to_string(), "SELECT 'for'");
        let f = fetch_of("FETCH FORWARD 100 FROM \"c\"").expect("fetch");
        assert_eq!((f.name.as_str(), f.count, f.skip), ("c", Some(100), false));
        for (sql, count) in [
            ("fetch 5 in c", Some(5)),
            ("FETCH ALL FROM c", None),
            ("FETCH FORWARD ALL c", None),
            ("FETCH FORWARD ALL FROM c", None),
            ("FETCH NEXT FROM c", Some(1)),
            ("FETCH FORWARD FROM c", Some(1)),
            ("FETCH c", Some(1)),
            ("FETCH 7 c", Some(7)),
        ] {
            assert_eq!(fetch_of(sql).map(|f| f.count), Ok(count), "{sql}");
        }
        let m = fetch_of("MOVE 3 FROM c").expect("move");
        assert!(m.skip && m.count == Some(3) && m.verb() == "MOVE");
        assert!(fetch_of("move c").expect("move").skip);
        assert_eq!(close_of("CLOSE \"c\""), Ok(Some("c".into())));
        assert_eq!(close_of("close all"), Ok(None));
        assert_eq!(close_of("CLOSE \"all\""), Ok(Some("all".into())));
    }

    #[test]
    fn other_cursor_forms_are_refused_with_the_reason() {
        for sql in [
            "FETCH PRIOR FROM c",
            "FETCH -1 FROM c",
            "FETCH ABSOLUTE 3 FROM c",
            "FETCH BACKWARD 1 FROM c",
            "FETCH BACKWARD c",
            "MOVE -2 IN c",
        ] {
            assert_eq!(
                fetch_of(sql).map(|_| ()),
                Err(CursorError::Backward),
                "{sql}"
            );
        }
        assert!(matches!(
            fetch_of("FETCH 0 FROM c"),
            Err(CursorError::Unsupported(_))
        ));
        assert!(matches!(
            fetch_of("FETCH 1 FROM c; SELECT 1"),
            Err(CursorError::Syntax(_))
        ));
        let refused = |sql: &str| match cursor(sql) {
            Some(Err(e)) => e,
            other => panic!("{sql}: {other:?}"),
        };
        assert!(matches!(
            refused("DECLARE c SCROLL CURSOR FOR SELECT 1"),
            CursorError::Unsupported(_)
        ));
        assert!(refused("DECLARE x CURSOR FOR DELETE FROM t")
            .to_string()
            .starts_with("a cursor reads one query"));
        for sql in ["DECLARE c CURSOR SELECT 1", "DECLARE c CURSOR FOR", "CLOSE"] {
            assert!(matches!(refused(sql), CursorError::Syntax(_)), "{sql}");
        }
        assert!(matches!(classify("SELECT 1"), Classified::Script(Ok(_))));
        assert!(matches!(classify("fetcher"), Classified::Script(Err(_))));
        assert!(matches!(
            classify("\"fetch\" 1 FROM c"),
            Classified::Script(_)
        ));
    }

    #[test]
    fn copy_and_scripts_are_told_apart() {
        assert!(matches!(
            classify("/* x */ copy (select 1) to stdout"),
            Classified::CopyOut(Ok(_))
        ));
        assert!(matches!(
            classify("COPY t FROM STDIN"),
            Classified::CopyOut(Err(_))
        ));
        match classify("SELECT 1; EXEC a.b.c.cancel @run_id = 1") {
            Classified::Script(Ok(s)) => assert_eq!(s.len(), 2),
            other => panic!("{other:?}"),
        }
    }

    /// `word` in a random mix of upper and lower case (by `mask`).
    fn spelled(word: &str, mask: u64) -> String {
        word.chars()
            .enumerate()
            .map(|(i, c)| match mask >> (i % 64) & 1 {
                1 => c.to_ascii_uppercase(),
                _ => c.to_ascii_lowercase(),
            })
            .collect()
    }

    /// What may stand between two words: white space and comments.
    fn gap() -> impl Strategy<Value = String> {
        prop::sample::select(vec![
            " ",
            "  ",
            "\n",
            "\t",
            " /* a; comment */ ",
            " -- x;y\n",
            "/**/",
            "\n\t ",
        ])
        .prop_map(String::from)
    }

    /// `words` joined by `gaps` (the first and last around the statement), each in a case of
    /// `masks`.
    fn written(words: &[&str], gaps: &[String], masks: &[u64]) -> String {
        let mut out = gaps[0].clone();
        for (i, w) in words.iter().enumerate() {
            if i > 0 {
                out.push_str(&gaps[i]);
            }
            // A double-quoted word keeps its spelling: only keywords change case.
            if w.starts_with('"') {
                out.push_str(w);
            } else {
                out.push_str(&spelled(w, masks[i]));
            }
        }
        out.push_str(&gaps[words.len()]);
        out
    }

    /// The family of statements drivers send, each as words and what it must classify as.
    fn family() -> Vec<(Vec<&'static str>, &'static str)> {
        vec![
            (vec!["BEGIN"], "begin"),
            (vec!["START", "TRANSACTION", "READ", "ONLY"], "begin"),
            (vec!["COMMIT"], "commit"),
            (vec!["ABORT"], "rollback"),
            (vec!["ROLLBACK", "TO", "SAVEPOINT", "\"_pg3_1\""], "ignored"),
            (vec!["SAVEPOINT", "\"Sp 1\""], "ignored"),
            (
                vec!["SET", "SESSION", "application_name", "TO", "'x;y'"],
                "ignored",
            ),
            (vec!["DISCARD", "ALL"], "ignored"),
            (vec!["SHOW", "TRANSACTION", "ISOLATION", "LEVEL"], "show"),
            (vec!["SHOW", "\"search_path\""], "show"),
            (
                vec![
                    "DECLARE", "\"Cur\"", "CURSOR", "WITH", "HOLD", "FOR", "SELECT", "1",
                ],
                "declare",
            ),
            (vec!["FETCH", "FORWARD", "5", "FROM", "\"Cur\""], "fetch"),
            (vec!["FETCH", "\"Cur\""], "fetch"),
            (vec!["MOVE", "ALL", "IN", "\"Cur\""], "move"),
            (vec!["CLOSE", "\"Cur\""], "close"),
            (
                vec![
                    "COPY", "(", "SELECT", "1", ")", "TO", "STDOUT", "CSV", "HEADER",
                ],
                "copy",
            ),
            (vec!["SELECT", "'BEGIN'"], "script"),
        ]
    }

    fn kind(c: &Classified) -> String {
        match c {
            Classified::Session(SessionCommand::Begin) => "begin".into(),
            Classified::Session(SessionCommand::End("COMMIT")) => "commit".into(),
            Classified::Session(SessionCommand::End(_)) => "rollback".into(),
            Classified::Session(SessionCommand::Ignored(_)) => "ignored".into(),
            Classified::Session(SessionCommand::Show(..)) => "show".into(),
            Classified::Cursor(Ok(CursorCommand::Declare(d))) => format!("declare {}", d.name),
            Classified::Cursor(Ok(CursorCommand::Fetch(f))) if f.skip => format!("move {}", f.name),
            Classified::Cursor(Ok(CursorCommand::Fetch(f))) => format!("fetch {}", f.name),
            Classified::Cursor(Ok(CursorCommand::Close(n))) => format!("close {n:?}"),
            Classified::Cursor(Err(e)) => format!("error {e}"),
            Classified::CopyOut(Ok(_)) => "copy".into(),
            Classified::CopyOut(Err(e)) => format!("copy error {e}"),
            Classified::Script(Ok(_)) => "script".into(),
            Classified::Script(Err(e)) => format!("script error {e}"),
        }
    }

    proptest! {
        /// Case, comments and white space between words, and a trailing `;`, change nothing;
        /// a quoted name keeps its spelling.
        #[test]
        fn the_family_is_classified_whatever_its_spelling(
            which in 0usize..17,
            gaps in prop::collection::vec(gap(), 12),
            masks in prop::collection::vec(any::<u64>(), 12),
            semicolon in any::<bool>(),
        ) {
            let (words, want) = family()[which].clone();
            let mut sql = written(&words, &gaps, &masks);
            if semicolon {
                sql.push(';');
            }
            let got = kind(&classify(&sql));
            let want = match want {
                "declare" | "fetch" | "move" => format!("{want} Cur"),
                "close" => "close Some(\"Cur\")".to_string(),
                other => other.to_string(),
            };
            prop_assert_eq!(got, want, "{}", sql);
        }

        /// An unquoted cursor name is folded to lower case, a quoted one kept as written.
        #[test]
        fn names_fold_as_postgres_folds_them(name in "[a-zA-Z][a-zA-Z0-9_]{0,10}", quoted in any::<bool>()) {
            // A keyword is no name unquoted (Postgres refuses the reserved ones too).
            let is_keyword = matches!(Token::make_word(&name, None), Token::Word(w) if w.keyword != Keyword::NoKeyword);
            prop_assume!(quoted || !is_keyword);
            let written = if quoted { format!("\"{name}\"") } else { name.clone() };
            let want = if quoted { name.clone() } else { name.to_ascii_lowercase() };
            let got = fetch_of(&format!("FETCH 2 FROM {written}")).map(|f| f.name);
            prop_assert_eq!(got, Ok(want));
        }
    }
}
