//! Where statements end in the text the shell reads: a `;` outside string literals, quoted
//! identifiers and comments. The shell runs a statement as soon as its `;` is typed (or piped),
//! and times and prints each statement of a line on its own.

/// Where the scanner is.
#[derive(Clone, Copy, PartialEq)]
enum State {
    Code,
    Quote(char),
    LineComment,
    BlockComment,
}

/// Byte offsets of the `;` that end statements, and whether anything but whitespace and
/// comments follows the last one.
fn scan(text: &str) -> (Vec<usize>, bool) {
    let mut ends = Vec::new();
    let mut pending = false;
    let mut state = State::Code;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let next = chars.peek().map(|(_, n)| *n);
        state = match (state, c) {
            (State::Code, '\'' | '"') => {
                pending = true;
                State::Quote(c)
            }
            (State::Code, '-') if next == Some('-') => State::LineComment,
            (State::Code, '/') if next == Some('*') => {
                chars.next();
                State::BlockComment
            }
            (State::Code, ';') => {
                ends.push(i);
                pending = false;
                State::Code
            }
            (State::Code, c) => {
                pending |= !c.is_whitespace();
                State::Code
            }
            // A doubled quote inside a literal is the quote itself: leave and re-enter.
            (State::Quote(q), c) if c == q => State::Code,
            (State::LineComment, '\n') => State::Code,
            (State::BlockComment, '*') if next == Some('/') => {
                chars.next();
                State::Code
            }
            (s, _) => s,
        };
    }
    if matches!(state, State::Quote(_)) {
        pending = true;
    }
    (ends, pending)
}

/// True when `text` holds at least one statement and nothing after the last `;` but
/// whitespace and comments: it can run.
pub fn is_complete(text: &str) -> bool {
    let (ends, pending) = scan(text);
    !ends.is_empty() && !pending
}

/// The statements of `text`, each with its `;` (the last one may lack it), without the empty
/// ones (`;;`, comments only).
pub fn statements(text: &str) -> Vec<String> {
    let (ends, _) = scan(text);
    let mut out = Vec::new();
    let mut start = 0;
    for end in ends.into_iter().chain(std::iter::once(text.len())) {
        let piece = &text[start..(end + 1).min(text.len())];
        start = (end + 1).min(text.len());
        let (_, has_code) = scan(piece.trim_end_matches(';'));
        if has_code {
            out.push(piece.trim().to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_statement_is_complete_at_its_semicolon() {
        assert!(!is_complete("SELECT 1"));
        assert!(!is_complete("SELECT\n  1"));
        assert!(is_complete("SELECT\n  1;"));
        assert!(is_complete("SELECT 1; -- done\n"));
        assert!(!is_complete("SELECT ';"));
        assert!(is_complete("SELECT ';';"));
        assert!(!is_complete("SELECT 1 /* ; */"));
        assert!(!is_complete("SELECT 1; SELECT 2"));
        assert!(!is_complete("-- just a comment;"));
        assert!(!is_complete(""));
    }

    #[test]
    fn statements_are_split_outside_quotes_and_comments() {
        assert_eq!(
            statements("SELECT 'a;b'; -- x;\nSELECT \"c;\" ;;  SELECT 3"),
            ["SELECT 'a;b';", "-- x;\nSELECT \"c;\" ;", "SELECT 3"]
        );
        assert_eq!(statements("  ;; -- nothing\n"), Vec::<String>::new());
        assert_eq!(
            statements("SELECT 'it''s';"),
            ["SELECT 'it''s';"],
            "a doubled quote stays inside the literal"
        );
    }
}
