//! Range bounds in the encoding the API takes (a rule's `encoding:`). The translator works in
//! epoch milliseconds (tightening bounds, finding an inverted range); the bounds are rendered
//! last: RFC 3339 text in UTC (with milliseconds when there are any: exact), or epoch seconds
//! rounded outwards (the lower bound down, the upper up: the API then returns every row SQL
//! keeps, and more, so the predicate is also evaluated on the rows).

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat};

use crate::spec::TimeEncoding;

use super::Answer;

/// The bound parameters to render, with the filters that set them.
#[derive(Debug, Default)]
pub(super) struct Encoded {
    params: BTreeMap<String, (TimeEncoding, bool, Vec<usize>)>,
}

impl Encoded {
    /// Parameter `param` is a bound (`lower` or not) in `encoding`, set by filter `filter`.
    pub(super) fn add(&mut self, param: &str, encoding: TimeEncoding, lower: bool, filter: usize) {
        if encoding == TimeEncoding::EpochMs {
            return;
        }
        let entry = self
            .params
            .entry(param.to_string())
            .or_insert((encoding, lower, Vec::new()));
        entry.2.push(filter);
    }

    /// Rewrite the bounds in `params` (epoch ms) in their encodings. A bound that cannot be
    /// rendered (beyond the years RFC 3339 writes) is not sent; its filters, like those sent
    /// in seconds, are evaluated on the rows.
    pub(super) fn render(&self, params: &mut BTreeMap<String, String>, answers: &mut [Answer]) {
        for (param, (encoding, lower, filters)) in &self.params {
            let Some(ms) = params.get(param).and_then(|v| v.parse::<i64>().ok()) else {
                continue;
            };
            let exact = *encoding == TimeEncoding::Rfc3339;
            match render(ms, *encoding, *lower) {
                Some(text) => {
                    params.insert(param.clone(), text);
                }
                None => {
                    params.remove(param);
                }
            }
            let loose = !exact || !params.contains_key(param);
            for &i in filters {
                if loose && matches!(answers[i], Answer::Pushed) {
                    answers[i] = Answer::Sent;
                }
            }
        }
    }
}

/// An inclusive bound of `ms` milliseconds in `encoding`.
pub(super) fn render(ms: i64, encoding: TimeEncoding, lower: bool) -> Option<String> {
    match encoding {
        TimeEncoding::EpochMs => Some(ms.to_string()),
        TimeEncoding::EpochS => {
            let s = ms.div_euclid(1000) + i64::from(!lower && ms.rem_euclid(1000) != 0);
            Some(s.to_string())
        }
        TimeEncoding::Rfc3339 => {
            let t = DateTime::from_timestamp_millis(ms)?;
            let format = if ms.rem_euclid(1000) == 0 {
                SecondsFormat::Secs
            } else {
                SecondsFormat::Millis
            };
            Some(t.to_rfc3339_opts(format, true))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_are_rendered_exactly_or_outwards() {
        let ms = 1_764_583_200_123; // 2025-12-01T10:00:00.123Z
        assert_eq!(
            render(ms, TimeEncoding::Rfc3339, true).as_deref(),
            Some("2025-12-01T10:00:00.123Z")
        );
        assert_eq!(
            render(ms - 123, TimeEncoding::Rfc3339, false).as_deref(),
            Some("2025-12-01T10:00:00Z")
        );
        assert_eq!(
            render(ms, TimeEncoding::EpochS, true).as_deref(),
            Some("1764583200")
        );
        assert_eq!(
            render(ms, TimeEncoding::EpochS, false).as_deref(),
            Some("1764583201")
        );
        assert_eq!(
            render(-1, TimeEncoding::EpochS, true).as_deref(),
            Some("-1")
        );
        assert_eq!(
            render(ms, TimeEncoding::EpochMs, true),
            Some(ms.to_string())
        );
        assert_eq!(render(i64::MAX, TimeEncoding::Rfc3339, true), None);
    }
}
