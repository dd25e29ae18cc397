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
fn depth(body: &[u8]) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    let (mut in_string, mut escaped) = (false, false);
    for &b in body {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
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
