//! What clients write in Postgres' own SQL that DataFusion does not plan, rewritten in the
//! parsed statement before it is planned (both protocols):
//!
//! - `expr COLLATE pg_catalog.default` (psql's `\d name`, `\dt pattern`): the collation is
//!   dropped (jobsql compares strings by their bytes, as collation `C`).
//! - `a OPERATOR(pg_catalog.~) b` (psql's patterns, pgcli): the operator itself (`~`, `!~`,
//!   `~*`, `!~*`, `=`, `<>`, `<`, `>`, `<=`, `>=`, `~~`, `!~~`).
//! - Casts to Postgres' object identifier types: `'name'::regtype` is `to_regtype('name')`,
//!   `'name'::regclass` `to_regclass('name')` ([`crate::catalog::functions`]); `x::oid`,
//!   `x::regtype` / `::regclass` / `::regnamespace` / `::regproc` of a number an `INT`, and
//!   `x::regtype::text` the type's name (`format_type(x, NULL)`: pgcli's column types;
//!   [`catalog_queries`]).
//! - Whole catalog queries ([`catalog_queries`]): a `SELECT` over an empty catalog
//!   table has no rows; `information_schema.columns` has Postgres type names.
//! - A correlated scalar subquery of one plain column (`(SELECT pg_get_expr(...) FROM
//!   pg_attrdef WHERE ...)`, SQLAlchemy's reflection): its value taken with
//!   `first_value(...)`, as DataFusion plans only aggregated ones (Postgres would fail on more
//!   than one row; jobsql's catalog tables give at most one there).
//! - A scalar subquery reading one of the catalog tables without rows
//!   ([`crate::catalog::empty_tables`]: `pg_attrdef`, `pg_sequence`, `pg_collation`, ...)
//!   by an inner or left join: `NULL`, which it is (DataFusion cannot decorrelate the ones
//!   SQLAlchemy writes inside `CASE`).
//! - `x = ANY('{r,v}')` and `x = ANY($1)` with a list ([`any`]): typed arrays.
//! - `pg_catalog.f(...)` (psql qualifies every function it calls): `f(...)`, DataFusion's
//!   function or one of [`crate::catalog::functions`].
//! - A table named `pg_...` without a schema (`FROM pg_type`): `pg_catalog.pg_...`, as
//!   Postgres' search path always starts with `pg_catalog`.

//!
//! The rules, one file each, run in this order by [`rewrite_with_parameters`] (lowest first: a
//! rule uses only [`ast`], the pieces of sqlparser's tree they share):
//!
//! - [`catalog_queries`]: whole catalog queries, once per statement;
//! - [`any`]: `ANY` / `ALL` of an array as clients write it, per expression;
//! - [`expressions`]: `COLLATE`, `OPERATOR(...)`, object identifier casts, scalar subqueries,
//!   `pg_catalog.f(...)`, per expression;
//! - tables named `pg_...` qualified with `pg_catalog` (here), per relation.

pub mod ast;
pub mod any;
pub mod catalog_queries;
pub mod expressions;

use std::ops::ControlFlow;

use datafusion::sql::parser::Statement as DfStatement;
use datafusion::sql::sqlparser::ast::{
    visit_expressions_mut, visit_relations_mut, Ident, ObjectName, ObjectNamePart,
};
use pgwire::api::Type;

use crate::catalog::rewrite::any::Untyped;

/// `statement` with the rewrites above.
pub fn rewrite(statement: DfStatement) -> DfStatement {
    rewrite_with_parameters(statement, &[], Untyped::Leave)
}

/// `statement` with the rewrites above, `declared` being the parameter types the client
/// declared when it prepared it (`$1` first) and `untyped` what an untyped `ANY($n)` becomes
/// ([`any`]).
pub fn rewrite_with_parameters(
    mut statement: DfStatement,
    declared: &[Option<Type>],
    untyped: Untyped,
) -> DfStatement {
    if let DfStatement::Statement(s) = &mut statement {
        catalog_queries::rewrite(s.as_mut());
        let _ = visit_expressions_mut(s.as_mut(), |expr| {
            any::rewrite(expr, declared, untyped);
            expressions::rewrite(expr);
            ControlFlow::<()>::Continue(())
        });
        let _ = visit_relations_mut(s.as_mut(), |name| {
            qualify(name);
            ControlFlow::<()>::Continue(())
        });
    }
    statement
}

/// `pg_x` as `pg_catalog.pg_x`.
fn qualify(name: &mut ObjectName) {
    if let [ObjectNamePart::Identifier(table)] = name.0.as_slice() {
        if table.value.to_ascii_lowercase().starts_with("pg_") {
            name.0
                .insert(0, ObjectNamePart::Identifier(Ident::new("pg_catalog")));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jobsql_core::sql::{parse_script, Statement};

    fn rewritten(sql: &str) -> String {
        let mut statements = parse_script(sql).expect("parses");
        match statements.remove(0) {
            Statement::Sql(s) => rewrite(*s).to_string(),
            Statement::Exec(_) => panic!("not EXEC"),
        }
    }

    #[test]
    fn collations_and_operator_syntax_are_rewritten() {
        assert_eq!(
            rewritten(
                "SELECT relname FROM pg_catalog.pg_class c WHERE c.relname \
                 OPERATOR(pg_catalog.~) '^(job_runs)$' COLLATE pg_catalog.default"
            ),
            "SELECT relname FROM pg_catalog.pg_class c WHERE c.relname ~ '^(job_runs)$'"
        );
        assert_eq!(
            rewritten("SELECT pg_catalog.array_to_string(datacl, ',') FROM pg_database"),
            "SELECT array_to_string(datacl, ',') FROM pg_catalog.pg_database"
        );
        assert_eq!(
            rewritten("SELECT 1 FROM jobs.pg_x"),
            "SELECT 1 FROM jobs.pg_x"
        );
        assert_eq!(
            rewritten(
                "SELECT t.oid FROM pg_type t WHERE t.oid = 'hstore'::regtype AND c.oid::oid = 1"
            ),
            "SELECT t.oid FROM pg_catalog.pg_type t WHERE t.oid = to_regtype('hstore') \
             AND c.oid::INT = 1"
        );
        assert_eq!(
            rewritten("SELECT (SELECT d.description FROM pg_description d WHERE d.objoid = a.attrelid), \
                       (SELECT count(*) FROM pg_description), \
                       (SELECT d.adbin FROM pg_attrdef d JOIN pg_class c ON true) FROM pg_attribute a"),
            "SELECT (SELECT first_value(d.description) FROM pg_catalog.pg_description d \
             WHERE d.objoid = a.attrelid), (SELECT count(*) FROM pg_catalog.pg_description), \
             NULL FROM pg_catalog.pg_attribute a"
        );
    }
}
