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
//! rewritten into the equivalent statement sqlparser reads, and parsed again ([`spelled_out`]):
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
