//! Errors as the client reads them: a DataFusion error as a Postgres `ErrorResponse` with the
//! SQLSTATE of its kind and [`jobsql_core::session::user_message`]; running out of memory
//! names the limits and their flags.

use datafusion::error::DataFusionError;
use pgwire::error::{ErrorInfo, PgWireError};

use crate::server::limits::Limits;
use jobsql_core::frontend::sandbox::SandboxError;
use jobsql_core::frontend::settings::SettingError;
use jobsql_core::session::user_message;

/// A DataFusion error as a Postgres error: SQLSTATE by kind, the message users read.
pub fn pg_error(e: &DataFusionError) -> PgWireError {
    let code = match e.find_root() {
        DataFusionError::SQL(..) => "42601",
        DataFusionError::Plan(_) | DataFusionError::SchemaError(..) => "42000",
        DataFusionError::NotImplemented(_) => "0A000",
        DataFusionError::ResourcesExhausted(_) => "53200",
        // statement_too_complex, as Postgres answers a statement past its stack depth.
        DataFusionError::External(inner) if inner.is::<jobsql_core::sql::bounds::BoundsError>() => {
            "54001"
        }
        DataFusionError::External(inner)
            if inner.is::<SettingError>() || inner.is::<SandboxError>() =>
        {
            "42501"
        }
        DataFusionError::ObjectStore(inner)
            if matches!(
                inner.as_ref(),
                datafusion::object_store::Error::PermissionDenied { .. }
            ) =>
        {
            "42501"
        }
        _ => "XX000",
    };
    user_error(code, user_message(e))
}

/// A Postgres `ERROR` with SQLSTATE `code` and `message`.
pub fn user_error(code: &str, message: String) -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new(
        "ERROR".to_string(),
        code.to_string(),
        message,
    )))
}

/// `e` as a Postgres error, running out of memory (`53200`) naming `limits` and their flags
/// ([`jobsql_core::memory::pool`]). An operator
/// that could spill (a grouping, a sort) answers the pool's refusal by trying to spill, and
/// with no disk its error replaces the pool's, which named the limit: it is named again
/// here, both limits, as which one refused is no longer known.
pub fn error_within(e: &DataFusionError, limits: &Limits) -> PgWireError {
    match e.find_root() {
        DataFusionError::ResourcesExhausted(message)
            if message.contains("(DiskManager is disabled)") =>
        {
            pg_error(&DataFusionError::ResourcesExhausted(format!(
                "{message}: the statement is past the {} MB a statement may use \
                 (--memory-limit-mb) or the {} MB of all statements \
                 (--total-memory-limit-mb), and nothing spills to disk",
                limits.memory_limit_bytes >> 20,
                limits.total_memory_limit_bytes >> 20,
            )))
        }
        _ => pg_error(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A grouping that tried to spill past the pool (no disk) is still a `53200` naming the
    /// limits and their flags, however DataFusion wrapped it.
    #[test]
    fn a_spill_with_no_disk_names_the_memory_limits() {
        let limits = Limits {
            memory_limit_bytes: 16 << 20,
            total_memory_limit_bytes: 128 << 20,
            ..Limits::default()
        };
        let spill = DataFusionError::Context(
            "aggregate".into(),
            Box::new(DataFusionError::ResourcesExhausted(
                "Memory Exhausted while SpillPool (DiskManager is disabled)".into(),
            )),
        );
        let PgWireError::UserError(info) = error_within(&spill, &limits) else {
            panic!("a user error");
        };
        assert_eq!(info.code, "53200");
        for part in [
            "16 MB",
            "--memory-limit-mb",
            "128 MB",
            "--total-memory-limit-mb",
        ] {
            assert!(info.message.contains(part), "{}", info.message);
        }
        // The pool's own refusal is passed on as it was.
        let pool = DataFusionError::ResourcesExhausted("x needs 1 MB more".into());
        let PgWireError::UserError(info) = error_within(&pool, &limits) else {
            panic!("a user error");
        };
        assert!(
            info.message.ends_with("x needs 1 MB more"),
            "{}",
            info.message
        );
        assert!(
            !info.message.contains("--total-memory-limit-mb"),
            "{}",
            info.message
        );
    }
}
