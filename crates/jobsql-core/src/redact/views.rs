//! Decoded copies of a text ([`View`]): each byte of a view knows the range of the original text
//! it came from, so a secret found in a view is masked in the text where it was written.
//!
//! The decodings are those a server or proxy uses when it echoes a value: backslash escapes
//! (JSON's `\"`, `\/`, `\n`, `\u00e9` and surrogate pairs; Rust's `\u{e9}`; `\x41`),
//! percent-encoding (`%2F`, `%2f`; in a form also `+` for a space), HTML character references
//! (`&amp;`, `&#47;`, `&#x2F;`), and line breaks (a base64 text wrapped at 64 or 76 columns,
//! its continuation lines indented or not).

/// A decoded copy of a text.
pub struct View {
    /// The decoded bytes (not necessarily UTF-8).
    pub bytes: Vec<u8>,
    /// For each byte, the range of the original text it came from.
    origin: Vec<(usize, usize)>,
}

/// What an escape decodes to.
enum Decoded {
    Byte(u8),
    Char(char),
    Nothing,
}

impl View {
    /// The text itself.
    pub fn identity(text: &[u8]) -> Self {
        View {
            bytes: text.to_vec(),
            origin: (0..text.len()).map(|i| (i, i + 1)).collect(),
        }
    }

    /// The range of the original text that bytes `start..end` (`end > start`) came from.
    pub fn origin(&self, start: usize, end: usize) -> (usize, usize) {
        (self.origin[start].0, self.origin[end - 1].1)
    }

    /// This view with every escape `step` recognises decoded; `None` when there is none.
    /// `step(bytes, i)` says what the escape at `i` decodes to and how many bytes it takes.
    fn rewrite(&self, step: impl Fn(&[u8], usize) -> Option<(Decoded, usize)>) -> Option<View> {
        let src = &self.bytes;
        let mut out = View {
            bytes: Vec::with_capacity(src.len()),
            origin: Vec::with_capacity(src.len()),
        };
        let mut changed = false;
        let mut i = 0;
        while i < src.len() {
            let Some((decoded, len)) = step(src, i) else {
                out.bytes.push(src[i]);
                out.origin.push(self.origin[i]);
                i += 1;
                continue;
            };
            changed = true;
            let from = self.origin(i, i + len);
            let mut buf = [0u8; 4];
            let bytes: &[u8] = match &decoded {
                Decoded::Byte(b) => std::slice::from_ref(b),
                Decoded::Char(c) => c.encode_utf8(&mut buf).as_bytes(),
                Decoded::Nothing => &[],
            };
            for b in bytes {
                out.bytes.push(*b);
                out.origin.push(from);
            }
            i += len;
        }
        changed.then_some(out)
    }

    /// Backslash escapes decoded (JSON, Rust and C-like string literals); the one-letter
    /// escapes (`\n`, `\t`, `\b`, ...) only when `letters`.
    pub fn unescaped(&self, letters: bool) -> Option<View> {
        self.rewrite(|s, i| backslash(s, i, letters))
    }

    /// Percent-encoding decoded; `+` as a space too when `form`.
    pub fn percent_decoded(&self, form: bool) -> Option<View> {
        self.rewrite(|s, i| match s[i] {
            b'%' => Some((Decoded::Byte(hex(s.get(i + 1..i + 3)?)? as u8), 3)),
            b'+' if form => Some((Decoded::Byte(b' '), 1)),
            _ => None,
        })
    }

    /// HTML character references decoded (the five named ones and numeric ones).
    pub fn html_decoded(&self) -> Option<View> {
        self.rewrite(html)
    }

    /// Line breaks removed, with the spaces and tabs that indent the next line.
    pub fn unwrapped(&self) -> Option<View> {
        self.rewrite(|s, i| {
            if !matches!(s[i], b'\r' | b'\n') {
                return None;
            }
            let len = s[i..]
                .iter()
                .take_while(|b| matches!(b, b'\r' | b'\n' | b' ' | b'\t'))
                .count();
            Some((Decoded::Nothing, len))
        })
    }
}

/// The value of `digits` as hexadecimal (all of them hex digits, at least one).
fn hex(digits: &[u8]) -> Option<u32> {
    if digits.is_empty() || digits.len() > 6 || !digits.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    u32::from_str_radix(std::str::from_utf8(digits).ok()?, 16).ok()
}

