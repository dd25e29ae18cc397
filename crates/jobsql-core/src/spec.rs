//! Provider specs: the YAML files under `provider-spec/` that describe every resource.
//!
//! Each provider has a *profile*, `provider-spec/<provider>/provider.yaml`
//! ([`ProviderSpec`]): the server URL template, how users sign in (settings from the
//! environment, a config file's profiles and defaults; bearer, API-key header, basic, OAuth 2
//! client credentials and command methods), and where errors keep their code and message. A
//! spec directory that adds services to a built-in provider may leave its profile out: the
//! built-in one is used.
//!
//! A service file describes one *service* of one *provider* (StackQL's layout:
//! `provider.service.resource`, e.g. `databricks_workspace.jobs.job_runs`): for each resource its HTTP methods (verb, path, parameters, where the objects sit
//! in the response, how it paginates), which methods serve each SQL verb, its columns (types and
//! descriptions), its parameter columns, and which WHERE predicates map to which parameters.
//!
//! The Rust engine ([`crate::provider`]) is generic over these structs: a new resource is new
//! YAML. Every struct denies unknown keys, and the loader ([`load_sources`]) checks every cross-reference, so a typo is
//! an error naming the file and the place rather than a silently ignored setting.

mod error;
mod files;
mod history;
mod load;
mod model;
mod provider;
mod resource;
mod shapes;
mod types;
mod writes;

pub use error::{Finding, SpecError};
pub use history::{EachSpec, HistorySpec, Incremental};
pub use load::{builtin_profile, load_dir, load_embedded, load_sources};
pub use model::*;
pub use provider::*;
pub use resource::{Column, Resource, SpecSet};
pub use types::{ColumnType, TypeRegistry};
