//! How much a function can build, known from its arguments before it runs: the functions whose
//! output grows with an argument's *value* rather than with their input (`repeat(s, n)`,
//! `lpad(s, n)`, `range(n)`, `array_repeat(v, n)`, ...), with more arguments than input
//! (`concat(a, a, a, ...)`), or with a short string replicated (`replace(s, 'a', t)`,
//! `regexp_replace(s, '', t, 'g')`, `array_to_string`'s separator). [`Growth::of`] names the kind of each such
//! function (by DataFusion's name for it); [`Growth::bound`] is an upper bound of the bytes its
//! result takes for one batch of arguments. [`expansion`] is what any function may build from
//! its scalar arguments: DataFusion turns a scalar into an array of the batch's rows before
//! calling most functions, so `f(column, '<1 MB>')` makes 1 MB a row.
//!
//! Bounds err high (a string may be 4 bytes a character); a function not named here is counted
//! after it runs, for what it newly allocated ([`super::sizes::new_bytes`]).

use datafusion::arrow::datatypes::IntervalMonthDayNano;
use datafusion::logical_expr::ColumnarValue;

use super::sizes::{
    bytes_at, instant_at, int_at, interval_at, leaves_at, payload, size_at, slice_bytes, str_at,
};

/// How a function's result grows with its arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Growth {
    /// `repeat(s, n)`: `s` n times.
    Repeat,
    /// `lpad(s, n [, fill])`, `rpad`: n characters.
    Pad,
    /// `replace(s, from, to)`: every `from` becomes `to` (an empty `from` changes nothing).
    Replace,
    /// `regexp_replace(s, re, to [, flags])`: every match (perhaps empty) becomes `to`, with
    /// its groups (`$1`) inserted.
    RegexpReplace,
    /// `range(...)` (`inclusive: false`) and `generate_series(...)`: one element a step.
    Range {
        /// Whether the stop is included.
        inclusive: bool,
    },
    /// `array_repeat(v, n)`: `v` n times.
    ArrayRepeat,
    /// `array_resize(a, n [, v])`: n elements.
    ArrayResize,
    /// `array_to_string(a, sep [, null])`: every element's text and a separator.
    ArrayToString,
    /// Every argument once (`concat`, `make_array`, `named_struct`, ...); `separators`: the
    /// first argument again between each two others (`concat_ws`).
    Sum {
        /// Whether the first argument separates the others.
        separators: bool,
    },
    /// `per_row(constant)`: the constant once a row ([`super::operators::PerRow`]).
    PerRow,
    /// No more than its input: counted after it runs.
    Input,
}

impl Growth {
    /// The growth of the function DataFusion calls `name`.
    pub fn of(name: &str) -> Growth {
        match name {
            "repeat" => Growth::Repeat,
            "lpad" | "rpad" => Growth::Pad,
            "replace" => Growth::Replace,
            "regexp_replace" => Growth::RegexpReplace,
            "range" => Growth::Range { inclusive: false },
            "generate_series" => Growth::Range { inclusive: true },
            "array_repeat" => Growth::ArrayRepeat,
            "array_resize" => Growth::ArrayResize,
            "array_to_string" => Growth::ArrayToString,
            "concat_ws" => Growth::Sum { separators: true },
            super::operators::PER_ROW => Growth::PerRow,
            "concat"
            | "make_array"
            | "array_concat"
            | "array_append"
            | "array_prepend"
            | "array_union"
            | "named_struct"
            | "struct"
            | "map"
            | "arrays_zip"
            | "overlay"
            | super::operators::STRING_CONCAT => Growth::Sum { separators: false },
            _ => Growth::Input,
        }
    }

