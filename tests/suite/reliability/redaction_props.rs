//! Redaction, generated: every registered secret (any characters: spaces, quotes, `%`, `\`,
//! non-ASCII) × every way an echo can carry it (as written, a piece of at least 8 characters,
//! percent-, form-, JSON- (also ASCII-only, `\/`), HTML-escaped, base64 at every offset in
//! either alphabet, wrapped at 64 or 76 columns, a `Basic` header) × truncation at either end
//! → no 8-character piece of it is left in the masked text, in any of those decodings. The
//! oracle here is written independently of `jobsql_core::redact`: it decodes what is left and looks
//! for the secret. And text without a secret comes back unchanged.

use jobsql_core::redact::{Redactor, MASK, WINDOW};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

use crate::support::base64::encode as encode64;

/// The characters secrets are made of: letters, digits, the characters encodings change, a
/// space and non-ASCII (2, 3 and 4 bytes). Not `*`, the mask's own character.
const SECRET_CHARS: &[char] = &[
    'a', 'b', 'c', 'd', 'e', 'f', 'n', 'r', 't', 'u', 'x', 'z', 'A', 'B', 'K', 'Q', 'Z', '0', '1',
    '2', '5', '7', '9', '-', '_', '.', '~', '/', '+', '=', '%', '&', '"', '\'', '\\', '<', '>',
    '?', '#', ':', '@', ' ', 'é', 'ü', 'ß', '€', '日', '😀',
];

