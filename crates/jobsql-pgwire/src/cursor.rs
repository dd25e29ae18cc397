//! The cursor statements of Postgres, as drivers send them: `DECLARE`, `FETCH`, `MOVE`, `CLOSE`.
//!
//! psycopg 3's named cursor (`conn.cursor(name="c")`) sends `DECLARE "c" CURSOR FOR query` over
//! the extended protocol (its parameters bound), describes the portal `"c"`, then `FETCH
//! FORWARD 100 FROM "c"` per `itersize` and `CLOSE "c"`; psycopg2's sends `DECLARE "c" CURSOR
//! WITHOUT HOLD FOR query` and `FETCH FORWARD 2000 FROM "c"` as simple queries; psql users type
//! `FETCH 5 FROM c`. This module reads those statements ([`parse`]); [`super::cursors`] runs
//! them. The forms understood:
//!
//! - `DECLARE name [BINARY] [ASENSITIVE | INSENSITIVE] [NO SCROLL] CURSOR [WITH HOLD | WITHOUT
//!   HOLD] FOR query` (`SCROLL` is refused: a cursor reads its stream forward only);
//! - `FETCH` / `MOVE` `[NEXT | FORWARD | FORWARD n | FORWARD ALL | n | ALL] [FROM | IN] name`
//!   (backward and absolute positions are refused with Postgres' `cursor can only scan
//!   forward`);
//! - `CLOSE name | ALL`.
//!
//! A name is an identifier as Postgres reads it: folded to lower case unless double-quoted.

use super::compat::strip_comments;

/// Why a cursor statement cannot run, with its SQLSTATE ([`CursorError::code`]).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CursorError {
    /// The statement does not parse.
    #[error("syntax error in {0}")]
    Syntax(String),
    /// A form jobsql does not run.
    #[error("{0}")]
    Unsupported(String),
    /// A backward or absolute move.
    #[error("cursor can only scan forward (jobsql cursors are NO SCROLL: FETCH [FORWARD] n | ALL | NEXT)")]
    Backward,
    /// No open cursor of that name.
    #[error("cursor \"{0}\" does not exist")]
    NotFound(String),
    /// A cursor of that name is open.
    #[error("cursor \"{0}\" already exists")]
    Exists(String),
    /// The connection holds the most cursors it may.
    #[error("too many open cursors: a connection may hold {0} (CLOSE one first)")]
    TooMany(usize),
    /// `DECLARE` without `WITH HOLD` outside `BEGIN` ... `COMMIT`.
    #[error("DECLARE CURSOR can only be used in transaction blocks (BEGIN first, or DECLARE ... CURSOR WITH HOLD)")]
    OutsideTransaction,
}

impl CursorError {
    /// The Postgres SQLSTATE of the error.
    pub fn code(&self) -> &'static str {
        match self {
            CursorError::Syntax(_) => "42601",
            CursorError::Unsupported(_) => "0A000",
            CursorError::Backward => "55000",
            CursorError::NotFound(_) => "34000",
            CursorError::Exists(_) => "42P03",
            CursorError::TooMany(_) => "53400",
            CursorError::OutsideTransaction => "25P01",
        }
    }
}

/// A cursor statement.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// `DECLARE ... CURSOR ... FOR query`.
    Declare(Declare),
    /// `FETCH` or `MOVE`.
    Fetch(Fetch),
    /// `CLOSE name` (`None`: `CLOSE ALL`).
    Close(Option<String>),
}

/// `DECLARE name ... CURSOR ... FOR query`.
#[derive(Debug, Clone, PartialEq)]
pub struct Declare {
    /// The cursor's name.
    pub name: String,
    /// `BINARY`: rows fetched by the simple protocol are sent in binary format.
    pub binary: bool,
    /// `WITH HOLD`: the cursor outlives the transaction.
    pub hold: bool,
    /// The query's text.
    pub query: String,
}

/// `FETCH` / `MOVE` `count` rows of cursor `name`.
#[derive(Debug, Clone, PartialEq)]
pub struct Fetch {
    /// The cursor's name.
    pub name: String,
    /// How many rows (`None`: all that are left).
    pub count: Option<u64>,
    /// `MOVE`: the rows are skipped, not sent.
    pub skip: bool,
}

impl Fetch {
    /// The command tag's verb.
    pub fn verb(&self) -> &'static str {
        if self.skip {
            "MOVE"
        } else {
            "FETCH"
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    /// An unquoted word, lower-cased.
    Word(String),
    /// A double-quoted identifier, as written.
    Quoted(String),
    /// An integer (maybe signed).
    Number(i64),
}

impl Token {
    fn is(&self, word: &str) -> bool {
        matches!(self, Token::Word(w) if w == word)
    }

