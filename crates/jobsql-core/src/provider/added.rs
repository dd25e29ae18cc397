//! Tables that another crate adds beside the spec's: the hook through which `jobsql-history`
//! puts each resource's `<resource>_history` next to it, without the engine depending on the
//! history (or on delta-rs). An [`ApiRuntime`](super::ApiRuntime) carries its list, so every
//! session made from the runtime (each `serve` connection, each MCP session) gets them too.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::guarded::GuardedSchema;
use crate::spec::SpecSet;

/// The schemas a registration made, by `(provider, service)` (catalog and schema names).
pub type Schemas = BTreeMap<(String, String), Arc<GuardedSchema>>;

/// Tables registered beside the spec's each time they are registered in a session.
pub trait AddedTables: std::fmt::Debug + Send + Sync {
    /// Register the tables of `specs` into `schemas` (those the spec's tables were just
    /// registered in). A table that cannot be read is an error when it is queried, not here.
    fn register(&self, schemas: &Schemas, specs: &SpecSet);
}