    /// An upper bound of the bytes the result takes, for `args` over `rows` rows.
    pub fn bound(self, args: &[ColumnarValue], rows: usize) -> usize {
        let arg = |i: usize| args.get(i);
        let per_row = |f: &dyn Fn(usize) -> usize| {
            (0..rows).fold(0usize, |sum, row| sum.saturating_add(f(row)))
        };
        let count = |i: usize, row: usize| {
            arg(i)
                .and_then(|a| int_at(a, row))
                .map_or(0, |n| usize::try_from(n.max(0)).unwrap_or(usize::MAX))
        };
        let bytes = |i: usize, row: usize| arg(i).and_then(|a| bytes_at(a, row)).unwrap_or(0);
        match self {
            Growth::Repeat => per_row(&|row| bytes(0, row).saturating_mul(count(1, row))),
            Growth::Pad => {
                // Characters of up to 4 bytes, unless the string and the fill are ASCII.
                let ascii = |row| {
                    [0, 2]
                        .iter()
                        .all(|&i| arg(i).is_none_or(|a| str_at(a, row).is_none_or(str::is_ascii)))
                };
                per_row(&|row| {
                    count(1, row)
                        .saturating_mul(if ascii(row) { 1 } else { 4 })
                        .saturating_add(4)
                })
            }
            Growth::Replace => per_row(&|row| {
                let (s, from, to) = (bytes(0, row), bytes(1, row), bytes(2, row));
                let places = s.checked_div(from).unwrap_or(0);
                s.saturating_add(places.saturating_mul(to))
            }),
            Growth::RegexpReplace => per_row(&|row| {
                let s = bytes(0, row);
                let to = bytes(2, row);
                // Each `$n` / `\n` in `to` inserts text of the matches: at most `s` in all.
                let groups = arg(2)
                    .and_then(|a| str_at(a, row))
                    .map_or(0, |t| t.matches(['$', '\\']).count());
                s.saturating_add((s + 1).saturating_mul(to))
                    .saturating_add(groups.saturating_mul(s))
            }),
            Growth::Range { inclusive } => per_row(&|row| {
                range_len(args, row, inclusive)
                    .saturating_mul(8)
                    .saturating_add(4)
            }),
            Growth::ArrayRepeat => per_row(&|row| {
                let v = arg(0).map_or(0, |a| size_at(a, row));
                v.saturating_add(4).saturating_mul(count(1, row))
            }),
            Growth::ArrayResize => per_row(&|row| {
                let filler = arg(2).map_or(16, |a| size_at(a, row).max(16));
                let existing = arg(0).map_or(0, |a| size_at(a, row));
                filler
                    .saturating_mul(count(1, row))
                    .saturating_add(existing)
            }),
            Growth::ArrayToString => per_row(&|row| {
                let (text, leaves) = match arg(0) {
                    Some(ColumnarValue::Array(a)) => (size_at(&args[0], row), leaves_at(a, row)),
                    Some(ColumnarValue::Scalar(s)) => match s.to_array_of_size(1) {
                        Ok(a) => (payload(s), leaves_at(&a, 0)),
                        Err(_) => (payload(s), 0),
                    },
                    None => (0, 0),
                };
                // A number or a time is at most 48 characters.
                let each = bytes(1, row) + bytes(2, row) + 48;
                text.saturating_add(leaves.saturating_mul(each))
            }),
            Growth::Sum { separators } => {
                let mut sum = args
                    .iter()
                    .fold(0usize, |sum, a| sum.saturating_add(total(a, rows)));
                if separators {
                    let sep = arg(0).map_or(0, |a| total(a, rows));
                    sum = sum.saturating_add(sep.saturating_mul(args.len().saturating_sub(2)));
                }
                sum
            }
            Growth::PerRow => arg(0).map_or(0, |a| total(a, rows)),
            Growth::Input => 0,
        }
    }
}

/// What `value` takes over `rows` rows (a scalar once a row).
fn total(value: &ColumnarValue, rows: usize) -> usize {
    match value {
        ColumnarValue::Array(a) => slice_bytes(a),
        ColumnarValue::Scalar(s) => payload(s).saturating_mul(rows),
    }
}

/// What any function may build from its scalar arguments when some argument is an array: each
/// scalar once a row.
pub fn expansion(args: &[ColumnarValue], rows: usize) -> usize {
    if !args.iter().any(|a| matches!(a, ColumnarValue::Array(_))) {
        return 0;
    }
    args.iter()
        .filter_map(|a| match a {
            ColumnarValue::Scalar(s) => Some(payload(s).saturating_mul(rows)),
            ColumnarValue::Array(_) => None,
        })
        .fold(0, usize::saturating_add)
}

/// The elements of `range` / `generate_series` at `row` (at most: a step of months counts as
/// 28 days, a day as 23 hours); `usize::MAX` when a step may not move (`1 month - 31 days`).
fn range_len(args: &[ColumnarValue], row: usize, inclusive: bool) -> usize {
    let extra = usize::from(inclusive);
    // Integers: (stop), (start, stop), (start, stop, step).
    let ints: Vec<Option<i64>> = args.iter().map(|a| int_at(a, row)).collect();
    if ints.iter().all(Option::is_some) {
        let (start, stop, step) = match ints.as_slice() {
            [Some(stop)] => (0, *stop, 1),
            [Some(start), Some(stop)] => (*start, *stop, 1),
            [Some(start), Some(stop), Some(step)] => (*start, *stop, *step),
            _ => return 0,
        };
        return steps(
            i128::from(stop) - i128::from(start),
            i128::from(step),
            extra,
        );
    }
    // Dates (days) or timestamps (ns) with a month-day-nanosecond interval.
    let (Some(start), Some(stop), Some(step)) = (
        args.first().and_then(|a| instant_at(a, row)),
        args.get(1).and_then(|a| instant_at(a, row)),
        args.get(2).and_then(|a| interval_at(a, row)),
    ) else {
        return 0;
    };
    let dates = args.first().is_some_and(|a| {
        matches!(
            a.data_type(),
            datafusion::arrow::datatypes::DataType::Date32
                | datafusion::arrow::datatypes::DataType::Date64
        )
    });
    let (least, most) = step_extent(step, dates);
    let span = i128::from(stop) - i128::from(start);
    if least > 0 {
        steps(span, least, extra)
    } else if most < 0 {
        steps(span, most, extra)
    } else if span == 0 {
        extra
    } else {
        usize::MAX
    }
}

