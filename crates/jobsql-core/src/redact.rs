//! The one place text is made safe before it leaves the process: every secret the process
//! holds is masked, and terminal control characters are escaped.
//!
//! Secrets are registered once, process-wide ([`register`]): every [`Workspace`]'s credentials
//! when it is built (a `Basic` password also as the header value it makes,
//! [`register_basic`]), every secret setting of the environment and the config file when a
//! resolver reads them, every token a token endpoint or a token command hands out (and every
//! `*_token` field of a token endpoint's answer, before its status is looked at), `serve`'s
//! password and the cloud stores' keys — so an echo of workspace B's token in workspace A's
//! error is caught as well as A's own. [`outgoing`] is applied to everything that is shown:
//! error messages ([`crate::session::user_message`], the CLI's `error:` line, the API error
//! text of [`crate::client::ApiError`]), warnings, `--verbose` lines, `--dry-run` lines and
//! the `response` text of EXEC.
//!
//! Masking ([`redact`]) replaces with `***` every run of at least [`WINDOW`] consecutive
//! characters of a secret (a prefix, a suffix or any piece of it: a token echoed without its
//! first characters or cut by a quote's length limit is still masked), extended as far as the
//! secret goes on — but for a run of lowercase letters alone inside a secret with other
//! characters, which is a word (`lakesail` of `dev-lakesail-token`) — wherever it appears:
//! * as written, and in the text decoded: backslash escapes (JSON, Rust), percent-encoding
//!   (any hex case; `+` as a space), HTML character references (`views.rs`);
//! * in base64 (standard and URL-safe, at any offset, also wrapped over lines or
//!   percent-encoded): any `forms::BASE64_WINDOW` characters that only the secret's bytes
//!   determine mask the whole base64 run around them.
//!
//! All pieces of all secrets are found in one pass: the patterns (every window of every
//! secret, every window of its base64 cores) are one Aho-Corasick automaton, rebuilt at the
//! first use after a secret is registered; a match is then extended byte by byte as far as the
//! secret goes. The scan is linear in the text, whatever the number of secrets.
//!
//! Which secrets count: any characters (spaces, non-ASCII, controls), as given and trimmed. A secret
//! shorter than [`WINDOW`] characters is masked only whole; one shorter than
//! [`MIN_SECRET_LEN`] is not registered (it would mask ordinary words) — a short `Basic`
//! password is still masked as the header value it makes. A secret that is a JSON object (a
//! Google service-account key) is registered as the string values of its secret fields
//! (`private_key`, `*secret*`, `*password*`, `*_token`): its URLs and names would otherwise mask
//! every `https://`. The price of matching pieces: a secret made of words (a passphrase) masks
//! those 8-character pieces in any text, which errs on the safe side.
//!
//! Escaping ([`escape_controls`]) writes C0 and C1 control characters (ESC, CR, BEL, DEL, ...)
//! but `\n` and `\t`, and the bidirectional-override characters, as `\x1b` / `\u{202e}`: a
//! server's message cannot move the cursor, recolour the terminal or retitle the window.
//!
//! [`Workspace`]: crate::workspace::Workspace

mod forms;
mod matcher;
mod views;

use std::borrow::Cow;
use std::sync::{LazyLock, OnceLock, RwLock};

pub use forms::WINDOW;
use forms::{is_base64_byte, Form};
use matcher::Matcher;
use views::View;

/// What a secret is replaced with.
pub const MASK: &str = "***";
/// The shortest secret (in characters) that is registered.
pub const MIN_SECRET_LEN: usize = 4;

/// A set of secrets and the patterns they are recognised by.
#[derive(Default)]
pub struct Redactor {
    secrets: Vec<String>,
    /// The secrets' windows and their base64 cores' windows, built at the first use after a
    /// secret was added (several registered in a row build them once).
    matchers: OnceLock<Matchers>,
}

/// The plain and base64 matchers of a set of secrets.
struct Matchers {
    plain: Matcher,
    base64: Matcher,
}

impl Matchers {
    fn new(secrets: &[String]) -> Self {
        Matchers {
            plain: Matcher::new(secrets.iter().map(|s| Form::plain(s)).collect()),
            base64: Matcher::new(
                secrets
                    .iter()
                    .flat_map(|s| forms::base64_cores(s.as_bytes()))
                    .collect(),
            ),
        }
    }
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

    /// Whether `secret` is known already.
    pub fn knows(&self, secret: &str) -> bool {
        self.secrets.iter().any(|s| s == secret)
    }

