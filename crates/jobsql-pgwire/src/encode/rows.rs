//! Result rows: a schema's row description and a batch's rows, each value encoded by its
//! column ([`super::columns`]) in the format the client asked for.

use std::sync::Arc;

use datafusion::arrow::datatypes::Schema;
use datafusion::arrow::record_batch::RecordBatch;
use pgwire::api::portal::Format;
use pgwire::api::results::{DataRowEncoder, FieldInfo};
use pgwire::error::PgWireResult;
use pgwire::messages::data::DataRow;

use crate::encode::columns::{encode_value, prepare};
use crate::encode::types::pg_type;

/// The row description of `schema`, in the formats the client asked for.
pub fn fields(schema: &Schema, format: &Format) -> Vec<FieldInfo> {
    schema
        .fields()
        .iter()
        .enumerate()
        .map(|(i, f)| {
            FieldInfo::new(
                f.name().clone(),
                None,
                None,
                pg_type(f.data_type()),
                format.format_for(i),
            )
        })
        .collect()
}

/// The rows of `batch` as data rows described by `fields` (from [`fields`] of its schema).
pub fn encode_batch(
    batch: &RecordBatch,
    fields: &Arc<Vec<FieldInfo>>,
) -> PgWireResult<Vec<DataRow>> {
    let columns = batch
        .schema()
        .fields()
        .iter()
        .zip(batch.columns())
        .map(|(f, a)| prepare(f.data_type(), a))
        .collect::<PgWireResult<Vec<_>>>()?;
    let mut rows = Vec::with_capacity(batch.num_rows());
    for row in 0..batch.num_rows() {
        let mut encoder = DataRowEncoder::new(fields.clone());
        for (column, field) in columns.iter().zip(fields.iter()) {
            let (ty, format) = (field.datatype(), field.format());
            encode_value(
                &mut encoder,
                column,
                ty,
                format,
                field.format_options(),
                row,
            )?;
        }
        rows.push(encoder.take_row());
    }
    Ok(rows)
}
