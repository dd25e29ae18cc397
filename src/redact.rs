//! The one place text is made safe before it leaves the process: every secret the process
//! holds is masked, and terminal control characters are escaped.
//!
//! Secrets are registered once, process-wide ([`register`]): every [`Workspace`]'s token when
//! it is built, and every token (and other secret) of the environment and the config file when
//! a resolver reads them — so an echo of workspace B's token in workspace A's error is caught
//! as well as A's own. [`outgoing`] is applied to everything that is shown: error messages
//! ([`crate::session::user_message`], the CLI's `error:` line, the API error text of
//! [`crate::client::ApiError`]), warnings, `--verbose` lines, `--dry-run` lines and the
//! `response` text of EXEC.
//!
//! Masking ([`redact`]) replaces with `***`:
//! * a secret in any of its forms: as written, percent-encoded, form-encoded, JSON-escaped,
//!   base64 (standard and URL-safe, at any alignment; the whole base64 run is masked);
//! * any prefix of those of at least [`MIN_PREFIX`] characters of the secret: an echo cut by a
//!   quote's length limit leaves nothing recognisable. Quoting code masks before cutting, and
//!   the text is masked again after.
//!
//! Secrets shorter than [`MIN_SECRET_LEN`] are not registered (they would mask ordinary words;
//! no real token is that short), nor ones that are not printable ASCII (they cannot be sent in
//! a header).
//!
//! Escaping ([`escape_controls`]) writes C0 and C1 control characters (ESC, CR, BEL, DEL, ...)
//! but `\n` and `\t`, and the bidirectional-override characters, as `\x1b` / `\u{202e}`: a
//! server's message cannot move the cursor, recolour the terminal or retitle the window.
//!
//! [`Workspace`]: crate::workspace::Workspace

mod forms;

use std::borrow::Cow;
use std::sync::{LazyLock, RwLock};

use memchr::memmem;

use forms::{is_base64_byte, Form, Kind};

/// What a secret is replaced with.
pub const MASK: &str = "***";
/// The shortest secret that is registered.
pub const MIN_SECRET_LEN: usize = 4;
/// The shortest prefix of a secret that is masked where it appears.
pub const MIN_PREFIX: usize = 8;

/// A set of secrets and the forms they are recognised in.
#[derive(Default)]
pub struct Redactor {
    secrets: Vec<String>,
    forms: Vec<Form>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redactor")
            .field("secrets", &self.secrets.len())
            .finish()
    }
}

impl Redactor {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add a secret (ignored when already known, too short or not printable ASCII).
    pub fn add(&mut self, secret: &str) {
        let secret = secret.trim();
        if secret.len() < MIN_SECRET_LEN
            || !secret.bytes().all(|b| b.is_ascii_graphic())
            || self.secrets.iter().any(|s| s == secret)
        {
            return;
        }
        self.secrets.push(secret.to_string());
        for form in forms::forms(secret, MIN_PREFIX) {
            if !self.forms.contains(&form) {
                self.forms.push(form);
            }
        }
    }

    /// `text` with every secret masked. The matches of all forms are found in the original
    /// text and merged, so the longest wins (a JSON-escaped echo is masked whole, not cut at
    /// its first escape by the prefix of the plain form).
    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut spans: Vec<(usize, usize)> = self
            .forms
            .iter()
            .flat_map(|form| matches(text, form))
            .collect();
        if spans.is_empty() {
            return Cow::Borrowed(text);
        }
        spans.sort_unstable();
        let mut out = String::with_capacity(text.len());
        let mut copied = 0;
        let mut iter = spans.into_iter().peekable();
        while let Some((start, mut end)) = iter.next() {
            while let Some(&(next_start, next_end)) = iter.peek() {
                if next_start > end {
                    break;
                }
                end = end.max(next_end);
                iter.next();
            }
            // Patterns and the base64 alphabet are ASCII: both ends are character boundaries.
            out.push_str(&text[copied..start]);
            out.push_str(MASK);
            copied = end;
        }
        out.push_str(&text[copied..]);
        Cow::Owned(out)
    }
}

/// The byte spans of `text` that hold `form` or a prefix of it of at least `form.head` bytes
/// (for base64, the whole run of base64 characters around it).
fn matches(text: &str, form: &Form) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let pattern = form.text.as_bytes();
    let head = &pattern[..form.head];
    let finder = memmem::Finder::new(head);
    let mut spans = Vec::new();
    let mut from = 0;
    while let Some(found) = finder.find(&bytes[from..]) {
        let start = from + found;
        let matched = bytes[start..]
            .iter()
            .zip(pattern)
            .take_while(|(a, b)| a == b)
            .count();
        let span = match form.kind {
            Kind::Plain => (start, start + matched),
            Kind::Base64 => {
                let before = bytes[..start]
                    .iter()
                    .rev()
                    .take_while(|b| is_base64_byte(**b))
                    .count();
                let after = bytes[start..]
                    .iter()
                    .take_while(|b| is_base64_byte(**b))
                    .count();
                (start - before, start + after)
            }
        };
        spans.push(span);
        from = span.1.max(start + 1);
    }
    spans
}

