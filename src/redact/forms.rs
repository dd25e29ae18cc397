//! The forms a secret can take in text that a server or proxy sends back: as written,
//! percent-encoded (URL component, form and every-byte), JSON-escaped, and base64 (standard and
//! URL-safe alphabets, at each of the three alignments a secret can have inside a longer
//! base64 text, e.g. `Basic base64("token:<secret>")`).
//!
//! Each [`Form`] knows how long its encoding of the secret's first
//! [`MIN_PREFIX`](super::MIN_PREFIX) characters is: a cut echo that keeps at least that much is
//! still a leak.

/// How a form is matched and what is masked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The form's characters themselves are masked.
    Plain,
    /// The whole run of base64 characters around the match is masked (its edges encode the
    /// secret mixed with its neighbours).
    Base64,
}

/// One encoded form of a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Form {
    /// The encoded text.
    pub text: String,
    /// The shortest match that counts as the secret (a prefix of `text`).
    pub head: usize,
    /// How it is masked.
    pub kind: Kind,
}

/// Every form of `secret` (ASCII), each once.
pub fn forms(secret: &str, min_prefix: usize) -> Vec<Form> {
    let prefix_len = min_prefix.min(secret.len());
    let prefix = &secret[..prefix_len];
    let mut out: Vec<Form> = Vec::new();
    let mut plain = |text: String, head: usize| {
        if !out.iter().any(|f| f.text == text) {
            out.push(Form {
                head: head.min(text.len()),
                text,
                kind: Kind::Plain,
            });
        }
    };
    let encoders: [fn(&str) -> String; 8] = [
        |s| s.to_string(),
        |s| percent(s, false, false),
        |s| percent(s, false, true),
        |s| percent(s, true, false),
        |s| percent(s, true, true),
        form_encoded,
        json_escaped,
        |s| json_escaped(s).replace('/', "\\/"),
    ];
    for encode in encoders {
        plain(encode(secret), encode(prefix).len());
    }
    plain(unicode_escaped(secret), unicode_escaped(prefix).len());
    for alphabet in [STANDARD, URL_SAFE] {
        for align in 0..3 {
            if let Some(core) = base64_core(secret.as_bytes(), align, alphabet) {
                // ~4 characters per 3 bytes of the prefix.
                let head = (prefix_len * 4).div_ceil(3).min(core.len());
                if !out.iter().any(|f| f.text == core) {
                    out.push(Form {
                        text: core,
                        head,
                        kind: Kind::Base64,
                    });
                }
            }
        }
    }
    out
}

/// Percent-encoding of every byte but unreserved ones (`A-Z a-z 0-9 - . _ ~`), or of every
/// byte (`all`), with upper- or lower-case hex digits.
fn percent(s: &str, all: bool, lower: bool) -> String {
    let mut out = String::with_capacity(s.len() * 3);
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

/// `application/x-www-form-urlencoded`, as a query string carries it.
fn form_encoded(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The inside of a JSON string holding `s`.
fn json_escaped(s: &str) -> String {
    let quoted = serde_json::to_string(s).unwrap_or_default();
    quoted
        .strip_prefix('"')
        .and_then(|q| q.strip_suffix('"'))
        .unwrap_or(&quoted)
        .to_string()
}

/// Every character as a JSON `\uXXXX` escape.
fn unicode_escaped(s: &str) -> String {
    s.bytes().map(|b| format!("\\u{b:04x}")).collect()
}

const STANDARD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL_SAFE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// The base64 characters that depend only on `secret` when it starts `align` bytes (0–2) into
/// a 3-byte group: the characters mixing it with unknown neighbours are left off. `None` when
/// too little is left to be recognisable.
fn base64_core(secret: &[u8], align: usize, alphabet: &[u8; 64]) -> Option<String> {
    let mut bytes = vec![0u8; align];
    bytes.extend_from_slice(secret);
    let encoded = base64(&bytes, alphabet);
    // The first characters encode the padding bytes too: 0, 2 or 3 of them.
    let skip = [0, 2, 3][align];
    let n = bytes.len();
    // A last, partial group: its first 1 (one byte) or 2 (two bytes) characters are known.
    let known = 4 * (n / 3) + [0, 1, 2][n % 3];
    (known >= skip + 6).then(|| encoded[skip..known].to_string())
}

fn base64(bytes: &[u8], alphabet: &[u8; 64]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(alphabet[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

/// Whether `b` can be part of a base64 text (either alphabet, or padding).
pub fn is_base64_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_' | b'=')
}

/// Standard base64 without padding (for the tests of [`crate::redact`]).
#[cfg(test)]
pub fn tests_base64(bytes: &[u8]) -> String {
    base64(bytes, STANDARD)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_a_known_encoding() {
        assert_eq!(base64(b"token:dapi", STANDARD), "dG9rZW46ZGFwaQ");
        // "token:dapi" puts the secret "dapi" at alignment 0 of the third group.
        let core = base64_core(b"dapi1234", 0, STANDARD).expect("core");
        assert!(base64(b"tokdapi1234", STANDARD).contains(&core), "{core}");
    }

    #[test]
    fn every_alignment_is_found_in_a_longer_encoding() {
        let secret = b"dapi0123456789abcdef";
        for prefix in ["", "t", "to", "tok", "toke", "token:"] {
            let mut text = prefix.as_bytes().to_vec();
            text.extend_from_slice(secret);
            text.extend_from_slice(b"!?");
            let encoded = base64(&text, STANDARD);
            let found = (0..3).any(|a| {
                base64_core(secret, a, STANDARD).is_some_and(|core| encoded.contains(&core))
            });
            assert!(found, "{prefix}: {encoded}");
        }
    }

    #[test]
    fn percent_and_json_forms() {
        assert_eq!(percent("a+b/c", false, false), "a%2Bb%2Fc");
        assert_eq!(percent("ab", true, true), "%61%62");
        assert_eq!(form_encoded("a b+"), "a+b%2B");
        assert_eq!(json_escaped("a\"b\\c"), "a\\\"b\\\\c");
        assert_eq!(unicode_escaped("ab"), "\\u0061\\u0062");
    }
}
