//! Why an UPDATE or REPLACE was refused, or which of its rows failed.

use crate::provider::write_rows::Everything;

/// Errors of UPDATE and REPLACE (`statement` is the word the user wrote).
#[derive(Debug, thiserror::Error)]
pub enum UpdateError {
    /// The resource has no method for the statement.
    #[error("{statement} is not supported by {table}")]
    NotSupported {
        /// UPDATE or REPLACE.
        statement: &'static str,
        /// The table.
        table: String,
    },
    /// REPLACE of a table that is not an API table.
    #[error("REPLACE {table}: REPLACE sets API objects whole; {table} is not an API table")]
    NotApiTable {
        /// The name as written.
        table: String,
    },
    /// A form of UPDATE jobsql does not send (`UPDATE ... FROM`, a join, RETURNING, ...).
    #[error("{statement} {table}: {form} is not supported{hint}")]
    Form {
        /// UPDATE or REPLACE.
        statement: &'static str,
        /// The table.
        table: String,
        /// The form.
        form: &'static str,
        /// What to write instead.
        hint: &'static str,
    },
    /// A WHERE that selects every row.
    #[error("{statement} {table} {}: refused. Name the rows, e.g. WHERE {example}", filter.wording(verb))]
    Everything {
        /// UPDATE or REPLACE.
        statement: &'static str,
        /// `update` or `replace`.
        verb: &'static str,
        /// The table.
        table: String,
        /// An example predicate.
        example: String,
        /// What the WHERE was.
        filter: Everything,
    },
    /// A LIMIT without ORDER BY in the statement's query.
    #[error("{statement} {table}: a LIMIT without ORDER BY keeps whichever rows come first, so a dry run, or the same SELECT, would not show the rows changed: refused. Add an ORDER BY before the LIMIT")]
    LimitWithoutOrder {
        /// UPDATE or REPLACE.
        statement: &'static str,
        /// The table.
        table: String,
    },
    /// A SET target that is neither a body parameter nor a settable column.
    #[error("{statement} {table}: cannot set `{name}`{why} (settable: {valid})")]
    NotSettable {
        /// UPDATE or REPLACE.
        statement: &'static str,
        /// The table.
        table: String,
        /// The name as written.
        name: String,
        /// Why, when it is a known name (` : it names the row`).
        why: String,
        /// What may be set.
        valid: String,
    },
    /// The SET clause names one target twice, or the object and one of its fields.
    #[error("{statement} {table}: {message}")]
    Conflicting {
        /// UPDATE or REPLACE.
        statement: &'static str,
        /// The table.
        table: String,
        /// What conflicts.
        message: String,
    },
    /// A value that does not fit where it goes.
    #[error("{statement} {table}: {message}")]
    InvalidValue {
        /// UPDATE or REPLACE.
        statement: &'static str,
        /// The table.
        table: String,
        /// What is wrong, naming the target and the row.
        message: String,
    },
    /// More rows than the write guard allows.
    #[error("{statement} {table} would change {count} rows, more than --max-writes {max}: refused, nothing was sent. See them with SELECT and the same WHERE (and --dry-run); to go ahead, narrow the WHERE or raise --max-writes to at least {count}")]
    TooMany {
        /// UPDATE or REPLACE.
        statement: &'static str,
        /// The table.
        table: String,
        /// The rows selected.
        count: usize,
        /// The guard.
        max: usize,
    },
    /// Some calls failed: the report says which rows were changed.
    #[error("{0}")]
    Partial(String),
    /// Some calls may have been done but their answer was lost: the report says which.
    #[error("{0}")]
    Unknown(String),
}

impl UpdateError {
    /// Whether a call may have been done without its answer arriving (the CLI exits 3).
    pub fn outcome_unknown(&self) -> bool {
        matches!(self, UpdateError::Unknown(_))
    }
}

impl From<UpdateError> for datafusion::error::DataFusionError {
    fn from(e: UpdateError) -> Self {
        super::super::ProviderError::Update(e).into()
    }
}