    /// The token as a name (an identifier).
    fn name(self, statement: &str) -> Result<String, CursorError> {
        match self {
            Token::Word(w) | Token::Quoted(w) => Ok(w),
            Token::Number(_) => Err(CursorError::Syntax(statement.to_string())),
        }
    }
}

/// The next token of `text` and what follows it; `None` at its end.
fn token<'a>(text: &'a str, statement: &str) -> Result<Option<(Token, &'a str)>, CursorError> {
    let text = text.trim_start();
    let syntax = || CursorError::Syntax(statement.to_string());
    let Some(first) = text.chars().next() else {
        return Ok(None);
    };
    if first == '"' {
        let mut name = String::new();
        let mut chars = text[1..].char_indices();
        while let Some((i, c)) = chars.next() {
            if c != '"' {
                name.push(c);
            } else if text[1 + i + 1..].starts_with('"') {
                name.push('"');
                chars.next();
            } else {
                return Ok(Some((Token::Quoted(name), &text[1 + i + 1..])));
            }
        }
        return Err(syntax());
    }
    let end = text
        .char_indices()
        .find(|(i, c)| !(c.is_alphanumeric() || *c == '_' || (*i == 0 && (*c == '-' || *c == '+'))))
        .map_or(text.len(), |(i, _)| i);
    if end == 0 {
        return Err(syntax());
    }
    let (word, rest) = text.split_at(end);
    let token = if first.is_ascii_digit() || first == '-' || first == '+' {
        Token::Number(word.parse().map_err(|_| syntax())?)
    } else {
        Token::Word(word.to_lowercase())
    };
    Ok(Some((token, rest)))
}

/// Every token of `text`.
fn tokens(text: &str, statement: &str) -> Result<Vec<Token>, CursorError> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some((t, after)) = token(rest, statement)? {
        out.push(t);
        rest = after;
    }
    Ok(out)
}

/// `Some` when `sql` is a cursor statement (its first word `DECLARE`, `FETCH`, `MOVE` or
/// `CLOSE`): the statement, or why it cannot run.
pub fn parse(sql: &str) -> Option<Result<Command, CursorError>> {
    let text = strip_comments(sql);
    let text = text.trim().trim_end_matches(';').trim_end();
    let (first, rest) = match token(text, text) {
        Ok(Some((Token::Word(w), rest))) => (w, rest),
        _ => return None,
    };
    match first.as_str() {
        "declare" => Some(declare(rest, text)),
        "fetch" | "move" => Some(fetch(rest, text, first == "move")),
        "close" => Some(match tokens(rest, text) {
            Ok(t) => match <[Token; 1]>::try_from(t) {
                Ok([t]) if t.is("all") => Ok(Command::Close(None)),
                Ok([t]) => t.name(text).map(|n| Command::Close(Some(n))),
                Err(_) => Err(CursorError::Syntax(text.to_string())),
            },
            Err(e) => Err(e),
        }),
        _ => None,
    }
}

fn declare(text: &str, statement: &str) -> Result<Command, CursorError> {
    let syntax = || CursorError::Syntax(statement.to_string());
    let (name, mut rest) = token(text, statement)?.ok_or_else(syntax)?;
    let name = name.name(statement)?;
    let (mut binary, mut hold, mut cursor) = (false, false, false);
    loop {
        let (t, after) = token(rest, statement)?.ok_or_else(syntax)?;
        rest = after;
        let Token::Word(word) = t else {
            return Err(syntax());
        };
        match (word.as_str(), cursor) {
            ("binary", false) => binary = true,
            ("asensitive" | "insensitive", false) => {}
            ("no", false) => match token(rest, statement)? {
                Some((t, after)) if t.is("scroll") => rest = after,
                _ => return Err(syntax()),
            },
            ("scroll", false) => {
                return Err(CursorError::Unsupported(
                    "SCROLL cursors are not supported: jobsql cursors read forward only \
                     (NO SCROLL)"
                        .into(),
                ))
            }
            ("cursor", false) => cursor = true,
            ("with" | "without", true) => match token(rest, statement)? {
                Some((t, after)) if t.is("hold") => {
                    hold = word == "with";
                    rest = after;
                }
                _ => return Err(syntax()),
            },
            ("for", true) => break,
            _ => return Err(syntax()),
        }
    }
    let query = rest.trim().to_string();
    if query.is_empty() {
        return Err(syntax());
    }
    Ok(Command::Declare(Declare {
        name,
        binary,
        hold,
        query,
    }))
}

