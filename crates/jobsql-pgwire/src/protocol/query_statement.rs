//! A query parsed by the classifier (a cursor's, a `COPY`'s) as a statement for the engine,
//! held to the engine's bounds as a statement its own parser read would be.

use datafusion::error::DataFusionError;
use datafusion::sql::parser::Statement as DfStatement;
use datafusion::sql::sqlparser::ast::{Query, Statement as SqlStatement};

use jobsql_core::sql::{bounded, bounds, Statement};

/// `query` as a statement for the engine, within [`bounds::check_depth`].
pub fn query_statement(query: &Query) -> Result<Statement, DataFusionError> {
    let statement = DfStatement::Statement(Box::new(SqlStatement::Query(Box::new(query.clone()))));
    let statement = bounds::check_depth(statement).map_err(bounded)?;
    Ok(Statement::Sql(Box::new(statement)))
}
