//! Why a DELETE was refused, or which of its rows failed.

/// Errors of DELETE.
#[derive(Debug, thiserror::Error)]
pub enum DeleteError {
    /// The resource has no delete method.
    #[error("DELETE is not supported by {table}")]
    NotSupported {
        /// The table.
        table: String,
    },
    /// `DELETE` whose WHERE selects every row: none, or one naming no row.
    #[error("DELETE FROM {table} {}: refused. Name the rows, e.g. WHERE {example}", filter.wording("delete"))]
    DeleteEverything {
        /// The table.
        table: String,
        /// An example predicate.
        example: String,
        /// What the WHERE was.
        filter: Everything,
    },
    /// A LIMIT without ORDER BY in a DELETE or its subqueries.
    #[error("DELETE FROM {table}: a LIMIT without ORDER BY (in the DELETE or one of its subqueries) keeps whichever rows come first, so a dry run, or the same SELECT, would not show the rows deleted: refused. Add an ORDER BY before the LIMIT")]
    LimitWithoutOrder {
        /// The table.
        table: String,
    },
    /// A DELETE that selects more rows than the mass-delete guard allows.
    #[error("DELETE FROM {table} would delete {count} rows{with}, more than --max-deletes {max}: refused, nothing was deleted. See them with SELECT and the same WHERE (and --dry-run); to go ahead, narrow the WHERE or raise --max-deletes to {needed}")]
    TooManyDeletes {
        /// The table.
        table: String,
        /// The rows the WHERE selects.
        count: usize,
        /// What the API would delete with them (` and with them 1902 rows of ... (1922 in
        /// all)`), or nothing.
        with: String,
        /// How far the guard would have to go (`at least 1922`, `more than 101`).
        needed: String,
        /// The guard.
        max: usize,
    },
    /// Some deletes failed: the report says which were deleted.
    #[error("{0}")]
    Partial(String),
    /// Some deletes may have been done but their answer was lost: the report says which.
    #[error("{0}")]
    Unknown(String),
}

pub use crate::provider::write_rows::Everything;

impl DeleteError {
    /// Whether a delete may have been done without its answer arriving (the CLI exits 3).
    pub fn outcome_unknown(&self) -> bool {
        matches!(self, DeleteError::Unknown(_))
    }
}

impl From<DeleteError> for datafusion::error::DataFusionError {
    fn from(e: DeleteError) -> Self {
        super::super::ProviderError::Delete(e).into()
    }
}