/// How an echo writes what it carries.
#[derive(Debug, Clone)]
enum Encoding {
    Plain,
    /// Percent-encoding of every byte but unreserved ones, or of every byte; hex case.
    Percent {
        all: bool,
        lower: bool,
    },
    /// `application/x-www-form-urlencoded`.
    Form,
    /// Inside a JSON string: non-ASCII as `\uXXXX` or not, `/` as `\/` or not.
    Json {
        ascii: bool,
        slash: bool,
    },
    /// HTML: `&amp;` `&lt;` `&gt;` `&quot;`, `'` as `&#39;`, or every non-alphanumeric as
    /// `&#xHH;`.
    Html {
        numeric: bool,
    },
    /// base64 after `offset` other bytes, wrapped every `wrap` columns with `newline`.
    Base64 {
        offset: usize,
        url_safe: bool,
        wrap: Option<(usize, &'static str)>,
    },
    /// `Authorization: Basic base64(user:secret)`.
    Basic,
}

/// Every encoding: each case of the property tries them all on its secrets.
fn every_encoding() -> Vec<Encoding> {
    let mut all = vec![Encoding::Plain, Encoding::Form, Encoding::Basic];
    for (a, b) in [(false, false), (false, true), (true, false), (true, true)] {
        all.push(Encoding::Percent { all: a, lower: b });
        all.push(Encoding::Json { ascii: a, slash: b });
    }
    for numeric in [false, true] {
        all.push(Encoding::Html { numeric });
    }
    for offset in 0..3 {
        for url_safe in [false, true] {
            for wrap in [
                None,
                Some((64, "\n")),
                Some((76, "\r\n")),
                Some((76, "\n  ")),
            ] {
                all.push(Encoding::Base64 {
                    offset,
                    url_safe,
                    wrap,
                });
            }
        }
    }
    all
}

fn percent(s: &str, all: bool, lower: bool) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if !all && (b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')) {
            out.push(b as char);
        } else if lower {
            out.push_str(&format!("%{b:02x}"));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn encode(piece: &str, how: &Encoding) -> String {
    match how {
        Encoding::Plain => piece.to_string(),
        Encoding::Percent { all, lower } => percent(piece, *all, *lower),
        Encoding::Form => url::form_urlencoded::byte_serialize(piece.as_bytes()).collect(),
        Encoding::Json { ascii, slash } => {
            let quoted = serde_json::to_string(piece).expect("json");
            let mut inner = quoted[1..quoted.len() - 1].to_string();
            if *ascii {
                inner = inner
                    .chars()
                    .map(|c| match c.is_ascii() {
                        true => c.to_string(),
                        false => c
                            .encode_utf16(&mut [0; 2])
                            .iter()
                            .map(|u| format!("\\u{u:04x}"))
                            .collect(),
                    })
                    .collect();
            }
            if *slash {
                inner = inner.replace('/', "\\/");
            }
            inner
        }
        Encoding::Html { numeric } => piece
            .chars()
            .map(|c| match (c, numeric) {
                (c, true) if !c.is_alphanumeric() => format!("&#x{:X};", c as u32),
                ('&', _) => "&amp;".into(),
                ('<', _) => "&lt;".into(),
                ('>', _) => "&gt;".into(),
                ('"', _) => "&quot;".into(),
                ('\'', _) => "&#39;".into(),
                (c, _) => c.to_string(),
            })
            .collect(),
        Encoding::Base64 {
            offset,
            url_safe,
            wrap,
        } => {
            let mut bytes = b"xyz"[..*offset].to_vec();
            bytes.extend_from_slice(piece.as_bytes());
            let encoded = encode64(&bytes, *url_safe, true);
            match wrap {
                None => encoded,
                Some((width, newline)) => encoded
                    .as_bytes()
                    .chunks(*width)
                    .map(|line| String::from_utf8_lossy(line).into_owned())
                    .collect::<Vec<_>>()
                    .join(newline),
            }
        }
        Encoding::Basic => format!(
            "Authorization: Basic {}",
            encode64(format!("admin:{piece}").as_bytes(), false, true)
        ),
    }
}

/// `text` with `%XX` decoded (and `+` as a space when `form`); bytes, not necessarily UTF-8.
fn percent_decode(text: &str, form: bool) -> Vec<u8> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let hex = b
            .get(i + 1..i + 3)
            .and_then(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok());
        match (b[i], hex) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            (b'+', _) if form => {
                out.push(b' ');
                i += 1;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// `text` with JSON string escapes decoded (surrogate pairs joined).
fn json_decode(text: &str) -> Vec<u8> {
    let mut units: Vec<u16> = Vec::new();
    let mut out = String::new();
    let flush = |units: &mut Vec<u16>, out: &mut String| {
        out.extend(char::decode_utf16(units.drain(..)).map(|c| c.unwrap_or('\u{fffd}')));
    };
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '\\' && i + 1 < chars.len() {
            let next = chars[i + 1];
            if next == 'u' && i + 6 <= chars.len() {
                let hex: String = chars[i + 2..i + 6].iter().collect();
                if let Ok(u) = u16::from_str_radix(&hex, 16) {
                    units.push(u);
                    i += 6;
                    continue;
                }
            }
            flush(&mut units, &mut out);
            let c = match next {
                'n' => '\n',
                't' => '\t',
                'r' => '\r',
                c @ ('"' | '\\' | '/') => c,
                _ => {
                    out.push('\\');
                    i += 1;
                    continue;
                }
            };
            out.push(c);
            i += 2;
            continue;
        }
        flush(&mut units, &mut out);
        out.push(chars[i]);
        i += 1;
    }
    flush(&mut units, &mut out);
    out.into_bytes()
}

/// `text` with the HTML character references the generator writes decoded.
fn html_decode(text: &str) -> Vec<u8> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let end = rest.find(';').filter(|e| *e < 12);
        let decoded = end.and_then(|e| match &rest[1..e] {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "#39" => Some('\''),
            n => n
                .strip_prefix("#x")
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .and_then(char::from_u32),
        });
        match (decoded, end) {
            (Some(c), Some(e)) => {
                out.push(c);
                rest = &rest[e + 1..];
            }
            _ => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out.into_bytes()
}

/// Every decoding of the runs of base64 characters in `text` (line breaks and the indentation
/// after them removed), at each of the four offsets, in both alphabets.
fn base64_decodings(text: &str) -> Vec<Vec<u8>> {
    let mut joined = String::new();
    let mut lines = text.split('\n');
    if let Some(first) = lines.next() {
        joined.push_str(first.trim_end_matches('\r'));
    }
    for line in lines {
        joined.push_str(line.trim_end_matches('\r').trim_start_matches([' ', '\t']));
    }
    let mut out = Vec::new();
    for run in joined.split(|c: char| !(c.is_ascii_alphanumeric() || "+/-_".contains(c))) {
        for url_safe in [false, true] {
            let value = |c: u8| -> Option<u32> {
                Some(match c {
                    b'A'..=b'Z' => c - b'A',
                    b'a'..=b'z' => c - b'a' + 26,
                    b'0'..=b'9' => c - b'0' + 52,
                    b'+' if !url_safe => 62,
                    b'/' if !url_safe => 63,
                    b'-' if url_safe => 62,
                    b'_' if url_safe => 63,
                    _ => return None,
                } as u32)
            };
            for skip in 0..4.min(run.len() + 1) {
                let mut bytes = Vec::new();
                for group in run.as_bytes()[skip..].chunks(4) {
                    let Some(v) = group.iter().map(|c| value(*c)).collect::<Option<Vec<_>>>()
                    else {
                        break;
                    };
                    let n = v.iter().fold(0u32, |n, x| (n << 6) | x) << (6 * (4 - v.len()));
                    let keep = (v.len() * 6) / 8;
                    bytes.extend_from_slice(&n.to_be_bytes()[1..1 + keep]);
                }
                out.push(bytes);
            }
        }
    }
    out
}

/// The secret's pieces that must not survive: every run of `WINDOW` characters (its whole self
/// when shorter), as bytes.
/// A run of lowercase letters alone inside a secret with other characters is a word, not a
/// piece of it (`jobsql_core::redact`'s rule).
fn windows(secret: &str) -> Vec<Vec<u8>> {
    let chars: Vec<char> = secret.chars().collect();
    let w = WINDOW.min(chars.len());
    let words_only = chars.iter().all(char::is_ascii_lowercase);
    (0..=chars.len() - w)
        .map(|i| chars[i..i + w].iter().collect::<String>().into_bytes())
        .filter(|piece| words_only || w == chars.len() || !piece.iter().all(u8::is_ascii_lowercase))
        .collect()
}

/// The same, as bytes (a base64 echo carries bytes: 8 of them are a piece).
fn byte_windows(secret: &str) -> Vec<Vec<u8>> {
    let b = secret.as_bytes();
    (0..=b.len() - WINDOW.min(b.len()))
        .map(|i| b[i..i + WINDOW.min(b.len())].to_vec())
        .collect()
}

/// The first of `needles` found in `hay`.
fn find_any<'a>(hay: &[u8], needles: &'a [Vec<u8>]) -> Option<&'a [u8]> {
    let set: std::collections::HashSet<&[u8]> = needles.iter().map(Vec::as_slice).collect();
    let mut lengths: Vec<usize> = needles.iter().map(Vec::len).collect();
    lengths.sort_unstable();
    lengths.dedup();
    (0..hay.len()).find_map(|i| {
        lengths
            .iter()
            .filter_map(|n| hay.get(i..i + n))
            .find_map(|w| set.get(w).copied())
    })
}

