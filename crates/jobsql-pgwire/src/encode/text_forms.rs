//! Postgres' text forms read back: the fields of a data row encoded in text, and the items of
//! a one-dimensional array written as text (`{a,"b c",NULL}`), as clients send an array in a
//! literal (`ANY('{r,v}')`) or a parameter.

use pgwire::messages::data::DataRow;

/// The text fields of a data row encoded in text format (`None` for NULL).
pub fn row_fields(row: &DataRow) -> Vec<Option<String>> {
    let data = &row.data[..];
    let mut fields = Vec::with_capacity(row.field_count.max(0) as usize);
    let mut at = 0;
    for _ in 0..row.field_count {
        let Some(len) = data.get(at..at + 4) else {
            break;
        };
        let len = i32::from_be_bytes([len[0], len[1], len[2], len[3]]);
        at += 4;
        if len < 0 {
            fields.push(None);
            continue;
        }
        let end = at + len as usize;
        let value = data.get(at..end).unwrap_or_default();
        fields.push(Some(String::from_utf8_lossy(value).into_owned()));
        at = end;
    }
    fields
}

/// The items of a one-dimensional Postgres array in text form (`{a,"b c",NULL}`): each as text,
/// `None` for an unquoted `NULL`. `None` when `text` is not such an array.
pub fn array_items(text: &str) -> Option<Vec<Option<String>>> {
    let inner = text.trim().strip_prefix('{')?.strip_suffix('}')?;
    let mut items = Vec::new();
    if inner.trim().is_empty() {
        return Some(items);
    }
    let mut chars = inner.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut item = String::new();
        let quoted = chars.peek() == Some(&'"');
        if quoted {
            chars.next();
            let mut closed = false;
            while let Some(c) = chars.next() {
                match c {
                    '\\' => item.push(chars.next()?),
                    '"' => {
                        closed = true;
                        break;
                    }
                    c => item.push(c),
                }
            }
            if !closed {
                return None;
            }
        }
        let mut rest = String::new();
        let mut more = false;
        for c in chars.by_ref() {
            match c {
                ',' => {
                    more = true;
                    break;
                }
                '{' | '}' | '"' => return None,
                c => rest.push(c),
            }
        }
        let rest = rest.trim();
        if quoted {
            if !rest.is_empty() {
                return None;
            }
            items.push(Some(item));
        } else if rest.is_empty() {
            return None;
        } else if rest.eq_ignore_ascii_case("NULL") {
            items.push(None);
        } else {
            items.push(Some(rest.to_string()));
        }
        if !more {
            return Some(items);
        }
    }
}
