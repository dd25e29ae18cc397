//! Checks on a success body before anyone decodes it: it must look like JSON, and it must not
//! nest deeper than [`MAX_DEPTH`] levels (the API's answers nest about ten deep; recursive
//! decoders and error printers further on would overflow the stack on a hostile one).

use super::error::quote;

/// The deepest nesting of arrays and objects accepted in a response.
pub const MAX_DEPTH: usize = 128;

/// `None` when a success body looks like JSON, else why not (quoting its start).
pub fn check_success_body(body: &[u8]) -> Option<String> {
    match body.iter().find(|b| !b.is_ascii_whitespace()) {
        None | Some(b'{') | Some(b'[') => {}
        Some(_) => return Some(format!("the response is not JSON: {}", quote(body))),
    }
    (depth(body) > MAX_DEPTH)
        .then(|| format!("the response nests arrays or objects more than {MAX_DEPTH} levels deep"))
}

/// The deepest nesting of `[` / `{` outside strings (a cheap scan; the JSON is not validated).
/// Strings are skipped with `memchr` (most of a page is string bytes), and the scan stops as
/// soon as the nesting passes [`MAX_DEPTH`].
fn depth(body: &[u8]) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    let mut i = 0;
    while let Some(&b) = body.get(i) {
        match b {
            b'"' => match string_end(body, i + 1) {
                Some(end) => {
                    i = end + 1;
                    continue;
                }
                None => return deepest, // an unterminated string: nothing nests after it
            },
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
                if deepest > MAX_DEPTH {
                    return deepest;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    deepest
}

/// The index of the quote that closes the string whose contents start at `from`.
fn string_end(body: &[u8], mut from: usize) -> Option<usize> {
    loop {
        let rest = body.get(from..)?;
        let j = memchr::memchr2(b'"', b'\\', rest)?;
        if rest[j] == b'"' {
            return Some(from + j);
        }
        from += j + 2; // an escape: skip the escaped byte
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_counts_outside_strings_only() {
        assert_eq!(depth(br#"{"a":[1,{"b":"[[[{{{"}]}"#), 3);
        assert_eq!(depth(br#"{"a":"\"[[["}"#), 1);
        assert_eq!(depth(b"[]"), 1);
        let deep = format!("{}{}", "[".repeat(129), "]".repeat(129));
        assert!(check_success_body(deep.as_bytes()).is_some());
        let ok = format!("{}{}", "[".repeat(128), "]".repeat(128));
        assert!(check_success_body(ok.as_bytes()).is_none());
        assert!(check_success_body(b"<html>").is_some());
        assert!(check_success_body(b"  ").is_none());
    }
}
