//! Statements whose DataFusion error names the wrong problem, recognised on the AST:
//!
//! * `CREATE FUNCTION` / `DROP FUNCTION`: DataFusion plans the body against no table (`no column
//!   named x`) or, without a function factory, fails at run time; jobsql has no user-defined
//!   functions, and says so;
//! * `DELETE FROM t AS r WHERE r.run_id = …`: DataFusion's DELETE drops the alias, so `r.run_id`
//!   is not found and the closest column, `run_id`, is suggested as if misspelled; the message
//!   says that DELETE takes no alias instead.

use datafusion::common::{DataFusionError, SchemaError};
use datafusion::sql::parser::Statement as DfStatement;
use datafusion::sql::sqlparser::ast::{Delete, FromTable, Statement as SqlStatement, TableFactor};

use super::HintError;

/// The error of a statement jobsql does not run at all, whatever DataFusion said.
pub(super) fn unsupported(statement: &DfStatement) -> Option<HintError> {
    let DfStatement::Statement(inner) = statement else {
        return None;
    };
    match inner.as_ref() {
        SqlStatement::CreateFunction(_) => Some(HintError::NoUserFunctions { verb: "CREATE" }),
        SqlStatement::DropFunction(_) => Some(HintError::NoUserFunctions { verb: "DROP" }),
        _ => None,
    }
}

/// `DELETE FROM <table> <alias>` whose WHERE names a column through the alias.
pub(super) fn delete_alias(statement: &DfStatement, error: &DataFusionError) -> Option<HintError> {
    let DfStatement::Statement(inner) = statement else {
        return None;
    };
    let SqlStatement::Delete(Delete { from, .. }) = inner.as_ref() else {
        return None;
    };
    let (FromTable::WithFromKeyword(tables) | FromTable::WithoutKeyword(tables)) = from;
    let TableFactor::Table {
        name,
        alias: Some(alias),
        ..
    } = &tables.first()?.relation
    else {
        return None;
    };
    let DataFusionError::SchemaError(schema_error, _) = error.find_root() else {
        return None;
    };
    let SchemaError::FieldNotFound { field, .. } = schema_error.as_ref() else {
        return None;
    };
    let through_alias = field
        .relation
        .as_ref()
        .is_some_and(|r| r.table() == alias.name.value);
    through_alias.then(|| HintError::DeleteAlias {
        table: name.to_string(),
        alias: alias.name.value.clone(),
        column: field.name.clone(),
    })
}