/// The piece of `secret` a decoding of the fragments of `masked` still holds, if any.
fn leak(masked: &str, secret: &str) -> Option<String> {
    let chars = windows(secret);
    let bytes = byte_windows(secret);
    for fragment in masked.split(MASK) {
        let decoded = [
            fragment.as_bytes().to_vec(),
            percent_decode(fragment, false),
            percent_decode(fragment, true),
            json_decode(fragment),
            html_decode(fragment),
        ];
        for (how, text) in decoded.iter().enumerate() {
            if let Some(w) = find_any(text, &chars) {
                return Some(format!("decoding {how}: {:?}", String::from_utf8_lossy(w)));
            }
        }
        for text in base64_decodings(&String::from_utf8_lossy(&json_decode(fragment))) {
            if let Some(w) = find_any(&text, &bytes) {
                return Some(format!("base64: {:?}", String::from_utf8_lossy(w)));
            }
        }
    }
    None
}

fn secret() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(SECRET_CHARS), WINDOW..40)
        .prop_map(|c| c.into_iter().collect())
}

/// Ordinary text around an echo.
const WORDS: &[&str] = &[
    "GET",
    "/api/2.2/jobs/runs/list",
    "failed:",
    "HTTP",
    "401",
    "{\"error_code\":",
    "\"message\":",
    "invalid",
    "token",
    "for",
    "workspace",
    "'w'",
    "https://example.com/x?y=1&z=2",
    "Bearer",
    "Basic",
    "=",
    "\"",
    "<p>",
    "</p>",
    "\\n",
    "\n",
    "run_id",
    "42",
    "100%",
    "a+b",
    "&amp;",
    "emulator",
    "password",
    "secret",
    "jobsql-e0123456789abcdef",
    "dGVzdA==",
    "YWRtaW46",
];