/// How many steps of `step` fit in `span` (plus `extra`); none when they go the other way.
fn steps(span: i128, step: i128, extra: usize) -> usize {
    if step == 0 || (span != 0 && (span > 0) != (step > 0)) {
        return extra.min(usize::from(span == 0));
    }
    let n = span / step;
    usize::try_from(n)
        .unwrap_or(usize::MAX)
        .saturating_add(extra)
}

/// The shortest and longest a step can be: in days for dates (a month 28 to 31 days), in
/// nanoseconds for timestamps (a day 23 to 25 hours, across a change of clocks).
fn step_extent(step: IntervalMonthDayNano, dates: bool) -> (i128, i128) {
    const HOUR: i128 = 3_600_000_000_000;
    let (month_lo, month_hi, day_lo, day_hi, nano) = if dates {
        (28, 31, 1, 1, 0)
    } else {
        (28 * 23 * HOUR, 31 * 25 * HOUR, 23 * HOUR, 25 * HOUR, 1)
    };
    let part = |n: i32, lo: i128, hi: i128| {
        let n = i128::from(n);
        if n >= 0 {
            (n * lo, n * hi)
        } else {
            (n * hi, n * lo)
        }
    };
    let (m_lo, m_hi) = part(step.months, month_lo, month_hi);
    let (d_lo, d_hi) = part(step.days, day_lo, day_hi);
    let ns = i128::from(step.nanoseconds) * nano;
    (m_lo + d_lo + ns, m_hi + d_hi + ns)
}

#[cfg(test)]
mod tests {
    use datafusion::common::ScalarValue;

    use super::*;

    fn s(v: &str) -> ColumnarValue {
        ColumnarValue::Scalar(ScalarValue::Utf8(Some(v.to_string())))
    }

    fn i(v: i64) -> ColumnarValue {
        ColumnarValue::Scalar(ScalarValue::Int64(Some(v)))
    }

    #[test]
    fn growth_is_bounded_before_the_call() {
        assert_eq!(
            Growth::Repeat.bound(&[s("ab"), i(1_000_000_000)], 1),
            2_000_000_000
        );
        assert_eq!(Growth::Pad.bound(&[s("a"), i(300)], 1), 304);
        assert_eq!(Growth::Pad.bound(&[s("a"), i(300), s("é")], 1), 1204);
        assert_eq!(
            Growth::Replace.bound(&[s("abc"), s("a"), s("xy")], 1),
            3 + 3 * 2
        );
        assert_eq!(Growth::Replace.bound(&[s("abc"), s(""), s("xy")], 1), 3);
        assert_eq!(
            Growth::Range { inclusive: false }.bound(&[i(30_000_000)], 1),
            240_000_004
        );
        assert_eq!(
            Growth::Range { inclusive: true }.bound(&[i(1), i(10), i(-1)], 1),
            4
        );
        assert_eq!(
            Growth::Range { inclusive: false }.bound(&[i(5), i(1)], 1),
            4
        );
        assert_eq!(Growth::ArrayRepeat.bound(&[i(1), i(1000)], 1), 12_000);
        assert_eq!(Growth::Input.bound(&[s("abc")], 1), 0);
    }

    #[test]
    fn a_step_that_may_not_move_is_unbounded() {
        let ts = |ns: i64| ColumnarValue::Scalar(ScalarValue::TimestampNanosecond(Some(ns), None));
        let every = |months, days, nanoseconds| {
            ColumnarValue::Scalar(ScalarValue::IntervalMonthDayNano(Some(
                IntervalMonthDayNano::new(months, days, nanoseconds),
            )))
        };
        let day = 86_400_000_000_000;
        let range = Growth::Range { inclusive: true };
        assert!(range.bound(&[ts(0), ts(10 * day), every(0, 0, 1)], 1) > 8 * 10 * day as usize);
        assert_eq!(
            range.bound(&[ts(0), ts(10 * day), every(1, -31, 0)], 1),
            usize::MAX
        );
        // 10 days, a step of at least 23 hours: 10 or 11 elements.
        assert_eq!(
            range.bound(&[ts(0), ts(10 * day), every(0, 1, 0)], 1),
            (10 + 1) * 8 + 4
        );
    }
}