fn backslash(s: &[u8], i: usize, letters: bool) -> Option<(Decoded, usize)> {
    if s[i] != b'\\' {
        return None;
    }
    let byte = |b: u8| Some((Decoded::Byte(b), 2));
    match *s.get(i + 1)? {
        c @ (b'"' | b'\\' | b'/' | b'\'') => byte(c),
        b'n' if letters => byte(b'\n'),
        b'r' if letters => byte(b'\r'),
        b't' if letters => byte(b'\t'),
        b'b' if letters => byte(0x08),
        b'f' if letters => byte(0x0c),
        b'x' => Some((Decoded::Byte(hex(s.get(i + 2..i + 4)?)? as u8), 4)),
        b'u' if s.get(i + 2) == Some(&b'{') => {
            let close = s[i + 3..].iter().take(7).position(|b| *b == b'}')?;
            let c = char::from_u32(hex(&s[i + 3..i + 3 + close])?)?;
            Some((Decoded::Char(c), close + 4))
        }
        b'u' => {
            let unit = hex(s.get(i + 2..i + 6)?)?;
            if (0xd800..0xdc00).contains(&unit) && s.get(i + 6..i + 8) == Some(b"\\u") {
                let low = hex(s.get(i + 8..i + 12)?)?;
                if (0xdc00..0xe000).contains(&low) {
                    let c = char::from_u32(0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00))?;
                    return Some((Decoded::Char(c), 12));
                }
            }
            Some((Decoded::Char(char::from_u32(unit)?), 6))
        }
        _ => None,
    }
}

fn html(s: &[u8], i: usize) -> Option<(Decoded, usize)> {
    if s[i] != b'&' {
        return None;
    }
    let end = s[i..].iter().take(12).position(|b| *b == b';')?;
    let name = &s[i + 1..i + end];
    let c = match name {
        b"amp" => '&',
        b"lt" => '<',
        b"gt" => '>',
        b"quot" => '"',
        b"apos" => '\'',
        [b'#', b'x' | b'X', digits @ ..] => char::from_u32(hex(digits)?)?,
        [b'#', digits @ ..] if !digits.is_empty() && digits.iter().all(u8::is_ascii_digit) => {
            char::from_u32(std::str::from_utf8(digits).ok()?.parse().ok()?)?
        }
        _ => return None,
    };
    Some((Decoded::Char(c), end + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(v: Option<View>) -> String {
        String::from_utf8_lossy(&v.expect("changed").bytes).into_owned()
    }

    #[test]
    fn each_decoding() {
        let v = View::identity(br#"a\"b\/c\u00e9\ud83d\ude00\u{e9}\x41\n\q"#);
        assert_eq!(text(v.unescaped(true)), "a\"b/c\u{e9}\u{1f600}\u{e9}A\n\\q");
        assert_eq!(
            text(v.unescaped(false)),
            "a\"b/c\u{e9}\u{1f600}\u{e9}A\\n\\q"
        );
        let v = View::identity(b"a%2Fb%2fc+d%zz");
        assert_eq!(text(v.percent_decoded(false)), "a/b/c+d%zz");
        assert_eq!(text(v.percent_decoded(true)), "a/b/c d%zz");
        let v = View::identity(b"&amp;&#47;&#x2F;&bogus;");
        assert_eq!(text(v.html_decoded()), "&//&bogus;");
        let v = View::identity(b"abc\r\n  def\nghi");
        assert_eq!(text(v.unwrapped()), "abcdefghi");
        assert!(View::identity(b"plain").unescaped(true).is_none());
    }

    #[test]
    fn origins_point_at_the_escapes() {
        let v = View::identity(b"x%41y")
            .percent_decoded(false)
            .expect("changed");
        assert_eq!(v.bytes, b"xAy");
        assert_eq!(v.origin(1, 2), (1, 4));
        assert_eq!(v.origin(0, 3), (0, 5));
        // Composed: a view of a view points at the original text.
        let w = View::identity(b"a\\u0025\n41")
            .unescaped(true)
            .and_then(|v| v.unwrapped())
            .expect("changed");
        assert_eq!(w.bytes, b"a%41");
        assert_eq!(w.origin(1, 2), (1, 7));
    }
}
