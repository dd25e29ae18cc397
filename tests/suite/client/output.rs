//! Output formats for a small batch with a nested struct, a list of structs, timestamps (with and
//! without a time zone) and nulls — and for zero rows.

use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, Int64Array, Int64Builder, ListBuilder, StringArray, StringBuilder, StructArray,
    StructBuilder, TimestampMillisecondArray, TimestampMillisecondBuilder,
};
use datafusion::arrow::buffer::NullBuffer;
use datafusion::arrow::datatypes::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};
use datafusion::arrow::record_batch::RecordBatch;
use jobsql_core::output::{print_batches, OutputFormat};
use serde_json::{json, Value};

/// 1700000000000 ms = 2023-11-14T22:13:20Z.
const T0: i64 = 1_700_000_000_000;

/// `[{task_key: ingest, start: T0 + 1.5 s (no time zone)}]`, then an empty list.
fn tasks(fields: Fields) -> ArrayRef {
    let mut tasks = ListBuilder::new(StructBuilder::new(
        fields,
        vec![
            Box::new(StringBuilder::new()),
            Box::new(TimestampMillisecondBuilder::new()),
        ],
    ));
    let t = tasks.values();
    t.field_builder::<StringBuilder>(0)
        .expect("key")
        .append_value("ingest");
    t.field_builder::<TimestampMillisecondBuilder>(1)
        .expect("start")
        .append_value(T0 + 1_500);
    t.append(true);
    tasks.append(true);
    tasks.append(true);
    Arc::new(tasks.finish())
}

fn sample() -> (SchemaRef, RecordBatch) {
    let state_fields = Fields::from(vec![
        Field::new("life_cycle_state", DataType::Utf8, true),
        Field::new("code", DataType::Int64, true),
    ]);
    let state = StructArray::new(
        state_fields.clone(),
        vec![
            Arc::new(StringArray::from(vec![Some("TERMINATED"), None])) as ArrayRef,
            Arc::new(Int64Array::from(vec![Some(0), None])),
        ],
        Some(NullBuffer::from(vec![true, false])),
    );
    let task_fields = Fields::from(vec![
        Field::new("task_key", DataType::Utf8, true),
        Field::new(
            "start",
            DataType::Timestamp(TimeUnit::Millisecond, None),
            true,
        ),
    ]);
    let tasks = tasks(task_fields);
    let mut ids = Int64Builder::new();
    ids.append_value(1);
    ids.append_value(2);
    let schema = Arc::new(Schema::new(vec![
        Field::new("run_id", DataType::Int64, false),
        Field::new("run_name", DataType::Utf8, true),
        Field::new(
            "start_time",
            DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
            true,
        ),
        Field::new("state", DataType::Struct(state_fields), true),
        Field::new("tasks", tasks.data_type().clone(), true),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(ids.finish()),
            Arc::new(StringArray::from(vec![Some("nightly, \"full\""), None])),
            Arc::new(TimestampMillisecondArray::from(vec![Some(T0), None]).with_timezone("UTC")),
            Arc::new(state),
            tasks,
        ],
    )
    .expect("batch");
    (schema, batch)
}

fn print(format: OutputFormat, schema: &SchemaRef, batches: &[RecordBatch]) -> String {
    let mut out = Vec::new();
    print_batches(format, schema, batches, &mut out).expect("prints");
    String::from_utf8(out).expect("utf-8")
}

#[test]
fn json_is_one_array_with_nested_values_explicit_nulls_and_utc_timestamps() {
    let (schema, batch) = sample();
    // Two batches still make one array.
    let text = print(
        OutputFormat::Json,
        &schema,
        &[batch.slice(0, 1), batch.slice(1, 1)],
    );
    let rows: Value = serde_json::from_str(&text).expect("one JSON document");
    assert_eq!(
        rows,
        json!([
            {
                "run_id": 1,
                "run_name": "nightly, \"full\"",
                "start_time": "2023-11-14T22:13:20Z",
                "state": {"life_cycle_state": "TERMINATED", "code": 0},
                "tasks": [{"task_key": "ingest", "start": "2023-11-14T22:13:21.500Z"}]
            },
            {"run_id": 2, "run_name": null, "start_time": null, "state": null, "tasks": []}
        ])
    );
    assert_eq!(print(OutputFormat::Json, &schema, &[]), "[]\n");
    assert_eq!(
        print(
            OutputFormat::Json,
            &schema,
            &[RecordBatch::new_empty(schema.clone())]
        ),
        "[]\n"
    );
}

#[test]
fn ndjson_is_one_object_per_line() {
    let (schema, batch) = sample();
    let text = print(OutputFormat::Ndjson, &schema, &[batch]);
    let rows: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["state"]["life_cycle_state"], "TERMINATED");
    assert_eq!(rows[0]["start_time"], "2023-11-14T22:13:20Z");
    assert_eq!(rows[1]["run_name"], Value::Null);
    assert_eq!(print(OutputFormat::Ndjson, &schema, &[]), "");
}

