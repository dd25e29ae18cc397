//! What `table` output shows (in `jobsql query --format table` and the shell), for a person to
//! read; `csv`, `json` and `ndjson` keep every value whole.
//!
//! - Durations and intervals read as `4m 15s`, `1h 2m`, `3d 4h`, `250ms`, `1y 2mo 3d`
//!   (arrow's ISO text would be `PT255S`).
//! - Floats are rounded to 2 decimals, trailing zeros dropped (`254873.33`, `0.5`, `3`); a
//!   value under 0.01 keeps 3 significant digits (`1.23e-4`).
//! - A text or nested value (`tasks`, `state`, `settings`) longer than [`MAX_WIDTH`]
//!   characters is cut to that width, ending in `…`.
//!
//! Each such column becomes a text column (NULLs stay NULL, printed empty as before); the
//! others are left as they are. EXPLAIN's `plan` (the requests planned) and DESCRIBE's
//! `description` are shown whole: they are read for their full text.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch, StringArray, StringBuilder};
use datafusion::arrow::datatypes::{
    DataType, DurationMicrosecondType, DurationMillisecondType, DurationNanosecondType,
    DurationSecondType, Field, Float16Type, Float32Type, Float64Type, IntervalDayTimeType,
    IntervalMonthDayNanoType, IntervalUnit, IntervalYearMonthType, Schema, SchemaRef, TimeUnit,
};
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};

/// The widest a cell of `table` output is, in characters.
pub const MAX_WIDTH: usize = 60;

/// How a column is shown.
enum Shown {
    /// As it is.
    Same,
    /// Rewritten as text.
    Text,
}

fn shown(dt: &DataType) -> Shown {
    match dt {
        DataType::Duration(_)
        | DataType::Interval(_)
        | DataType::Float16
        | DataType::Float32
        | DataType::Float64
        | DataType::Utf8
        | DataType::LargeUtf8
        | DataType::Utf8View => Shown::Text,
        other if other.is_nested() => Shown::Text,
        _ => Shown::Same,
    }
}

/// The schema of the readable batches of `schema`'s results.
pub fn schema(schema: &SchemaRef) -> SchemaRef {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| match shown(f.data_type()) {
            Shown::Same => f.as_ref().clone(),
            Shown::Text => Field::new(f.name(), DataType::Utf8, true),
        })
        .collect();
    Arc::new(Schema::new(fields))
}

/// `batch` as `table` output shows it (of the schema [`schema`] gives).
pub fn batch(batch: &RecordBatch) -> Result<RecordBatch, ArrowError> {
    let schema = schema(&batch.schema());
    let whole = whole_column(&schema);
    let columns = batch
        .columns()
        .iter()
        .enumerate()
        .map(|(i, c)| column(c, whole == Some(i)))
        .collect::<Result<Vec<_>, _>>()?;
    RecordBatch::try_new(schema, columns)
}

/// The column whose text is not cut: EXPLAIN's `plan`, DESCRIBE's `description`.
fn whole_column(schema: &Schema) -> Option<usize> {
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    if names == ["plan_type", "plan"] {
        return Some(1);
    }
    let describe = [
        "column_name",
        "data_type",
        "is_nullable",
        "kind",
        "description",
    ];
    (names == describe).then_some(4)
}

fn column(array: &ArrayRef, whole: bool) -> Result<ArrayRef, ArrowError> {
    if matches!(shown(array.data_type()), Shown::Same) {
        return Ok(array.clone());
    }
    let texts: Vec<Option<String>> = match array.data_type() {
        DataType::Duration(unit) => durations(array, *unit),
        DataType::Interval(unit) => intervals(array, *unit),
        DataType::Float16 => array
            .as_primitive::<Float16Type>()
            .iter()
            .map(|v| v.map(|v| float(f64::from(v))))
            .collect(),
        DataType::Float32 => array
            .as_primitive::<Float32Type>()
            .iter()
            .map(|v| v.map(|v| float(f64::from(v))))
            .collect(),
        DataType::Float64 => array
            .as_primitive::<Float64Type>()
            .iter()
            .map(|v| v.map(float))
            .collect(),
        _ => {
            let formatter = ArrayFormatter::try_new(array.as_ref(), &FormatOptions::default())?;
            (0..array.len())
                .map(|i| {
                    (!array.is_null(i)).then(|| {
                        let text = formatter.value(i).to_string();
                        if whole {
                            text
                        } else {
                            cut(&text)
                        }
                    })
                })
                .collect()
        }
    };
    let mut builder = StringBuilder::with_capacity(texts.len(), texts.len() * 8);
    for t in texts {
        builder.append_option(t);
    }
    let out: StringArray = builder.finish();
    Ok(Arc::new(out))
}

/// `text`, cut to [`MAX_WIDTH`] characters (the last one `…`) when longer.
pub fn cut(text: &str) -> String {
    if text.chars().count() <= MAX_WIDTH {
        return text.to_string();
    }
    let mut out: String = text.chars().take(MAX_WIDTH - 1).collect();
    out.push('…');
    out
}