fn context() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(WORDS), 0..6).prop_map(|w| w.join(" "))
}

fn runner(cases: u32) -> TestRunner {
    TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    })
}

#[test]
fn no_piece_of_any_secret_survives_any_encoding_or_cut() {
    let case = (
        prop::collection::vec(secret(), 1..4),
        any::<prop::sample::Index>(),
        (any::<prop::sample::Index>(), any::<prop::sample::Index>()),
        (0..12usize, 0..12usize),
        (context(), context()),
    );
    let encodings = every_encoding();
    runner(24)
        .run(
            &case,
            |(secrets, which, (a, b), (front, back), (before, after))| {
                let mut r = Redactor::new();
                for s in &secrets {
                    r.add(s);
                }
                // A piece of one secret: any run of at least WINDOW characters, or the whole.
                let secret = which.get(&secrets);
                let chars: Vec<char> = secret.chars().collect();
                let len = WINDOW + b.index(chars.len() - WINDOW + 1);
                let start = a.index(chars.len() - len + 1);
                let piece: String = chars[start..start + len].iter().collect();
                for how in &encodings {
                    let encoded = encode(&piece, how);
                    // Cut at either end (by characters), as a length limit or a proxy would, or not.
                    let all: Vec<char> = encoded.chars().collect();
                    let end = all.len().saturating_sub(back);
                    let cut: String = all[front.min(end)..end].iter().collect();
                    for kept in [&encoded, &cut] {
                        let text = format!("{before} {kept} {after}");
                        let masked = r.redact(&text);
                        if let Some(what) = leak(&masked, secret) {
                            return Err(TestCaseError::fail(format!(
                                "{what} left in {masked:?} (secret {secret:?}, {how:?})"
                            )));
                        }
                    }
                }
                Ok(())
            },
        )
        .expect("no piece survives");
}

#[test]
fn text_without_a_secret_is_left_as_it_is() {
    let case = (prop::collection::vec(secret(), 1..4), context(), context());
    runner(64)
        .run(&case, |(secrets, a, b)| {
            let mut r = Redactor::new();
            for s in &secrets {
                r.add(s);
            }
            let text = format!("{a} {b}");
            if secrets.iter().any(|s| leak(&text, s).is_some()) {
                return Ok(());
            }
            prop_assert_eq!(r.redact(&text), text.as_str());
            Ok(())
        })
        .expect("unchanged");
}

#[test]
fn realistic_secrets_leave_realistic_messages_alone() {
    let mut r = Redactor::new();
    for s in [
        "dapi0123456789abcdef0123456789abcd",
        "dev-emulator-token",
        "dev-lakesail-token",
        "dapi-other-workspace-5e8d01",
        "emu-oauth-00c0ffee00c0ffee0001",
        "correct horse battery staple",
        "s3cret",
        "AKIAIOSFODNN7EXAMPLE/wJalrXUtnFEMI/K7MDENG/bPxRfiCY",
    ] {
        r.add(s);
    }
    for text in [
        "GET /api/2.2/jobs/runs/list?limit=25 on workspace 'emu' failed: HTTP 401: invalid token",
        "DELETE FROM databricks_workspace.jobs.job_runs without WHERE would delete every row",
        "re-run with idempotency_token 'jobsql-7c9e4f1a2b3d5e6f8091a2b3c4d5e6f7'",
        "Authorization: Basic YWRtaW46eA== is not accepted here",
        "the token endpoint https://login.example.com/oauth2/v2.0/token refused the client",
        "<html><body>502 Bad Gateway</body></html>",
        "lakesail.jobs.job_runs on workspace 'emu' of the emulator: no such run",
    ] {
        assert_eq!(r.redact(text), text);
    }
}
