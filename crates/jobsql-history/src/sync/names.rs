//! The tables `jobsql sync --table` takes, named as users type them: `job_runs`,
//! `jobs.job_runs`, `databricks_workspace.jobs.job_runs` (a short name when only one resource
//! has it; when several that keep history share it, the first provider's:
//! `job_runs` is Databricks', `lakesail.jobs.job_runs` LakeSail's); without `--table`, every
//! resource whose spec has `history:`.

use std::sync::Arc;

use super::SyncError;
use jobsql_core::spec::{Resource, SpecSet};

/// The resources that keep history, in spec order.
pub fn with_history(specs: &SpecSet) -> Vec<Arc<Resource>> {
    specs
        .resources
        .iter()
        .filter(|r| r.spec.history.is_some())
        .cloned()
        .collect()
}

fn known(specs: &SpecSet) -> String {
    let names: Vec<String> = with_history(specs)
        .iter()
        .map(|r| r.qualified_name())
        .collect();
    if names.is_empty() {
        "none".to_string()
    } else {
        names.join(", ")
    }
}

/// The resources `given` names (all that keep history when it is empty), each once.
pub fn resolve(specs: &SpecSet, given: &[String]) -> Result<Vec<Arc<Resource>>, SyncError> {
    if given.is_empty() {
        return Ok(with_history(specs));
    }
    let mut out: Vec<Arc<Resource>> = Vec::new();
    for name in given {
        let resource = resolve_one(specs, name)?;
        if !out.iter().any(|r| Arc::ptr_eq(r, &resource)) {
            out.push(resource);
        }
    }
    Ok(out)
}

fn resolve_one(specs: &SpecSet, given: &str) -> Result<Arc<Resource>, SyncError> {
    let parts: Vec<String> = given
        .trim()
        .split('.')
        .map(|p| p.trim().to_ascii_lowercase())
        .collect();
    let matching: Vec<&Arc<Resource>> = specs
        .resources
        .iter()
        .filter(|r| {
            let full = [r.provider.as_str(), r.service.as_str(), r.name.as_str()];
            parts.len() <= 3
                && full[3 - parts.len()..]
                    .iter()
                    .zip(&parts)
                    .all(|(a, b)| *a == b)
        })
        .collect();
    // A short name two resources share: the one that keeps history, if only one does.
    let keeping: Vec<&&Arc<Resource>> = matching
        .iter()
        .filter(|r| r.spec.history.is_some())
        .collect();
    match (matching.as_slice(), keeping.as_slice()) {
        ([], _) => Err(SyncError::UnknownTable {
            given: given.to_string(),
            known: known(specs),
        }),
        (_, [one]) => Ok((**one).clone()),
        ([one], []) => Err(SyncError::NoHistory {
            table: one.qualified_name(),
            known: known(specs),
        }),
        (several, []) => Err(SyncError::Ambiguous {
            given: given.to_string(),
            candidates: several
                .iter()
                .map(|r| r.qualified_name())
                .collect::<Vec<_>>()
                .join(", "),
        }),
        // Several that keep history (`job_runs`: Databricks' and LakeSail's): the first
        // provider's, as SQL resolves `jobs.job_runs` in the default catalog; the others
        // by a longer name (`lakesail.jobs.job_runs`).
        (_, several) => Ok((*several[0]).clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jobsql_core::spec::load_embedded;

    #[test]
    fn tables_are_named_as_users_type_them() {
        let specs = load_embedded().unwrap();
        for name in [
            "job_runs",
            "jobs.job_runs",
            "databricks_workspace.jobs.job_runs",
            " Jobs.Job_Runs ",
        ] {
            let found = resolve(&specs, &[name.to_string()]).unwrap();
            assert_eq!(found.len(), 1, "{name}");
            assert_eq!(
                found[0].qualified_name(),
                "databricks_workspace.jobs.job_runs"
            );
        }
        let twice = resolve(&specs, &["job_runs".into(), "jobs.job_runs".into()]).unwrap();
        assert_eq!(twice.len(), 1);
        let e = resolve(&specs, &["job_run".into()])
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "unknown table 'job_run' for jobsql sync (tables that keep history: databricks_workspace.cleanrooms.task_runs, databricks_workspace.jobs.job_runs, lakesail.jobs.job_runs)"
        );
        let e = resolve(&specs, &["databricks_workspace.jobs.jobs".into()])
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("databricks_workspace.jobs.jobs keeps no history"),
            "{e}"
        );
        let e = resolve(&specs, &["jobs.jobs".into()])
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "table 'jobs.jobs' is ambiguous: databricks_workspace.jobs.jobs, lakesail.jobs.jobs"
        );
        assert!(!resolve(&specs, &[]).unwrap().is_empty());
        for (name, full) in [
            ("lakesail.jobs.job_runs", "lakesail.jobs.job_runs"),
            (
                "cleanrooms.task_runs",
                "databricks_workspace.cleanrooms.task_runs",
            ),
            ("task_runs", "databricks_workspace.cleanrooms.task_runs"),
        ] {
            let found = resolve(&specs, &[name.to_string()]).unwrap();
            assert_eq!(found[0].qualified_name(), full, "{name}");
        }
        assert_eq!(resolve(&specs, &[]).unwrap().len(), 3);
    }
}
