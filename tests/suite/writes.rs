//! The write path over real HTTP against the emulator: INSERT → runs/submit, DELETE →
//! runs/delete, EXEC → the spec's methods, the `jobs` resource (YAML only), and dry runs.

/// The shared support, as this area's tests name it.
mod common {
    pub use crate::support::batches::{count, ints, strings};
    pub use crate::support::reports::one_created_failed_unknown;
    pub use crate::support::requests::{mutations, to};
    pub use crate::support::session::{
        error, lifecycle_env as env, lifecycle_env_with_policy as env_with_policy, query,
        writing as session, writing_with as session_with, Env,
    };
    pub use crate::support::RUNS;
}
mod cascade;
mod compliance;
mod ddl;
mod delete;
mod delete_exact;
mod dry_props;
mod dry_run;
mod exec;
mod guards;
mod insert;
mod insert_plan;
mod jobs;
mod outcomes;
mod update;
