//! The benchmark's one error enum: every failure (a child that will not start or exits
//! non-zero, an emulator that prints no base URL, a file that cannot be read or written, an HTTP
//! request of the request floor) is reported as one clear line, never a panic.

use std::io;

/// Why the benchmark could not go on.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// A child process could not be started.
    #[error("cannot start {what}: {source}")]
    Spawn {
        /// What was started.
        what: String,
        /// The cause.
        source: io::Error,
    },
    /// Waiting for a child process failed.
    #[error("cannot wait for {what}: {source}")]
    Wait {
        /// The child.
        what: String,
        /// The cause.
        source: io::Error,
    },
    /// A child process exited unsuccessfully.
    #[error("{what} failed ({status}): {stderr}")]
    ChildFailed {
        /// The child.
        what: String,
        /// Its exit status, in words.
        status: String,
        /// The end of what it wrote to stderr.
        stderr: String,
    },
    /// The emulator did not announce its base URL.
    #[error("the emulator did not print its base URL and token (it printed: {0:?})")]
    EmulatorStart(String),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    File {
        /// The file.
        path: String,
        /// The cause.
        source: io::Error,
    },
    /// An HTTP request of the request floor failed.
    #[error("request {url} failed: {message}")]
    Http {
        /// The request.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// A child printed something the benchmark does not understand.
    #[error("unexpected output from {what}: {text:?}")]
    Output {
        /// The child.
        what: String,
        /// What it printed.
        text: String,
    },
    /// The async runtime of the request floor could not start.
    #[error("cannot start the async runtime: {0}")]
    Runtime(io::Error),
    /// A bad combination of arguments.
    #[error("{0}")]
    Usage(String),
}

impl BenchError {
    /// A file error for `path`.
    pub fn file(path: &std::path::Path, source: io::Error) -> Self {
        BenchError::File {
            path: path.display().to_string(),
            source,
        }
    }
}