fn fetch(text: &str, statement: &str, skip: bool) -> Result<Command, CursorError> {
    let syntax = || CursorError::Syntax(statement.to_string());
    let mut tokens = tokens(text, statement)?;
    let name = tokens.pop().ok_or_else(syntax)?.name(statement)?;
    if tokens.last().is_some_and(|t| t.is("from") || t.is("in")) {
        tokens.pop();
    }
    let count = |n: i64| match n {
        0 => Err(CursorError::Unsupported(
            "FETCH 0 (the current row again) is not supported".into(),
        )),
        n if n < 0 => Err(CursorError::Backward),
        n => Ok(Some(n.unsigned_abs())),
    };
    let count = match tokens.as_slice() {
        [] => Some(1),
        [t] if t.is("next") || t.is("forward") => Some(1),
        [t] if t.is("all") => None,
        [Token::Number(n)] => count(*n)?,
        [f, t] if f.is("forward") && t.is("all") => None,
        [f, Token::Number(n)] if f.is("forward") => count(*n)?,
        [t, ..]
            if ["prior", "first", "last", "absolute", "relative", "backward"]
                .iter()
                .any(|w| t.is(w)) =>
        {
            return Err(CursorError::Backward)
        }
        _ => return Err(syntax()),
    };
    Ok(Command::Fetch(Fetch { name, count, skip }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn declare_of(sql: &str) -> Declare {
        match parse(sql) {
            Some(Ok(Command::Declare(d))) => d,
            other => panic!("{sql}: {other:?}"),
        }
    }

    fn fetch_of(sql: &str) -> Result<Fetch, CursorError> {
        match parse(sql) {
            Some(Ok(Command::Fetch(f))) => Ok(f),
            Some(Err(e)) => Err(e),
            other => panic!("{sql}: {other:?}"),
        }
    }

    #[test]
    fn what_drivers_send_parses() {
        let d = declare_of("DECLARE \"c\" CURSOR FOR SELECT 1 WHERE x = $1");
        assert_eq!(
            d,
            Declare {
                name: "c".into(),
                binary: false,
                hold: false,
                query: "SELECT 1 WHERE x = $1".into()
            }
        );
        let d = declare_of("declare \"My \"\"c\"\"\" cursor without hold for select 1;");
        assert_eq!((d.name.as_str(), d.hold), ("My \"c\"", false));
        let d = declare_of("DECLARE Big BINARY NO SCROLL CURSOR WITH HOLD FOR\n SELECT 'for'");
        assert_eq!((d.name.as_str(), d.binary, d.hold), ("big", true, true));
        assert_eq!(d.query, "SELECT 'for'");
        assert_eq!(
            fetch_of("FETCH FORWARD 100 FROM \"c\""),
            Ok(Fetch {
                name: "c".into(),
                count: Some(100),
                skip: false
            })
        );
        assert_eq!(fetch_of("fetch 5 in c").map(|f| f.count), Ok(Some(5)));
        assert_eq!(fetch_of("FETCH ALL FROM c").map(|f| f.count), Ok(None));
        assert_eq!(fetch_of("FETCH FORWARD ALL c").map(|f| f.count), Ok(None));
        assert_eq!(fetch_of("FETCH NEXT FROM c").map(|f| f.count), Ok(Some(1)));
        assert_eq!(fetch_of("FETCH c").map(|f| f.count), Ok(Some(1)));
        let m = fetch_of("MOVE 3 FROM c").expect("move");
        assert!(m.skip && m.count == Some(3) && m.verb() == "MOVE");
        assert_eq!(
            parse("CLOSE \"c\""),
            Some(Ok(Command::Close(Some("c".into()))))
        );
        assert_eq!(parse("close all"), Some(Ok(Command::Close(None))));
        assert_eq!(
            parse("CLOSE \"all\""),
            Some(Ok(Command::Close(Some("all".into()))))
        );
    }

    #[test]
    fn other_forms_are_refused_with_the_reason() {
        assert_eq!(fetch_of("FETCH PRIOR FROM c"), Err(CursorError::Backward));
        assert_eq!(fetch_of("FETCH -1 FROM c"), Err(CursorError::Backward));
        assert_eq!(
            fetch_of("FETCH ABSOLUTE 3 FROM c"),
            Err(CursorError::Backward)
        );
        assert!(matches!(
            fetch_of("FETCH 0 FROM c"),
            Err(CursorError::Unsupported(_))
        ));
        assert!(matches!(
            fetch_of("FETCH 1 FROM c; SELECT 1"),
            Err(CursorError::Syntax(_))
        ));
        assert!(matches!(
            parse("DECLARE c SCROLL CURSOR FOR SELECT 1"),
            Some(Err(CursorError::Unsupported(_)))
        ));
        assert!(matches!(
            parse("DECLARE c CURSOR SELECT 1"),
            Some(Err(CursorError::Syntax(_)))
        ));
        assert!(matches!(
            parse("DECLARE c CURSOR FOR"),
            Some(Err(CursorError::Syntax(_)))
        ));
        assert!(matches!(parse("CLOSE"), Some(Err(CursorError::Syntax(_)))));
        assert_eq!(parse("SELECT 1"), None);
        assert_eq!(parse("fetcher"), None);
        assert_eq!(CursorError::NotFound("x".into()).code(), "34000");
        assert_eq!(
            CursorError::NotFound("x".into()).to_string(),
            "cursor \"x\" does not exist"
        );
    }
}