/// A float rounded to 2 decimals without trailing zeros; 3 significant digits under 0.01.
pub fn float(v: f64) -> String {
    if !v.is_finite() {
        return v.to_string();
    }
    if v != 0.0 && v.abs() < 0.01 {
        return format!("{v:.2e}");
    }
    let text = format!("{v:.2}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    match text {
        "-0" => "0".to_string(),
        t => t.to_string(),
    }
}

fn durations(array: &ArrayRef, unit: TimeUnit) -> Vec<Option<String>> {
    // Everything in nanoseconds (i128: a duration in seconds times 10^9 fits).
    let scaled = |v: Option<i64>, per: i128| v.map(|v| duration(i128::from(v) * per));
    match unit {
        TimeUnit::Second => array
            .as_primitive::<DurationSecondType>()
            .iter()
            .map(|v| scaled(v, 1_000_000_000))
            .collect(),
        TimeUnit::Millisecond => array
            .as_primitive::<DurationMillisecondType>()
            .iter()
            .map(|v| scaled(v, 1_000_000))
            .collect(),
        TimeUnit::Microsecond => array
            .as_primitive::<DurationMicrosecondType>()
            .iter()
            .map(|v| scaled(v, 1_000))
            .collect(),
        TimeUnit::Nanosecond => array
            .as_primitive::<DurationNanosecondType>()
            .iter()
            .map(|v| scaled(v, 1))
            .collect(),
    }
}

fn intervals(array: &ArrayRef, unit: IntervalUnit) -> Vec<Option<String>> {
    match unit {
        IntervalUnit::YearMonth => array
            .as_primitive::<IntervalYearMonthType>()
            .iter()
            .map(|v| v.map(|months| interval(months, 0, 0)))
            .collect(),
        IntervalUnit::DayTime => array
            .as_primitive::<IntervalDayTimeType>()
            .iter()
            .map(|v| v.map(|v| interval(0, v.days, i128::from(v.milliseconds) * 1_000_000)))
            .collect(),
        IntervalUnit::MonthDayNano => array
            .as_primitive::<IntervalMonthDayNanoType>()
            .iter()
            .map(|v| v.map(|v| interval(v.months, v.days, i128::from(v.nanoseconds))))
            .collect(),
    }
}

/// `1y 2mo 3d 4h 5m 6s`: the non-zero parts of an interval (`0s` when all are zero).
fn interval(months: i32, days: i32, nanos: i128) -> String {
    let mut parts = Vec::new();
    let (years, months) = (months / 12, months % 12);
    if years != 0 {
        parts.push(format!("{years}y"));
    }
    if months != 0 {
        parts.push(format!("{months}mo"));
    }
    if days != 0 {
        parts.push(format!("{days}d"));
    }
    if nanos != 0 || parts.is_empty() {
        parts.push(duration(nanos));
    }
    parts.join(" ")
}

/// A duration in nanoseconds as its non-zero parts: `3d 4h`, `4m 15s`, `1.5s`, `250ms`, `0s`.
pub fn duration(nanos: i128) -> String {
    const MS: i128 = 1_000_000;
    const S: i128 = 1_000 * MS;
    let sign = if nanos < 0 { "-" } else { "" };
    let n = nanos.abs();
    if n == 0 {
        return "0s".into();
    }
    if n < S {
        let ms = n as f64 / MS as f64;
        return format!("{sign}{}ms", float(ms));
    }
    if n < 60 * S {
        return format!("{sign}{}s", float(n as f64 / S as f64));
    }
    let secs = (n + S / 2) / S;
    let counts = [
        (secs / 86_400, "d"),
        (secs % 86_400 / 3_600, "h"),
        (secs % 3_600 / 60, "m"),
        (secs % 60, "s"),
    ];
    let parts: Vec<String> = counts
        .iter()
        .filter(|(count, _)| *count != 0)
        .map(|(count, name)| format!("{count}{name}"))
        .collect();
    format!("{sign}{}", parts.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_their_parts() {
        let s = 1_000_000_000_i128;
        assert_eq!(duration(255 * s), "4m 15s");
        assert_eq!(duration(3_600 * s), "1h");
        assert_eq!(duration((3 * 86_400 + 4 * 3_600 + 5) * s), "3d 4h 5s");
        assert_eq!(duration(250_000_000), "250ms");
        assert_eq!(duration(1_500_000_000), "1.5s");
        assert_eq!(duration(-90 * s), "-1m 30s");
        assert_eq!(duration(0), "0s");
        assert_eq!(interval(14, 3, 0), "1y 2mo 3d");
        assert_eq!(interval(0, 7, 0), "7d");
        assert_eq!(interval(0, 0, 0), "0s");
    }

    #[test]
    fn floats_are_rounded_and_cells_cut() {
        assert_eq!(float(254_873.333_333), "254873.33");
        assert_eq!(float(0.5), "0.5");
        assert_eq!(float(3.0), "3");
        assert_eq!(float(-0.001), "-1.00e-3");
        assert_eq!(float(f64::NAN), "NaN");
        let long = "x".repeat(100);
        let cut_text = cut(&long);
        assert_eq!(cut_text.chars().count(), MAX_WIDTH);
        assert!(cut_text.ends_with('…'));
        assert_eq!(cut("short"), "short");
    }
}
