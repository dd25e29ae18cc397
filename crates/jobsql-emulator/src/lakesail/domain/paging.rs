//! Paging of the LakeSail lists: `limit` (0 to 100; 0 or absent means 100; anything else,
//! text, a negative number or a second `limit`, is a 400) and `marker`, an opaque token
//! (base64url of `createdAt ms:id` of the last item returned) from which the next page
//! continues strictly after that item, newest first. A page has `marker` only when items
//! remain after it. A marker that does not decode is a 400, as is any other query parameter.

use crate::lakesail::state::store::Key;

use super::errors::ApiError;

/// Most (and default) items per page.
pub(crate) const MAX_LIMIT: usize = 100;

/// A list request's paging.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Paging {
    /// Items on the page (1..=100).
    pub limit: usize,
    /// Continue strictly after this item.
    pub after: Option<Key>,
}

/// The paging of a list request with query `pairs`.
pub(crate) fn paging(pairs: &[(String, String)]) -> Result<Paging, ApiError> {
    let mut limit = None;
    let mut marker = None;
    for (k, v) in pairs {
        let slot = match k.as_str() {
            "limit" => &mut limit,
            "marker" => &mut marker,
            other => {
                return Err(ApiError::bad_request(format!(
                    "unknown query parameter '{other}' (a list takes limit and marker)"
                )))
            }
        };
        if slot.replace(v.as_str()).is_some() {
            return Err(ApiError::bad_request(format!("'{k}' is given twice")));
        }
    }
    let limit = match limit {
        None => MAX_LIMIT,
        Some(v) => match v.parse::<usize>() {
            Ok(0) => MAX_LIMIT,
            Ok(n) if n <= MAX_LIMIT => n,
            _ => {
                return Err(ApiError::bad_request(format!(
                    "limit must be an integer from 0 to {MAX_LIMIT}, got '{v}'"
                )))
            }
        },
    };
    let after = marker.map(decode).transpose()?;
    Ok(Paging { limit, after })
}

/// The first `limit` items of `items` and, when more remain, the marker after the last one.
pub(crate) fn page<T>(
    items: impl Iterator<Item = T>,
    paging: &Paging,
    key: impl Fn(&T) -> Key,
) -> (Vec<T>, Option<String>) {
    let mut out: Vec<T> = items.take(paging.limit + 1).collect();
    if out.len() > paging.limit {
        out.truncate(paging.limit);
        let marker = out.last().map(|t| encode(&key(t)));
        (out, marker)
    } else {
        (out, None)
    }
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// The marker of the item with `key`.
pub(crate) fn encode(key: &Key) -> String {
    let text = format!("{}:{}", key.0, key.1);
    let mut out = String::new();
    for chunk in text.as_bytes().chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for k in 0..=chunk.len() {
            out.push(B64[((n >> (18 - 6 * k)) & 63) as usize] as char);
        }
    }
    out
}

/// The key a marker names.
pub(crate) fn decode(marker: &str) -> Result<Key, ApiError> {
    let bad = || {
        ApiError::bad_request(
            "invalid marker: pass the marker of the previous page as it was returned",
        )
    };
    let mut bits: u32 = 0;
    let mut n = 0;
    let mut bytes = Vec::new();
    for c in marker.bytes() {
        let v = B64.iter().position(|&x| x == c).ok_or_else(bad)? as u32;
        bits = (bits << 6) | v;
        n += 6;
        if n >= 8 {
            n -= 8;
            bytes.push((bits >> n) as u8);
            bits &= (1 << n) - 1;
        }
    }
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let (ms, id) = text.split_once(':').ok_or_else(bad)?;
    let ms = ms.parse::<i64>().map_err(|_| bad())?;
    if id.is_empty() || !id.bytes().all(|c| c.is_ascii_alphanumeric()) {
        return Err(bad());
    }
    Ok((ms, id.to_string()))
}

/// The decoded pairs of a raw query string, in order.
pub(crate) fn pairs(raw: Option<&str>) -> Vec<(String, String)> {
    raw.map(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    })
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(q: &[(&str, &str)]) -> Vec<(String, String)> {
        q.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn markers_round_trip_and_garbage_is_refused() {
        for key in [
            (0, "A".to_string()),
            (1_790_000_000_123, "R1A2B3C4D5".to_string()),
            (-5, "XY".to_string()),
        ] {
            let m = encode(&key);
            assert!(
                m.bytes()
                    .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'),
                "{m}"
            );
            assert_eq!(decode(&m).expect("decodes"), key);
        }
        for bad in ["", "!!", "abc", &encode(&(1, "a b".into()))] {
            assert!(decode(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn limits_follow_the_contract() {
        let limit = |v: &str| paging(&pairs(&[("limit", v)])).map(|p| p.limit);
        assert_eq!(limit("0").ok(), Some(100));
        assert_eq!(limit("7").ok(), Some(7));
        assert_eq!(limit("100").ok(), Some(100));
        for bad in ["101", "-1", "x", ""] {
            assert!(limit(bad).is_err(), "{bad}");
        }
        assert_eq!(paging(&[]).map(|p| p.limit).ok(), Some(100));
        assert!(paging(&pairs(&[("limit", "1"), ("limit", "2")])).is_err());
        assert!(paging(&pairs(&[("page", "2")])).is_err());
    }
}
