//! INSERT on the provider: `ApiTable::insert_into` plans DataFusion's `DataSinkExec` over an
//! [`InsertSink`], which calls the resource's `insert` method once per input row.
//!
//! DataFusion plans `INSERT INTO <table> (columns) VALUES ... | SELECT ...` itself (in the CLI,
//! the shell, `serve`'s simple and extended protocols, and any embedding `SessionContext`): it
//! resolves the named columns against the table's schema, casts the values to their types, and
//! hands `insert_into` an input plan with every column of the table (NULL where not named). So
//! a table whose resource has an `insert` method also has its columns ([`insert_fields`]):
//! `data__<field>` for each body field (StackQL's names; text, so jobsql types the value itself
//! and names column and row when it does not fit) and the server variable (the row's
//! workspace). They read as NULL.
//!
//! The sink consumes the input, any number of batches, and does what [`rows`] and [`report`]
//! describe: every row typed and checked before anything is sent, an idempotency token per row,
//! [`super::send::send_mutation`] for each (so a dry run records instead of sending), at most
//! `max_concurrency` at a time, and a row-by-row report when some fail. Its result is
//! DataFusion's `count` row. `INSERT ... RETURNING` is the statements layer's (above this one):
//! it runs the same plan and reads [`InsertSink::created`].

pub mod report;
pub mod rows;

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use datafusion::arrow::datatypes::{DataType, Field, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::datasource::sink::DataSink;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_plan::{DisplayAs, DisplayFormatType};
use futures::TryStreamExt;

use crate::spec::{MethodSpec, Resource};

use super::{ApiRuntime, ProviderError};

pub use rows::{column_name, valid_columns};

/// Why an INSERT was refused, or what it did when some rows failed.
#[derive(Debug, thiserror::Error)]
pub enum InsertError {
    /// The resource has no `insert` method.
    #[error("INSERT is not supported by {table}{hint}")]
    NotSupported {
        /// The table.
        table: String,
        /// What is possible instead (its EXEC methods).
        hint: String,
    },
    /// A column that is not one of the insert method's.
    #[error("INSERT INTO {table}: unknown column `{name}` (valid: {valid})")]
    UnknownColumn {
        /// The table.
        table: String,
        /// The column named.
        name: String,
        /// The columns an INSERT may name.
        valid: String,
    },
    /// A row without a required parameter.
    #[error("INSERT INTO {table}: missing required parameter `{name}` (row {row})")]
    MissingParameter {
        /// The table.
        table: String,
        /// The column, as the user writes it (`data__tasks`).
        name: String,
        /// The row, from 1.
        row: usize,
    },
    /// A statement or value that does not fit (naming the column and row).
    #[error("INSERT {table}: {message}")]
    InvalidValue {
        /// The table.
        table: String,
        /// What is wrong.
        message: String,
    },
    /// More rows than the write guard allows (`--max-writes`): nothing was sent.
    #[error(
        "INSERT INTO {table} would create {count} rows, more than --max-writes {max}: refused, \
         nothing was sent. To go ahead, insert fewer rows or raise --max-writes to at least {count}"
    )]
    TooManyRows {
        /// The table.
        table: String,
        /// The rows the statement's source gave.
        count: usize,
        /// The guard.
        max: usize,
    },
    /// Some rows failed, every outcome known: the report says which were created.
    #[error("{0}")]
    Partial(String),
    /// Some rows may have been created without their answer arriving: the report says which
    /// succeeded, which failed and how to check the unknown ones.
    #[error("{0}")]
    Unknown(String),
}

impl InsertError {
    /// Whether some row may have been created although its request failed (exit code 3).
    pub fn outcome_unknown(&self) -> bool {
        matches!(self, InsertError::Unknown(_))
    }
}

impl From<InsertError> for DataFusionError {
    fn from(e: InsertError) -> Self {
        ProviderError::Insert(e).into()
    }
}

/// The resource's insert method, or why there is none.
pub fn insert_method(resource: &Resource) -> Result<&MethodSpec, InsertError> {
    resource
        .spec
        .insert
        .as_ref()
        .and_then(|i| resource.spec.methods.get(&i.method))
        .ok_or_else(|| InsertError::NotSupported {
            table: resource.qualified_name(),
            hint: if resource.spec.exec.is_empty() {
                String::new()
            } else {
                format!(" (EXEC methods: {})", resource.spec.exec.join(", "))
            },
        })
}