static SECRETS: LazyLock<RwLock<Redactor>> = LazyLock::new(|| RwLock::new(Redactor::new()));

/// Register a secret the process holds: from now on it is masked in every outgoing text.
pub fn register(secret: &str) {
    let known = {
        let secrets = SECRETS.read().unwrap_or_else(|e| e.into_inner());
        secrets.secrets.iter().any(|s| s == secret.trim())
    };
    if !known {
        SECRETS
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .add(secret);
    }
}

/// `text` with every registered secret masked.
pub fn redact(text: &str) -> Cow<'_, str> {
    let secrets = SECRETS.read().unwrap_or_else(|e| e.into_inner());
    match secrets.redact(text) {
        Cow::Borrowed(_) => Cow::Borrowed(text),
        Cow::Owned(masked) => Cow::Owned(masked),
    }
}

/// Whether `c` is escaped by [`escape_controls`].
fn is_unsafe(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` with terminal control characters (but `\n` and `\t`) written as escapes.
pub fn escape_controls(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if !is_unsafe(c) {
            out.push(c);
        } else if c.is_ascii() {
            out.push_str(&format!("\\x{:02x}", c as u32));
        } else {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        }
    }
    Cow::Owned(out)
}

/// The one redaction point: `text` as it may be shown — secrets masked, control characters
/// escaped.
pub fn outgoing(text: &str) -> String {
    escape_controls(&redact(text)).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redactor(secrets: &[&str]) -> Redactor {
        let mut r = Redactor::new();
        for s in secrets {
            r.add(s);
        }
        r
    }

    #[test]
    fn whole_secrets_and_cut_prefixes_are_masked() {
        let r = redactor(&["dapi0123456789abcdef0123456789abcd"]);
        assert_eq!(
            r.redact("a dapi0123456789abcdef0123456789abcd b"),
            "a *** b"
        );
        assert_eq!(
            r.redact("cut: \"dapi0123456789abcde...\""),
            "cut: \"***...\""
        );
        assert_eq!(r.redact("x dapi0123 y"), "x *** y");
        // Fewer than MIN_PREFIX characters are not the secret.
        assert_eq!(r.redact("dapi012 dapi"), "dapi012 dapi");
    }

    #[test]
    fn encoded_secrets_are_masked() {
        let secret = "dapi/s+cr=t\"q";
        let r = redactor(&[secret]);
        for (text, want) in [
            ("u=dapi%2Fs%2Bcr%3Dt%22q&x", "u=***&x"),
            ("u=dapi%2fs%2bcr%3dt%22q", "u=***"),
            ("q=dapi%2Fs%2Bcr%3Dt%22q", "q=***"),
            (r#"{"t":"dapi/s+cr=t\"q"}"#, r#"{"t":"***"}"#),
            (r#"{"t":"dapi\/s+cr=t\"q"}"#, r#"{"t":"***"}"#),
        ] {
            assert_eq!(r.redact(text), want, "{text}");
        }
        // base64 of "token:<secret>" and of "<secret>" alone, in a Basic header echo.
        for prefix in ["token:", "x", ""] {
            let encoded = forms_base64(&format!("{prefix}{secret}"));
            let text = format!("got Basic {encoded}, expected Bearer");
            assert_eq!(r.redact(&text), "got Basic ***, expected Bearer", "{text}");
        }
    }

    fn forms_base64(s: &str) -> String {
        // Standard base64 with padding.
        let mut out = forms::tests_base64(s.as_bytes());
        while !out.len().is_multiple_of(4) {
            out.push('=');
        }
        out
    }

    #[test]
    fn short_and_unprintable_secrets_are_not_registered() {
        let r = redactor(&["abc", "has space here", ""]);
        assert_eq!(r.redact("abc has space here"), "abc has space here");
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(
            escape_controls("a\x1b[31mred\x07\r\nnext\tcol\u{9b}\u{202e}"),
            "a\\x1b[31mred\\x07\\x0d\nnext\tcol\\u{9b}\\u{202e}"
        );
        assert!(matches!(escape_controls("plain"), Cow::Borrowed(_)));
    }
}
