//! Response shapes, end to end: made-up providers written only in YAML (loaded with
//! `jobsql_core::spec::load_sources`) against hand-rolled stub servers on 127.0.0.1:0, one per
//! pagination style — asserting the rows and the exact requests (parameters, pages), the stop
//! rules, the same-origin rule of next-page URLs, `--max-pages` and repeated cursors, and
//! newest-first reads and parallel slices over a marker listing — then objects at a path or a
//! bare array, renamed fields, the three timestamp encodings (a range pushed in RFC 3339 and in
//! seconds), the loader's errors for bad shapes, and a renamed key read back by
//! `INSERT ... RETURNING`.
//!
//! The made-up provider `acme` has its profile in `support::shapes` (`ACME_PROFILE`);
//! `profile.rs` adds a whole provider through `jobsql query --spec-dir` and its environment
//! variables alone: an API key header, nested error bodies, marker pages, camelCase, RFC 3339.

/// The shared support, as this area's tests name it.
mod common {
    pub use crate::support::batches::{ints, strings};
    pub use crate::support::session::{error, query};
    pub use crate::support::shapes::{ids, load_acme, params, run_items, runs_spec, session, uris};
    pub use crate::support::stub::{Reply, Stub};
}
mod counted;
mod cursors;
mod fields;
mod loader;
mod profile;
mod ordered;
mod returning;
mod urls;
