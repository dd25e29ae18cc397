//! Printing query results: one [`OutputFormat`] enum and a [`Printer`] that writes a result
//! batch by batch to any `Write` (stdout in the CLI, a buffer in tests); [`print_batches`] for
//! a result already in memory. [`run`] is the one "run a statement and print it" path of
//! `jobsql query` and the shell.
//!
//! Streaming: `csv`, `json` and `ndjson` write and flush each batch as it arrives and keep
//! nothing; `table` keeps the result's batches (Arrow, not text) until its end, since it
//! aligns its columns over every row.
//!
//! * `table` — arrow's pretty table, of values made readable ([`readable`]: durations as
//!   `4m 15s`, floats rounded, cells cut at 60 characters with `…`); the header is printed even
//!   when there are no rows, and `OK` for a statement without a result (DDL, `SET`). Control characters in values (ESC,
//!   CR, BEL, ...; not `\n`, `\t`) are written as escapes
//!   ([`crate::redact::escape_controls`]): a run name cannot recolour or clear the terminal.
//! * `json` — ONE JSON array of objects (`[]` for no rows); structs and lists stay nested; nulls
//!   are explicit `null`s.
//! * `ndjson` — one JSON object per line (nothing for no rows).
//! * `csv` — a header line, then the rows; struct, list and map values (which CSV cannot hold)
//!   are written as JSON text.
//!
//! In every format a timestamp prints as RFC 3339 in UTC (`2026-11-24T08:00:00Z`, fractions only
//! when present), nested timestamps included; a timestamp without a time zone is taken as UTC.

pub mod readable;
pub mod run;

use std::io::Write;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, StringBuilder};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Schema, SchemaRef};
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::json::writer::{make_encoder, EncoderOptions, JsonArray, LineDelimited};
use datafusion::arrow::json::WriterBuilder;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::arrow::util::pretty::pretty_format_batches_with_schema;

use crate::redact::escape_controls;

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutputFormat {
    /// An aligned text table.
    #[default]
    Table,
    /// One JSON array of objects.
    Json,
    /// One JSON object per line.
    Ndjson,
    /// Comma-separated values with a header line.
    Csv,
}

impl OutputFormat {
    /// Every format, in the order `--help` lists them.
    pub const ALL: [OutputFormat; 4] = [Self::Table, Self::Json, Self::Ndjson, Self::Csv];

    /// Its name on the command line (`--format json`, the shell's `\format json`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Table => "table",
            Self::Json => "json",
            Self::Ndjson => "ndjson",
            Self::Csv => "csv",
        }
    }

    /// What it prints, in a few words.
    pub fn about(self) -> &'static str {
        match self {
            Self::Table => "An aligned text table",
            Self::Json => "One JSON array of objects",
            Self::Ndjson => "One JSON object per line",
            Self::Csv => "Comma-separated values with a header line",
        }
    }
}

impl std::str::FromStr for OutputFormat {
    type Err = String;

    /// A format by its [`name`](Self::name), in any case.
    fn from_str(text: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(text))
            .ok_or_else(|| format!("no output format {text:?}: table, json, ndjson or csv"))
    }
}

/// Why results could not be printed.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// A value could not be formatted.
    #[error("cannot format the results: {0}")]
    Format(#[from] ArrowError),
    /// Writing failed (e.g. a closed pipe).
    #[error("cannot write the results: {0}")]
    Io(#[from] std::io::Error),
}

/// Print `batches` (whose schema is `schema`, also used when there are none) in `format`.
pub fn print_batches<W: Write>(
    format: OutputFormat,
    schema: &SchemaRef,
    batches: &[RecordBatch],
    out: &mut W,
) -> Result<(), OutputError> {
    let mut printer = Printer::new(format, schema, out);
    for batch in batches {
        printer.write(batch)?;
    }
    printer.finish()
}

/// Prints a result batch by batch as it arrives: every format but `table` (which aligns its
/// columns over all rows) writes each batch at once and keeps nothing.
pub struct Printer<'a, W: Write> {
    schema: SchemaRef,
    sink: Sink<'a, W>,
}

