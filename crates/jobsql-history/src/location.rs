//! Where the history lives, and where each resource's table is inside it.
//!
//! The root is, first found: an explicit location (`--history`, `jobsql sync --to`), the
//! `JOBSQL_HISTORY` environment variable, then the user data directory:
//! `$XDG_DATA_HOME/jobsql/history`, else `~/.local/share/jobsql/history`. A location is a local
//! path (relative ones are made absolute) or a URL: `file://`, or cloud storage
//! ([`super::stores`]): `s3://bucket/prefix`, `s3a://bucket/prefix`,
//! `abfss://container@account.dfs.core.windows.net/prefix`, `az://container/prefix`,
//! `gs://bucket/prefix`.
//!
//! Each resource's history is one Delta table at `<root>/<provider>/<service>/<resource>`, e.g.
//! `~/.local/share/jobsql/history/databricks_workspace/jobs/job_runs`; its rows are the live
//! table's columns plus [`SYNCED_AT_COLUMN`], partitioned by [`PARTITION_COLUMN`].

use std::path::{Path, PathBuf};

use url::Url;

use super::HistoryError;

/// The environment variable naming the history root.
pub const ENV: &str = "JOBSQL_HISTORY";

/// The column each history row adds: when a sync last wrote it (UTC), i.e. when the API last
/// showed the run. A run the API has since deleted keeps its last value.
pub const SYNCED_AT_COLUMN: &str = "synced_at";

/// The Delta partition column: the UTC date of the run's start time.
pub const PARTITION_COLUMN: &str = "start_date";

/// The root of the history: a directory (or bucket prefix) holding one table per resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryRoot {
    url: Url,
}

impl HistoryRoot {
    /// The root from `explicit`, else `JOBSQL_HISTORY`, else the user data directory.
    pub fn resolve(explicit: Option<&str>) -> Result<Self, HistoryError> {
        if let Some(given) = explicit {
            return Self::parse(given);
        }
        match std::env::var(ENV) {
            Ok(given) if !given.trim().is_empty() => Self::parse(&given),
            _ => Self::from_path(&default_dir()?),
        }
    }

    /// A root from a path or URL as a user typed it.
    pub fn parse(given: &str) -> Result<Self, HistoryError> {
        let bad = |why: &str| HistoryError::Location {
            given: given.to_string(),
            why: why.to_string(),
        };
        let trimmed = given.trim();
        if trimmed.is_empty() {
            return Err(bad("empty"));
        }
        // A Windows-style `C:\...` or a plain path has no `scheme://`.
        if !trimmed.contains("://") {
            return Self::from_path(Path::new(trimmed)).map_err(|_| bad("not a usable path"));
        }
        let url = Url::parse(trimmed).map_err(|e| bad(&e.to_string()))?;
        match url.scheme() {
            "file" => {
                let path = url
                    .to_file_path()
                    .map_err(|_| bad("not a local file URL"))?;
                Self::from_path(&path).map_err(|_| bad("not a usable path"))
            }
            scheme if super::stores::SCHEMES.contains(&scheme) => {
                let bucket = url.host_str().unwrap_or("");
                if bucket.is_empty() {
                    return Err(bad("no bucket (container) in the URL"));
                }
                if matches!(scheme, "abfss" | "abfs") && url.username().is_empty() {
                    return Err(bad(
                        "no container: abfss://CONTAINER@ACCOUNT.dfs.core.windows.net/PREFIX",
                    ));
                }
                let mut url = url;
                url.set_query(None);
                url.set_fragment(None);
                if !url.path().ends_with('/') {
                    let path = format!("{}/", url.path());
                    url.set_path(&path);
                }
                Ok(Self { url })
            }
            other => Err(bad(&format!("unknown scheme {other}://"))),
        }
    }

    fn from_path(path: &Path) -> Result<Self, HistoryError> {
        let absolute = if path.is_absolute() {
            path.to_path_buf()
        } else {
            std::env::current_dir()
                .map_err(|_| HistoryError::NoDataDir)?
                .join(path)
        };
        let mut url = Url::from_directory_path(&absolute).map_err(|_| HistoryError::Location {
            given: path.display().to_string(),
            why: "not an absolute path".to_string(),
        })?;
        url.set_query(None);
        Ok(Self { url })
    }

    /// The root as a URL, ending in `/`.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The root as a local directory, when it is one.
    pub fn local_dir(&self) -> Option<PathBuf> {
        self.url.to_file_path().ok()
    }

    /// The Delta table of one resource: `<root>/<provider>/<service>/<resource>/`.
    pub fn table_url(&self, provider: &str, service: &str, resource: &str) -> Url {
        let mut url = self.url.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.pop_if_empty();
            segments.extend([provider, service, resource, ""]);
        }
        url
    }
}

impl std::fmt::Display for HistoryRoot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.local_dir() {
            Some(dir) => write!(f, "{}", dir.display()),
            None => write!(f, "{}", self.url),
        }
    }
}

/// `$XDG_DATA_HOME/jobsql/history`, else `$HOME/.local/share/jobsql/history`.
fn default_dir() -> Result<PathBuf, HistoryError> {
    let data = match std::env::var_os("XDG_DATA_HOME") {
        Some(dir) if Path::new(&dir).is_absolute() => PathBuf::from(dir),
        _ => match std::env::var_os("HOME") {
            Some(home) if !home.is_empty() => PathBuf::from(home).join(".local").join("share"),
            _ => return Err(HistoryError::NoDataDir),
        },
    };
    Ok(data.join("jobsql").join("history"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_file_urls_name_the_same_root() {
        let a = HistoryRoot::parse("/tmp/h").unwrap();
        let b = HistoryRoot::parse("file:///tmp/h/").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.url().as_str(), "file:///tmp/h/");
        assert_eq!(
            a.table_url("databricks_workspace", "jobs", "job_runs")
                .as_str(),
            "file:///tmp/h/databricks_workspace/jobs/job_runs/"
        );
        assert_eq!(a.to_string(), "/tmp/h/");
    }

    #[test]
    fn relative_paths_are_made_absolute() {
        let root = HistoryRoot::parse("hist").unwrap();
        let dir = root.local_dir().unwrap();
        assert!(dir.is_absolute() && dir.ends_with("hist"), "{dir:?}");
    }

    #[test]
    fn cloud_urls_are_roots_and_need_a_bucket() {
        for (given, table) in [
            ("s3://bucket/h", "s3://bucket/h/d/jobs/job_runs/"),
            ("s3a://bucket/h/", "s3a://bucket/h/d/jobs/job_runs/"),
            (
                "abfss://c@acct.dfs.core.windows.net/h",
                "abfss://c@acct.dfs.core.windows.net/h/d/jobs/job_runs/",
            ),
            ("az://c/h", "az://c/h/d/jobs/job_runs/"),
            ("gs://bucket", "gs://bucket/d/jobs/job_runs/"),
        ] {
            let root = HistoryRoot::parse(given).unwrap();
            assert_eq!(root.table_url("d", "jobs", "job_runs").as_str(), table);
            assert_eq!(root.local_dir(), None);
        }
        for bad in ["s3:///h", "gs://", "abfss://acct.dfs.core.windows.net/h"] {
            let err = HistoryRoot::parse(bad).unwrap_err().to_string();
            assert!(err.contains(bad) && err.contains("no "), "{err}");
        }
    }

    #[test]
    fn unknown_schemes_are_refused_by_name() {
        let err = HistoryRoot::parse("ftp://x/h").unwrap_err().to_string();
        assert!(err.contains("unknown scheme ftp://"), "{err}");
        assert!(HistoryRoot::parse("  ").is_err());
    }
}
