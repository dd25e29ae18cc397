//! What goes wrong loading specs: [`SpecError`] for the loader's callers, [`Finding`] for the
//! checks (a place in the file and what is wrong there; the loader adds the file).

/// Why specs could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    /// The file could not be read.
    #[error("cannot read spec {file}: {source}")]
    Io {
        /// The file.
        file: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The YAML did not match the spec format (unknown key, wrong type, ...).
    #[error("spec {file}: {message}")]
    Parse {
        /// The file.
        file: String,
        /// What and where (serde's message includes line and column).
        message: String,
    },
    /// The YAML parsed, but something refers to what does not exist.
    #[error("spec {file}: {place}: {message}")]
    Invalid {
        /// The file.
        file: String,
        /// Where in the file (e.g. `resources.job_runs.pushdown[2]`).
        place: String,
        /// What is wrong.
        message: String,
    },
    /// Two files define the same table.
    #[error("spec {file}: table {table} is already defined by {other}")]
    Duplicate {
        /// The second file.
        file: String,
        /// The table.
        table: String,
        /// The first file.
        other: String,
    },
    /// No spec file found.
    #[error("no spec files (*.yaml) found in {0}")]
    Empty(String),
}

/// One problem a check found: where in the file, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Where in the file (e.g. `resources.job_runs.pushdown[2]`).
    pub place: String,
    /// What is wrong.
    pub message: String,
}

impl Finding {
    /// A finding at `place`.
    pub fn new(place: impl Into<String>, message: impl Into<String>) -> Self {
        Finding {
            place: place.into(),
            message: message.into(),
        }
    }

    /// The error of this finding in `file`.
    pub fn in_file(self, file: &str) -> SpecError {
        SpecError::Invalid {
            file: file.to_string(),
            place: self.place,
            message: self.message,
        }
    }
}
