//! What a registered secret is searched as: its own characters, and its base64 *cores*.
//!
//! A [`Form`] is a byte string cut into units (characters of the secret, or base64 characters)
//! with a window length: every run of `window` consecutive units is a pattern, and a text
//! holding any of them holds a piece of the secret. Plain forms use windows of [`WINDOW`]
//! characters; a secret shorter than that is one window, itself.
//!
//! Encodings that are a character-by-character rewriting (percent, form, JSON, HTML escapes,
//! line wrapping) are not listed here: the text is decoded instead (`views.rs`), so every
//! spelling of an escape (`%2f` or `%2F`, `\u00e9` or `é`) is caught the same way. base64 is
//! not such a rewriting (each character mixes bits of up to two bytes), so each secret has six
//! cores: standard and URL-safe alphabets, at each of the three offsets its first byte can have
//! in a 3-byte group of a longer encoded text (`Basic base64("user:<secret>")`). A core holds only
//! the characters that depend on the secret alone.

/// The shortest run of a secret's characters that is masked wherever it appears.
pub const WINDOW: usize = 8;

/// The base64 characters that any [`WINDOW`] consecutive bytes of a secret determine, at any
/// offset: 8 bytes cover at least two whole 3-byte groups and 10 known characters.
pub const BASE64_WINDOW: usize = 10;

/// One searchable form of a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Form {
    /// The bytes.
    pub text: Vec<u8>,
    /// The byte offset of each unit boundary (`0` first, `text.len()` last).
    pub bounds: Vec<usize>,
    /// Units per pattern (the form's whole length when it is shorter).
    pub window: usize,
    /// Whether windows of lowercase ASCII letters only are left out (see [`Form::plain`]).
    pub skip_words: bool,
}

impl Form {
    /// The secret as written, cut into characters. In a secret with other characters, a
    /// window of lowercase ASCII letters only is a word (`lakesail` of `dev-lakesail-token`,
    /// `workspace` of `dapi-other-workspace-5e8d01`), not a piece of it: masking it would
    /// mask that word in every message. Every window holding anything else still counts, so
    /// the secret's random part is masked wherever 8 characters of it show.
    pub fn plain(secret: &str) -> Self {
        let mut bounds: Vec<usize> = secret.char_indices().map(|(i, _)| i).collect();
        bounds.push(secret.len());
        Form {
            text: secret.as_bytes().to_vec(),
            bounds,
            window: WINDOW,
            skip_words: !secret.bytes().all(|b| b.is_ascii_lowercase()),
        }
    }

    /// A base64 core: every character is a unit.
    fn core(text: String) -> Self {
        Form {
            bounds: (0..=text.len()).collect(),
            text: text.into_bytes(),
            window: BASE64_WINDOW,
            skip_words: false,
        }
    }

    /// Each pattern: (its first unit, its bytes).
    pub fn windows(&self) -> impl Iterator<Item = (usize, &[u8])> {
        let units = self.bounds.len() - 1;
        let window = self.window.min(units);
        let whole = window == units;
        (0..=units - window)
            .filter(move |_| window > 0)
            .map(move |u| (u, &self.text[self.bounds[u]..self.bounds[u + window]]))
            .filter(move |(_, w)| whole || !self.skip_words || !is_word(w))
    }

    /// How many bytes of `text` from its start go on matching this form from unit `unit`.
    pub fn extent(&self, unit: usize, text: &[u8]) -> usize {
        text.iter()
            .zip(&self.text[self.bounds[unit]..])
            .take_while(|(a, b)| a == b)
            .count()
    }
}

/// The base64 cores of `secret` (both alphabets, three offsets), each once.
pub fn base64_cores(secret: &[u8]) -> Vec<Form> {
    let mut out: Vec<Form> = Vec::new();
    for alphabet in [STANDARD, URL_SAFE] {
        for align in 0..3 {
            if let Some(core) = base64_core(secret, align, alphabet) {
                let form = Form::core(core);
                if !out.contains(&form) {
                    out.push(form);
                }
            }
        }
    }
    out
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

/// base64 of `bytes` in `alphabet`, without padding.
pub fn base64(bytes: &[u8], alphabet: &[u8; 64]) -> String {
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

/// Standard base64 with padding (what an `Authorization: Basic` header carries).
pub fn base64_padded(bytes: &[u8]) -> String {
    let mut out = base64(bytes, STANDARD);
    while !out.len().is_multiple_of(4) {
        out.push('=');
    }
    out
}

/// Whether `window` is lowercase ASCII letters only.
pub fn is_word(window: &[u8]) -> bool {
    window.iter().all(u8::is_ascii_lowercase)
}

/// Whether `b` can be part of a base64 text (either alphabet, or padding).
pub fn is_base64_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_' | b'=')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_a_known_encoding() {
        assert_eq!(base64(b"token:dapi", STANDARD), "dG9rZW46ZGFwaQ");
        assert_eq!(base64_padded(b"admin:x"), "YWRtaW46eA==");
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
            let found = base64_cores(secret)
                .iter()
                .any(|core| encoded.contains(std::str::from_utf8(&core.text).unwrap_or("")));
            assert!(found, "{prefix}: {encoded}");
        }
    }

    #[test]
    fn any_eight_bytes_give_a_ten_character_window() {
        // Every 8-byte piece of the secret, at every offset in a longer text, holds one
        // window of a core.
        let secret = b"0123456789abcdefghij";
        let cores = base64_cores(secret);
        for start in 0..=secret.len() - WINDOW {
            for pad in 0..3 {
                let mut text = vec![b'.'; pad];
                text.extend_from_slice(&secret[start..start + WINDOW]);
                let encoded = base64(&text, STANDARD);
                let hit = cores
                    .iter()
                    .flat_map(|c| c.windows())
                    .any(|(_, w)| encoded.contains(std::str::from_utf8(w).unwrap_or("\u{0}")));
                assert!(hit, "{start} {pad}: {encoded}");
            }
        }
    }

    #[test]
    fn windows_are_characters_and_short_forms_are_whole() {
        let f = Form::plain("éabc1efgh");
        let w: Vec<&[u8]> = f.windows().map(|(_, w)| w).collect();
        assert_eq!(w, vec!["éabc1efg".as_bytes(), b"abc1efgh"]);
        let short = Form::plain("abcd");
        assert_eq!(short.windows().count(), 1);
        // `lakesail` is a word of this token: not a window of its own.
        let token = Form::plain("dev-lakesail-token");
        let w: Vec<&[u8]> = token.windows().map(|(_, w)| w).collect();
        assert!(!w.contains(&&b"lakesail"[..]) && w.contains(&&b"-lakesai"[..]));
        assert_eq!(Form::plain("onlylowercaseletters").windows().count(), 13);
        assert_eq!(f.extent(1, b"abc1eXX"), 5);
    }
}
