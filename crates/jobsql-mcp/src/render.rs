//! Results as an MCP tool answers them: text an LLM reads (a one-line summary, then one JSON
//! object per row) and the same as structured content (`columns`, `rows`, `row_count`,
//! `truncated`, `max_rows`).
//!
//! Rows are written by the CLI's own JSON printer ([`jobsql_core::output::print_batches`]): the same
//! values `jobsql query --format json` prints (timestamps RFC 3339 in UTC, structs and lists
//! nested, nulls explicit), whole — not cut to a terminal's width.

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use serde_json::{json, Map, Value};

use jobsql_core::output::{print_batches, OutputError, OutputFormat};

/// The rows of one statement, cut at the cap when there were more.
pub struct Rows {
    /// The result's schema.
    pub schema: SchemaRef,
    /// The rows kept (at most `max_rows`).
    pub batches: Vec<RecordBatch>,
    /// Rows kept.
    pub count: usize,
    /// True when the statement had more rows than the cap (reading stopped there).
    pub truncated: bool,
    /// The cap.
    pub max_rows: usize,
}

/// The rows as JSON objects, one per row.
pub fn json_rows(schema: &SchemaRef, batches: &[RecordBatch]) -> Result<Vec<Value>, OutputError> {
    let mut out = Vec::new();
    print_batches(OutputFormat::Json, schema, batches, &mut out)?;
    match serde_json::from_slice::<Value>(&out) {
        Ok(Value::Array(rows)) => Ok(rows),
        Ok(_) => Ok(Vec::new()),
        Err(e) => Err(OutputError::Io(std::io::Error::other(e))),
    }
}

/// The summary line: how many rows, and the cap when it was hit.
pub fn summary(rows: &Rows) -> String {
    if rows.truncated {
        format!(
            "showing {shown} of ≥{more} rows (the server's cap, --max-rows {shown}); add LIMIT, \
             a narrower WHERE or an aggregate to see the others",
            shown = rows.max_rows,
            more = rows.max_rows + 1
        )
    } else if rows.schema.fields().is_empty() {
        "OK".to_string()
    } else {
        match rows.count {
            1 => "1 row".to_string(),
            n => format!("{n} rows"),
        }
    }
}

/// The text and structured answers of `rows`.
pub fn answer(rows: &Rows) -> Result<(String, Value), OutputError> {
    let objects = json_rows(&rows.schema, &rows.batches)?;
    let columns: Vec<Value> = rows
        .schema
        .fields()
        .iter()
        .map(|f| json!({"name": f.name(), "type": f.data_type().to_string()}))
        .collect();
    let mut text = summary(rows);
    if !objects.is_empty() {
        let names: Vec<&str> = rows
            .schema
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect();
        text.push_str(&format!("; columns: {}\n", names.join(", ")));
        for row in &objects {
            text.push_str(&row.to_string());
            text.push('\n');
        }
    }
    let mut structured = Map::new();
    structured.insert("columns".into(), Value::Array(columns));
    structured.insert("rows".into(), Value::Array(objects));
    structured.insert("row_count".into(), json!(rows.count));
    structured.insert("truncated".into(), json!(rows.truncated));
    structured.insert("max_rows".into(), json!(rows.max_rows));
    Ok((text, Value::Object(structured)))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{Int64Array, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};

    use super::*;

    fn rows(n: i64, truncated: bool, max_rows: usize) -> Rows {
        let schema: SchemaRef = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("name", DataType::Utf8, true),
        ]));
        let ids = Int64Array::from_iter_values(0..n);
        let names = StringArray::from_iter((0..n).map(|i| (i % 2 == 0).then(|| format!("r{i}"))));
        let batch =
            RecordBatch::try_new(schema.clone(), vec![Arc::new(ids), Arc::new(names)]).unwrap();
        Rows {
            schema,
            batches: vec![batch],
            count: n as usize,
            truncated,
            max_rows,
        }
    }

    #[test]
    fn rows_are_json_lines_after_a_summary() {
        let (text, structured) = answer(&rows(2, false, 10)).unwrap();
        assert_eq!(
            text,
            "2 rows; columns: id, name\n{\"id\":0,\"name\":\"r0\"}\n{\"id\":1,\"name\":null}\n"
        );
        assert_eq!(structured["row_count"], 2);
        assert_eq!(structured["truncated"], false);
        assert_eq!(structured["rows"][1]["name"], Value::Null);
        assert_eq!(structured["columns"][0]["type"], "Int64");
    }

    #[test]
    fn the_cap_is_stated_when_hit() {
        let (text, structured) = answer(&rows(3, true, 3)).unwrap();
        assert!(
            text.starts_with("showing 3 of ≥4 rows (the server's cap, --max-rows 3); add LIMIT"),
            "{text}"
        );
        assert_eq!(structured["truncated"], true);
        assert_eq!(structured["max_rows"], 3);
    }
}
