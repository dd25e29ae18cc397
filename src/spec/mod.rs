//! Provider specs: the YAML files under `provider-spec/` that describe every resource.
//!
//! A spec file describes one *service* of one *provider* (StackQL's layout:
//! `provider.service.resource`, e.g. `databricks_workspace.jobs.job_runs`): the server URL
//! template, and for each resource its HTTP methods (verb, path, parameters, where the objects sit
//! in the response, how it paginates), which methods serve each SQL verb, its columns (types and
//! descriptions), its parameter columns, and which WHERE predicates map to which parameters.
//!
//! The Rust engine ([`crate::provider`]) is generic over these structs: a new resource is new
//! YAML. Every struct denies unknown keys, and the loader ([`load_sources`]) checks every cross-reference, so a typo is
//! an error naming the file and the place rather than a silently ignored setting.

mod error;
mod files;
mod load;
mod model;
mod resource;
mod shapes;
mod types;
mod writes;

pub use error::{Finding, SpecError};
pub use load::{load_dir, load_embedded, load_sources};
pub use model::*;
pub use resource::{Column, Resource, SpecSet};
pub use types::{ColumnType, TypeRegistry};
