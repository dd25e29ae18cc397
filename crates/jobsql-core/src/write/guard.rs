//! The write guard over a script (`--max-writes`): before the first statement of a script
//! runs, its calls that create or change things and whose number is written in it — one per
//! `EXEC` of an API method, one per row of an `INSERT ... VALUES` into an API table — are
//! counted together, and a script making more than the runtime's
//! [`max_writes`](crate::provider::ApiRuntime::max_writes) is refused before any request.
//!
//! A statement on its own is guarded where it runs: an INSERT counts the rows its source gives
//! before the first one is sent ([`crate::provider::insert`]), so `INSERT ... SELECT` is
//! refused by its real row count; an EXEC is one call. A script of 5,000 `EXEC ... cancel`
//! lines (what an assistant obeying a prompt injection writes) is one decision, not 5,000.

use datafusion::common::TableReference;
use datafusion::error::Result;
use datafusion::prelude::SessionContext;
use datafusion::sql::parser::Statement as DfStatement;
use datafusion::sql::sqlparser::ast::{SetExpr, Statement as SqlStatement, TableObject};

use super::{find_api_table, WriteError};
use crate::sql::Statement;

/// What a script would write, as far as its text says.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ScriptWrites {
    /// EXEC statements of API methods.
    pub execs: usize,
    /// Rows of `INSERT ... VALUES` into API tables.
    pub rows: usize,
    /// The smallest guard of the runtimes they go through (`None`: no API write).
    pub max: Option<usize>,
}

impl ScriptWrites {
    /// The calls counted.
    pub fn total(&self) -> usize {
        self.execs.saturating_add(self.rows)
    }
}

/// Count the writes of `statements` whose number the text gives.
pub async fn count_writes(ctx: &SessionContext, statements: &[Statement]) -> ScriptWrites {
    let mut writes = ScriptWrites::default();
    for statement in statements {
        let (table, calls, exec) = match statement {
            Statement::Exec(e) => {
                let [p, s, r] = &e.table;
                (
                    TableReference::full(p.as_str(), s.as_str(), r.as_str()),
                    1,
                    true,
                )
            }
            Statement::Sql(sql) => match values_insert(sql) {
                Some(found) => (found.0, found.1, false),
                None => continue,
            },
        };
        let Some((_, runtime)) = find_api_table(ctx, table).await else {
            continue;
        };
        if exec {
            writes.execs += 1;
        } else {
            writes.rows = writes.rows.saturating_add(calls);
        }
        writes.max = Some(
            writes
                .max
                .map_or(runtime.max_writes, |m| m.min(runtime.max_writes)),
        );
    }
    writes
}

/// Refuse `statements` when their counted writes pass the guard; nothing has run yet.
pub async fn check_script(ctx: &SessionContext, statements: &[Statement]) -> Result<()> {
    let writes = count_writes(ctx, statements).await;
    match writes.max {
        Some(max) if writes.total() > max => Err(too_many(writes, max).into()),
        _ => Ok(()),
    }
}

/// The refusal of `writes`, more than `max`.
pub(super) fn too_many(writes: ScriptWrites, max: usize) -> WriteError {
    let mut parts = Vec::new();
    if writes.execs > 0 {
        parts.push(format!("{} EXEC", writes.execs));
    }
    if writes.rows > 0 {
        parts.push(format!("{} INSERT rows", writes.rows));
    }
    WriteError::TooManyWrites {
        count: writes.total(),
        what: parts.join(" and "),
        max,
    }
}

/// `INSERT INTO <table> ... VALUES (...), ...`: the table and its rows.
fn values_insert(statement: &DfStatement) -> Option<(TableReference, usize)> {
    let DfStatement::Statement(s) = statement else {
        return None;
    };
    let SqlStatement::Insert(insert) = s.as_ref() else {
        return None;
    };
    let TableObject::TableName(name) = &insert.table else {
        return None;
    };
    let SetExpr::Values(values) = insert.source.as_ref()?.body.as_ref() else {
        return None;
    };
    Some((super::insert::table_reference(name), values.rows.len()))
}