enum Sink<'a, W: Write> {
    Table(&'a mut W, Vec<RecordBatch>),
    Json(datafusion::arrow::json::Writer<&'a mut W, JsonArray>),
    Ndjson(datafusion::arrow::json::Writer<&'a mut W, LineDelimited>),
    Csv(Box<datafusion::arrow::csv::Writer<&'a mut W>>, bool),
}

impl<'a, W: Write> Printer<'a, W> {
    /// A printer of results of `schema` in `format` to `out`.
    pub fn new(format: OutputFormat, schema: &SchemaRef, out: &'a mut W) -> Self {
        let sink = match format {
            OutputFormat::Table => Sink::Table(out, Vec::new()),
            OutputFormat::Json => Sink::Json(
                WriterBuilder::new()
                    .with_explicit_nulls(true)
                    .build::<_, JsonArray>(out),
            ),
            OutputFormat::Ndjson => Sink::Ndjson(
                WriterBuilder::new()
                    .with_explicit_nulls(true)
                    .build::<_, LineDelimited>(out),
            ),
            OutputFormat::Csv => Sink::Csv(
                Box::new(
                    datafusion::arrow::csv::WriterBuilder::new()
                        .with_header(true)
                        .build(out),
                ),
                false,
            ),
        };
        Printer {
            schema: utc_schema(schema),
            sink,
        }
    }

    /// Print one batch and flush it (`table` keeps it until [`Printer::finish`]).
    pub fn write(&mut self, batch: &RecordBatch) -> Result<(), OutputError> {
        let batch = utc_batch(batch)?;
        match &mut self.sink {
            Sink::Table(_, batches) => batches.push(batch),
            // Each batch reaches the reader at once (arrow's CSV writer flushes by itself).
            Sink::Json(w) => {
                w.write(&batch)?;
                w.get_mut().flush()?;
            }
            Sink::Ndjson(w) => {
                w.write(&batch)?;
                w.get_mut().flush()?;
            }
            Sink::Csv(w, wrote) => {
                w.write(&csv_batch(&batch)?)?;
                *wrote = true;
            }
        }
        Ok(())
    }

    /// Finish the result (the closing `]`, a CSV header for no rows, the table).
    pub fn finish(self) -> Result<(), OutputError> {
        match self.sink {
            // A statement without a result (CREATE, DROP, SET): no empty `++` grid.
            Sink::Table(out, _) if self.schema.fields().is_empty() => writeln!(out, "OK")?,
            Sink::Table(out, batches) => {
                let batches = batches
                    .iter()
                    .map(readable::batch)
                    .collect::<Result<Vec<_>, _>>()?;
                let schema = readable::schema(&self.schema);
                let table = pretty_format_batches_with_schema(schema, &batches)?;
                // A table is for a terminal: values from the API cannot send it escape codes.
                writeln!(out, "{}", escape_controls(&table.to_string()))?;
            }
            Sink::Json(mut w) => {
                w.finish()?;
                writeln!(w.into_inner())?;
            }
            Sink::Ndjson(mut w) => w.finish()?,
            Sink::Csv(mut w, wrote) => {
                if !wrote {
                    w.write(&csv_batch(&RecordBatch::new_empty(self.schema))?)?;
                }
            }
        }
        Ok(())
    }
}

/// `dt` with every timestamp (nested ones too) in UTC.
fn utc_type(dt: &DataType) -> DataType {
    let field = |f: &FieldRef| -> FieldRef {
        Arc::new(f.as_ref().clone().with_data_type(utc_type(f.data_type())))
    };
    match dt {
        DataType::Timestamp(unit, _) => DataType::Timestamp(*unit, Some("UTC".into())),
        DataType::List(f) => DataType::List(field(f)),
        DataType::LargeList(f) => DataType::LargeList(field(f)),
        DataType::FixedSizeList(f, n) => DataType::FixedSizeList(field(f), *n),
        DataType::Struct(fields) => DataType::Struct(fields.iter().map(field).collect()),
        DataType::Map(f, sorted) => DataType::Map(field(f), *sorted),
        other => other.clone(),
    }
}

fn utc_schema(schema: &SchemaRef) -> SchemaRef {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| f.as_ref().clone().with_data_type(utc_type(f.data_type())))
        .collect();
    Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()))
}

/// The batch with its timestamps in UTC (a column arrow cannot cast is left as it is).
fn utc_batch(batch: &RecordBatch) -> Result<RecordBatch, ArrowError> {
    let mut fields = Vec::with_capacity(batch.num_columns());
    let mut columns = Vec::with_capacity(batch.num_columns());
    for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
        let target = utc_type(field.data_type());
        let column = if &target == field.data_type() {
            column.clone()
        } else {
            cast(column, &target).unwrap_or_else(|_| column.clone())
        };
        fields.push(
            field
                .as_ref()
                .clone()
                .with_data_type(column.data_type().clone()),
        );
        columns.push(column);
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
}

/// The batch with nested columns replaced by their values as JSON text.
fn csv_batch(batch: &RecordBatch) -> Result<RecordBatch, ArrowError> {
    if !batch.columns().iter().any(|c| c.data_type().is_nested()) {
        return Ok(batch.clone());
    }
    let mut fields = Vec::with_capacity(batch.num_columns());
    let mut columns = Vec::with_capacity(batch.num_columns());
    for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
        if column.data_type().is_nested() {
            fields.push(Field::new(field.name(), DataType::Utf8, true));
            columns.push(json_text(field, column)?);
        } else {
            fields.push(field.as_ref().clone());
            columns.push(column.clone());
        }
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
}

/// Each value of `column` as JSON text (arrow's display text for types JSON cannot hold).
pub fn json_text(field: &FieldRef, column: &ArrayRef) -> Result<ArrayRef, ArrowError> {
    let mut builder = StringBuilder::with_capacity(column.len(), column.len() * 16);
    let options = EncoderOptions::default().with_explicit_nulls(true);
    match make_encoder(field, column.as_ref(), &options) {
        Ok(mut encoder) => {
            let mut buf = Vec::new();
            for i in 0..column.len() {
                if encoder.is_null(i) {
                    builder.append_null();
                    continue;
                }
                buf.clear();
                encoder.encode(i, &mut buf);
                builder.append_value(String::from_utf8_lossy(&buf));
            }
        }
        Err(_) => {
            let formatter = ArrayFormatter::try_new(column.as_ref(), &FormatOptions::default())?;
            for i in 0..column.len() {
                if column.is_null(i) {
                    builder.append_null();
                } else {
                    builder.append_value(formatter.value(i).to_string());
                }
            }
        }
    }
    Ok(Arc::new(builder.finish()))
}