/// The columns an INSERT names that are not read columns of `resource`: one per parameter of
/// its insert method (`data__<field>` for body fields), and the server variable if it is not a
/// column already. Text, nullable, described as INSERT-only; none without an insert method.
pub fn insert_fields(resource: &Resource) -> Vec<Field> {
    let Ok(method) = insert_method(resource) else {
        return Vec::new();
    };
    let variable = &resource.server.variable;
    let mut names: Vec<(String, String)> = vec![(
        variable.clone(),
        "The workspace a row is inserted into.".to_string(),
    )];
    for (name, spec) in &method.params {
        let mut text = format!("INSERT only: parameter `{name}` of the insert call");
        if !spec.description.is_empty() {
            text = format!("{text}. {}", spec.description);
        }
        names.push((column_name(name, spec), text));
    }
    names
        .into_iter()
        .filter(|(name, _)| resource.column_index(name).is_none())
        .map(|(name, description)| {
            let metadata = HashMap::from([
                (super::table::DESCRIPTION_KEY.to_string(), description),
                (
                    super::table::KIND_KEY.to_string(),
                    super::table::KIND_INSERT.to_string(),
                ),
            ]);
            Field::new(name, DataType::Utf8, true).with_metadata(metadata)
        })
        .collect()
}

/// A row the sink created: its workspace and the response (for `RETURNING`).
#[derive(Debug, Clone)]
pub struct Created {
    /// The server variable's value (the workspace), if the row set it.
    pub workspace: Option<String>,
    /// The response body.
    pub body: Vec<u8>,
}

/// The `DataSink` of an INSERT into an API table: one call of the insert method per row.
#[derive(Debug)]
pub struct InsertSink {
    resource: Arc<Resource>,
    runtime: Arc<ApiRuntime>,
    schema: SchemaRef,
    created: Mutex<Vec<Created>>,
}

impl InsertSink {
    /// The sink inserting rows of `schema` (the table's) into `resource`; refused when the
    /// resource has no insert method.
    pub fn new(
        resource: Arc<Resource>,
        runtime: Arc<ApiRuntime>,
        schema: SchemaRef,
    ) -> Result<Self, InsertError> {
        insert_method(&resource)?;
        Ok(Self {
            resource,
            runtime,
            schema,
            created: Mutex::new(Vec::new()),
        })
    }

    /// The resource inserted into.
    pub fn resource(&self) -> &Arc<Resource> {
        &self.resource
    }

    /// The rows the last run created, in row order (none in a dry run).
    pub fn created(&self) -> Vec<Created> {
        self.created.lock().map(|c| c.clone()).unwrap_or_default()
    }
}

impl DisplayAs for InsertSink {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        match insert_method(&self.resource) {
            Ok(m) => write!(
                f,
                "InsertSink: {} {} per row into {}",
                m.verb.as_str(),
                m.path,
                self.resource.qualified_name()
            ),
            Err(e) => write!(f, "InsertSink: {e}"),
        }
    }
}

/// The INSERT's rows, refused before anything is sent when they are more than the runtime's
/// [`max_writes`](ApiRuntime::max_writes). Past the guard the rows are only counted, not kept
/// (the message gives the exact count, memory stays at the guard's rows).
async fn guarded_rows(
    resource: &Resource,
    runtime: &ApiRuntime,
    mut data: SendableRecordBatchStream,
) -> Result<Vec<RecordBatch>> {
    let max = runtime.max_writes;
    let (mut kept, mut count) = (Vec::new(), 0usize);
    while let Some(batch) = data.try_next().await? {
        count += batch.num_rows();
        if count <= max {
            kept.push(batch);
        } else {
            kept.clear();
        }
    }
    if count > max {
        return Err(InsertError::TooManyRows {
            table: resource.qualified_name(),
            count,
            max,
        }
        .into());
    }
    Ok(kept)
}

#[async_trait]
impl DataSink for InsertSink {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    async fn write_all(
        &self,
        data: SendableRecordBatchStream,
        _context: &Arc<TaskContext>,
    ) -> Result<u64> {
        let method = insert_method(&self.resource)?;
        let batches = guarded_rows(&self.resource, &self.runtime, data).await?;
        let rows = rows::rows(&self.resource, method, &batches)?;
        rows::distinct_tokens(&self.resource.qualified_name(), method, &rows)?;
        let outcomes = rows::send_rows(&self.runtime, &self.resource, method, &rows).await;
        let created: Vec<Created> = rows
            .iter()
            .zip(&outcomes)
            .filter_map(|(row, outcome)| match outcome {
                Ok(Some(body)) => Some(Created {
                    workspace: row.workspace.clone(),
                    body: body.clone(),
                }),
                _ => None,
            })
            .collect();
        if let Ok(mut c) = self.created.lock() {
            *c = created;
        }
        let inputs: Vec<report::RowInput<'_>> = rows
            .iter()
            .map(|r| report::RowInput {
                workspace: r.workspace.as_deref(),
                values: &r.values,
            })
            .collect();
        report::insert_report(&self.resource, method, &inputs, &outcomes)?;
        Ok(rows.len() as u64)
    }
}