    /// Add a secret (ignored when already known or too short; a JSON object adds its secret
    /// fields instead).
    pub fn add(&mut self, secret: &str) {
        for piece in pieces(secret) {
            if piece.chars().count() >= MIN_SECRET_LEN && !self.secrets.contains(&piece) {
                self.secrets.push(piece);
                self.matchers = OnceLock::new();
            }
        }
    }

    fn matchers(&self) -> &Matchers {
        self.matchers.get_or_init(|| Matchers::new(&self.secrets))
    }

    /// `text` with every secret masked: the spans found in the text and in each decoding of
    /// it are merged and each masked once.
    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        if self.secrets.is_empty() {
            return Cow::Borrowed(text);
        }
        let matchers = self.matchers();
        let bytes = text.as_bytes();
        let mut spans = matchers.plain.find(bytes);
        let escaped = |b: &u8| matches!(b, b'\\' | b'%' | b'+' | b'&' | b'\r' | b'\n');
        if bytes.iter().any(escaped) {
            let text_view = View::identity(bytes);
            let unescaped = text_view.unescaped(true);
            // A cut through an escaped backslash (`\\b` → `\b`) leaves a letter escape that
            // was not one: also read with letter escapes kept as written.
            let numeric = text_view.unescaped(false);
            let percent = text_view.percent_decoded(false);
            let form = text_view.percent_decoded(true);
            let html = text_view.html_decoded();
            let decoded = [
                unescaped.as_ref(),
                numeric.as_ref(),
                percent.as_ref(),
                form.as_ref(),
                html.as_ref(),
            ];
            for view in decoded.into_iter().flatten() {
                spans.extend(in_view(view, matchers.plain.find(&view.bytes)));
            }
            let base = unescaped.as_ref().unwrap_or(&text_view);
            let unwrapped = base.unwrapped();
            let base64 = [unwrapped.as_ref().or(unescaped.as_ref()), percent.as_ref()];
            for view in base64.into_iter().flatten() {
                spans.extend(in_view(view, base64_runs(&matchers.base64, &view.bytes)));
            }
        }
        spans.extend(base64_runs(&matchers.base64, bytes));
        mask(text, spans)
    }
}

/// The runs of base64 characters of `bytes` that hold a window of a base64 core.
fn base64_runs(base64: &Matcher, bytes: &[u8]) -> Vec<(usize, usize)> {
    base64
        .find(bytes)
        .into_iter()
        .map(|(start, end)| {
            let before = bytes[..start]
                .iter()
                .rev()
                .take_while(|b| is_base64_byte(**b))
                .count();
            let after = bytes[end..]
                .iter()
                .take_while(|b| is_base64_byte(**b))
                .count();
            (start - before, end + after)
        })
        .collect()
}

/// Spans of a view as spans of the original text.
fn in_view(view: &View, spans: Vec<(usize, usize)>) -> impl Iterator<Item = (usize, usize)> + '_ {
    spans
        .into_iter()
        .filter(|(start, end)| end > start)
        .map(|(start, end)| view.origin(start, end))
}

/// `text` with `spans` (merged, widened to character boundaries) replaced by [`MASK`].
fn mask(text: &str, mut spans: Vec<(usize, usize)>) -> Cow<'_, str> {
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
        let mut start = start.max(copied);
        while !text.is_char_boundary(start) {
            start -= 1;
        }
        let mut end = end.min(text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        out.push_str(&text[copied..start]);
        out.push_str(MASK);
        copied = end;
    }
    out.push_str(&text[copied..]);
    Cow::Owned(out)
}

/// What of `secret` is registered: itself as given and trimmed (a password may begin with a
/// space; a value read from a file may end with a newline), or the secret fields of a JSON
/// object.
fn pieces(secret: &str) -> Vec<String> {
    let trimmed = secret.trim();
    match serde_json::from_str::<serde_json::Value>(trimmed) {
        Ok(serde_json::Value::Object(fields)) => {
            let mut out = Vec::new();
            secret_fields(&fields, &mut out);
            out
        }
        _ if trimmed != secret => vec![secret.to_string(), trimmed.to_string()],
        _ => vec![secret.to_string()],
    }
}

fn secret_fields(fields: &serde_json::Map<String, serde_json::Value>, out: &mut Vec<String>) {
    for (name, value) in fields {
        let name = name.to_ascii_lowercase();
        // `token_uri` is a URL, `access_token` a secret.
        let secret = name.ends_with("token")
            || ["key", "secret", "password", "credential"]
                .iter()
                .any(|w| name.contains(w));
        match value {
            serde_json::Value::String(s) if secret => out.push(s.trim().to_string()),
            serde_json::Value::Object(inner) => secret_fields(inner, out),
            _ => {}
        }
    }
}

