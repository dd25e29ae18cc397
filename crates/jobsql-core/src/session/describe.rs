//! `DESCRIBE <table>` (and `DESCRIBE SELECT ...`) with what the spec says of each column.
//!
//! DataFusion's DESCRIBE answers `column_name`, `data_type` and `is_nullable`; jobsql adds
//! `kind` (`field`: read from the API's answer; `parameter`: a request parameter, set in WHERE,
//! that shows the value sent; `insert only`: set by INSERT) and `description` (the spec's),
//! both from the field metadata the API tables carry (see [`crate::provider::table`]). A column
//! of another table (a Parquet file) has NULL for both. `information_schema.columns` and
//! `SHOW COLUMNS` are DataFusion's, unchanged.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::error::Result;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::logical_expr::DescribeTable;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;

use crate::provider::table::{DESCRIPTION_KEY, KIND_KEY};

/// The schema of jobsql's DESCRIBE: DataFusion's three columns, then `kind` and `description`.
pub fn describe_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("column_name", DataType::Utf8, false),
        Field::new("data_type", DataType::Utf8, false),
        Field::new("is_nullable", DataType::Utf8, false),
        Field::new("kind", DataType::Utf8, true),
        Field::new("description", DataType::Utf8, true),
    ]))
}

/// The rows of `DESCRIBE`: one per column of the described table or query.
pub fn describe(plan: &DescribeTable) -> Result<(SchemaRef, SendableRecordBatchStream)> {
    let fields = plan.schema.fields();
    let text = |f: fn(&Field) -> Option<String>| -> ArrayRef {
        Arc::new(StringArray::from_iter(fields.iter().map(|x| f(x))))
    };
    let columns: Vec<ArrayRef> = vec![
        text(|f| Some(f.name().clone())),
        text(|f| Some(f.data_type().to_string())),
        text(|f| Some(if f.is_nullable() { "YES" } else { "NO" }.to_string())),
        text(|f| f.metadata().get(KIND_KEY).cloned()),
        text(|f| {
            f.metadata()
                .get(DESCRIPTION_KEY)
                .filter(|v| !v.is_empty())
                .cloned()
        }),
    ];
    let schema = describe_schema();
    let batch = RecordBatch::try_new(schema.clone(), columns)?;
    let stream = RecordBatchStreamAdapter::new(schema.clone(), futures::stream::iter([Ok(batch)]));
    Ok((schema, Box::pin(stream)))
}