#[test]
fn csv_has_a_header_and_nested_values_as_json_text() {
    let (schema, batch) = sample();
    let text = print(OutputFormat::Csv, &schema, &[batch]);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines,
        [
            "run_id,run_name,start_time,state,tasks",
            r#"1,"nightly, ""full""",2023-11-14T22:13:20Z,"{""life_cycle_state"":""TERMINATED"",""code"":0}","[{""task_key"":""ingest"",""start"":""2023-11-14T22:13:21.500Z""}]""#,
            "2,,,,[]",
        ]
    );
    assert_eq!(
        print(OutputFormat::Csv, &schema, &[]),
        "run_id,run_name,start_time,state,tasks\n"
    );
}

#[test]
fn table_has_a_header_even_without_rows() {
    let (schema, batch) = sample();
    let text = print(OutputFormat::Table, &schema, &[batch]);
    assert!(text.contains("| run_id | run_name"), "{text}");
    assert!(text.contains("2023-11-14T22:13:20Z"), "{text}");
    assert!(text.contains("TERMINATED"), "{text}");
    let empty = print(OutputFormat::Table, &schema, &[]);
    assert!(empty.contains("| run_id | run_name"), "{empty}");
    assert_eq!(empty.lines().count(), 4, "{empty}");
}

#[test]
fn naive_timestamps_print_as_utc() {
    let schema = Arc::new(Schema::new(vec![Field::new(
        "t",
        DataType::Timestamp(TimeUnit::Millisecond, None),
        true,
    )]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![Arc::new(TimestampMillisecondArray::from(vec![T0]))],
    )
    .expect("batch");
    assert_eq!(
        print(OutputFormat::Ndjson, &schema, std::slice::from_ref(&batch)),
        "{\"t\":\"2023-11-14T22:13:20Z\"}\n"
    );
    assert_eq!(
        print(OutputFormat::Csv, &schema, &[batch]),
        "t\n2023-11-14T22:13:20Z\n"
    );
}

#[test]
fn computed_types_print_in_every_format() {
    use datafusion::arrow::array::{
        BooleanArray, Date32Array, Decimal128Array, DurationMillisecondArray,
        IntervalMonthDayNanoArray, StringViewArray,
    };
    use datafusion::arrow::datatypes::IntervalMonthDayNano;
    let columns: Vec<(&str, ArrayRef)> = vec![
        ("ok", Arc::new(BooleanArray::from(vec![Some(true), None]))),
        ("d", Arc::new(Date32Array::from(vec![19_675, 0]))),
        (
            "rate",
            Arc::new(
                Decimal128Array::from(vec![1234, -5])
                    .with_precision_and_scale(10, 2)
                    .expect("decimal"),
            ),
        ),
        (
            "took",
            Arc::new(DurationMillisecondArray::from(vec![90_000, 1])),
        ),
        (
            "age",
            Arc::new(IntervalMonthDayNanoArray::from(vec![
                IntervalMonthDayNano::new(0, 7, 0),
                IntervalMonthDayNano::ZERO,
            ])),
        ),
        ("v", Arc::new(StringViewArray::from(vec!["a", "b"]))),
    ];
    let batch = RecordBatch::try_from_iter(columns).expect("batch");
    let schema = batch.schema();
    for format in [
        OutputFormat::Table,
        OutputFormat::Json,
        OutputFormat::Ndjson,
        OutputFormat::Csv,
    ] {
        let text = print(format, &schema, std::slice::from_ref(&batch));
        assert!(
            text.contains("12.34") && text.contains("2023-11-14"),
            "{format:?}: {text}"
        );
    }
    let rows: Value =
        serde_json::from_str(&print(OutputFormat::Json, &schema, &[batch])).expect("json");
    assert_eq!(rows[0]["rate"], json!(12.34));
    assert_eq!(rows[1]["ok"], Value::Null);
}

#[test]
fn table_values_cannot_send_terminal_escape_codes() {
    let schema: SchemaRef = Arc::new(Schema::new(vec![Field::new(
        "run_name",
        DataType::Utf8,
        true,
    )]));
    let names: ArrayRef = Arc::new(StringArray::from(vec!["\u{1b}[2Jgone\u{7}\r"]));
    let batch = RecordBatch::try_new(schema.clone(), vec![names]).expect("batch");
    let table = print(OutputFormat::Table, &schema, std::slice::from_ref(&batch));
    assert!(table.contains(r"| \x1b[2Jgone\x07\x0d"), "{table}");
    assert!(
        !table.contains('\u{1b}') && !table.contains('\r'),
        "{table:?}"
    );
    // JSON keeps the value (escaped by JSON itself).
    let json = print(OutputFormat::Json, &schema, &[batch]);
    assert_eq!(json.trim(), r#"[{"run_name":"\u001b[2Jgone\u0007\r"}]"#);
}