static SECRETS: LazyLock<RwLock<Redactor>> = LazyLock::new(|| RwLock::new(Redactor::new()));

/// Register a secret the process holds: from now on it is masked in every outgoing text.
pub fn register(secret: &str) {
    let known = SECRETS
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .knows(secret);
    if !known {
        SECRETS
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .add(secret);
    }
}

/// Register an HTTP Basic password and the header value it makes with `user`
/// (`base64("user:password")`, masked even when the password is too short to register).
pub fn register_basic(user: &str, password: &str) {
    register(password);
    register(&forms::base64_padded(
        format!("{user}:{password}").as_bytes(),
    ));
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
    fn whole_secrets_and_any_piece_of_eight_are_masked() {
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
        // Without its first 3 characters, or only its middle or its end.
        assert_eq!(r.redact("t=i0123456789abcdef0123456789abcd"), "t=***");
        assert_eq!(r.redact("[89abcdef01]"), "[***]");
        assert_eq!(r.redact("...6789abcd"), "...***");
        // Fewer than WINDOW characters are not the secret.
        assert_eq!(r.redact("dapi012 dapi 789abcd"), "dapi012 dapi 789abcd");
    }

    #[test]
    fn encoded_secrets_are_masked() {
        let secret = "dapi/s+cr=t\"q";
        let r = redactor(&[secret]);
        for (text, want) in [
            ("u=dapi%2Fs%2Bcr%3Dt%22q&x", "u=***&x"),
            ("u=dapi%2fs%2bcr%3dt%22q", "u=***"),
            ("q=%64%61%70%69%2F%73%2B%63%72", "q=***"),
            (r#"{"t":"dapi/s+cr=t\"q"}"#, r#"{"t":"***"}"#),
            (r#"{"t":"dapi\/s+cr=t\"q"}"#, r#"{"t":"***"}"#),
            (
                r#"{"t":"\u0064\u0061\u0070\u0069\/s+cr"}"#,
                r#"{"t":"***"}"#,
            ),
            ("<p>dapi&#x2F;s+cr=t&quot;q</p>", "<p>***</p>"),
        ] {
            assert_eq!(r.redact(text), want, "{text}");
        }
        // base64 of "token:<secret>" and of "<secret>" alone, in a Basic header echo.
        for prefix in ["token:", "x", ""] {
            let encoded = forms::base64_padded(format!("{prefix}{secret}").as_bytes());
            let text = format!("got Basic {encoded}, expected Bearer");
            assert_eq!(r.redact(&text), "got Basic ***, expected Bearer", "{text}");
        }
    }

    #[test]
    fn any_characters_are_registered() {
        let passphrase = "correct horse battery staple";
        let accented = "pässwörd-für-alle";
        let r = redactor(&[passphrase, accented, " padded-secret\n"]);
        assert_eq!(r.redact(&format!("got {passphrase}!")), "got ***!");
        assert_eq!(r.redact("got orse batt"), "got ***");
        assert_eq!(r.redact("ssw\u{f6}rd-f\u{fc}r"), "***");
        assert_eq!(r.redact("x=padded-secret"), "x=***");
        let basic = forms::base64_padded(format!("admin:{passphrase}").as_bytes());
        assert_eq!(r.redact(&format!("Basic {basic}")), "Basic ***");
    }

    #[test]
    fn wrapped_base64_is_masked_whole() {
        let secret = "dapi0123456789abcdef0123456789abcd";
        let r = redactor(&[secret]);
        let encoded = forms::base64_padded(format!("token:{secret}{secret}").as_bytes());
        let (a, b) = encoded.split_at(20);
        for text in [
            format!("{a}\n{b}"),
            format!("{a}\r\n  {b}"),
            format!("{a}\\n{b}"),
        ] {
            assert_eq!(r.redact(&format!("<{text}>")), "<***>", "{text}");
        }
    }

    #[test]
    fn short_secrets_only_whole_and_tiny_ones_not_at_all() {
        let r = redactor(&["abc", "s3cret", ""]);
        assert_eq!(r.redact("abc s3cre t s3cret"), "abc s3cre t ***");
    }

    #[test]
    fn a_json_key_file_registers_its_secret_fields() {
        let key = r#"{"type":"service_account","client_email":"a@b.iam","private_key":"-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n","token_uri":"https://oauth2.googleapis.com/token"}"#;
        let r = redactor(&[key]);
        assert_eq!(
            r.redact("see https://example.com as a@b.iam"),
            "see https://example.com as a@b.iam"
        );
        assert_eq!(r.redact("k=MIIEvQIBADANBgkq"), "k=***");
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
