//! Which statements a `jobsql serve` client may not run: `SET` / `RESET` of anything but a
//! short list of harmless DataFusion settings, and tables kept in the server's memory.
//!
//! A DataFusion setting changes how the server works, not just what one query returns:
//! `SET datafusion.execution.target_partitions = 200000` plans 200,000 partitions per query
//! (16 GB in 40 s), `SET datafusion.runtime.memory_limit = '1T'` lifts the memory limit. So
//! every plan a client sends is checked by [`check_plan`] before it runs, in both protocols and
//! in scripts: a `SET` / `RESET` of a setting not in [`ALLOWED`] (or out of its bounds) is
//! refused with [`SettingError`]. Postgres session settings drivers send (`SET
//! application_name`, ...) never reach DataFusion (the Postgres server answers them itself). `CREATE TABLE`
//! (kept in memory, outside the per-query memory limit, for the life of the connection) is
//! refused too; `CREATE VIEW` is not (a view holds no rows). The same check refuses a `COPY ...
//! TO` target or an external table's `LOCATION` outside the file sandbox before anything is
//! opened ([`super::url_tables::check_location`]; the object stores check again on access).

use std::path::Path;

use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{DdlStatement, LogicalPlan, Statement};

use super::url_tables::check_location;

/// A setting a client may change, and the values it may take.
#[derive(Debug, Clone, Copy)]
pub enum Allowed {
    /// Any value DataFusion accepts.
    Any,
    /// An integer within the bounds (inclusive).
    Range(u64, u64),
}

/// The settings a client may `SET` or `RESET`.
pub const ALLOWED: &[(&str, Allowed)] = &[
    ("datafusion.execution.batch_size", Allowed::Range(64, 16384)),
    ("datafusion.execution.time_zone", Allowed::Any),
    (
        "datafusion.sql_parser.enable_ident_normalization",
        Allowed::Any,
    ),
    ("datafusion.explain.format", Allowed::Any),
    ("datafusion.explain.logical_plan_only", Allowed::Any),
    ("datafusion.explain.physical_plan_only", Allowed::Any),
    ("datafusion.explain.show_schema", Allowed::Any),
    ("datafusion.explain.show_sizes", Allowed::Any),
    ("datafusion.explain.show_statistics", Allowed::Any),
];

/// A statement a serve client may not run.
#[derive(Debug, thiserror::Error)]
pub enum SettingError {
    /// A setting outside [`ALLOWED`].
    #[error(
        "jobsql serve does not let clients change {0} (it affects the whole server); settings \
         a client may change: {list}",
        list = allowed_names()
    )]
    NotAllowed(String),
    /// A value outside the setting's bounds.
    #[error("{name} must be an integer from {min} to {max} on jobsql serve, not {value}")]
    OutOfRange {
        /// The setting.
        name: String,
        /// The value given.
        value: String,
        /// The smallest allowed.
        min: u64,
        /// The largest allowed.
        max: u64,
    },
    /// `CREATE TABLE`.
    #[error(
        "jobsql serve does not keep tables in memory (CREATE TABLE); use CREATE VIEW, or a \
         subquery"
    )]
    MemoryTable,
}

fn allowed_names() -> String {
    ALLOWED
        .iter()
        .map(|(n, _)| *n)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Check `SET name = value` (`value` `None`: `RESET`).
pub fn check_setting(name: &str, value: Option<&str>) -> Result<(), SettingError> {
    let lower = name.trim().to_ascii_lowercase();
    let Some((_, allowed)) = ALLOWED.iter().find(|(n, _)| *n == lower) else {
        return Err(SettingError::NotAllowed(name.trim().to_string()));
    };
    if let (Allowed::Range(min, max), Some(value)) = (allowed, value) {
        let text = value.trim().trim_matches('\'');
        let ok = text
            .parse::<u64>()
            .is_ok_and(|n| (*min..=*max).contains(&n));
        if !ok {
            return Err(SettingError::OutOfRange {
                name: lower,
                value: value.to_string(),
                min: *min,
                max: *max,
            });
        }
    }
    Ok(())
}

/// Refuse a plan that changes a setting not allowed, creates a table in memory, or names a
/// file outside the sandbox of `files` (`--allow-files`; no file at all when `None`).
pub fn check_plan(plan: &LogicalPlan, files: Option<&Path>) -> Result<()> {
    let mut refused: Option<SettingError> = None;
    let mut outside: Option<DataFusionError> = None;
    plan.apply_with_subqueries(|node| {
        let locations: Vec<&str> = match node {
            LogicalPlan::Copy(copy) => vec![copy.output_url.as_str()],
            LogicalPlan::Ddl(DdlStatement::CreateExternalTable(create)) => {
                create.locations.iter().map(String::as_str).collect()
            }
            _ => Vec::new(),
        };
        if let Some(Err(e)) = locations
            .into_iter()
            .map(|l| check_location(files, l))
            .find(Result::is_err)
        {
            outside = Some(e);
            return Ok(TreeNodeRecursion::Stop);
        }
        let verdict = match node {
            LogicalPlan::Statement(Statement::SetVariable(set)) => {
                check_setting(&set.variable, Some(&set.value))
            }
            LogicalPlan::Statement(Statement::ResetVariable(reset)) => {
                check_setting(&reset.variable, None)
            }
            LogicalPlan::Ddl(DdlStatement::CreateMemoryTable(_)) => Err(SettingError::MemoryTable),
            _ => Ok(()),
        };
        match verdict {
            Ok(()) => Ok(TreeNodeRecursion::Continue),
            Err(e) => {
                refused = Some(e);
                Ok(TreeNodeRecursion::Stop)
            }
        }
    })?;
    if let Some(e) = outside {
        return Err(e);
    }
    match refused {
        Some(e) => Err(DataFusionError::External(Box::new(e))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_listed_settings_within_bounds_pass() {
        assert!(check_setting("datafusion.execution.batch_size", Some("1024")).is_ok());
        assert!(check_setting("DataFusion.Execution.Time_Zone", Some("'+01:00'")).is_ok());
        assert!(matches!(
            check_setting("datafusion.execution.batch_size", Some("100000000")),
            Err(SettingError::OutOfRange { .. })
        ));
        assert!(matches!(
            check_setting("datafusion.execution.batch_size", Some("many")),
            Err(SettingError::OutOfRange { .. })
        ));
        for name in [
            "datafusion.execution.target_partitions",
            "datafusion.runtime.memory_limit",
            "datafusion.runtime.temp_directory",
            "datafusion.catalog.location",
        ] {
            let err = check_setting(name, Some("1")).expect_err(name);
            assert!(err.to_string().contains(name), "{err}");
        }
        assert!(check_setting("datafusion.runtime.memory_limit", None).is_err());
    }
}
