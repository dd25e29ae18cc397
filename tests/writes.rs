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
#[path = "writes/cascade.rs"]
mod cascade;
#[path = "writes/ddl.rs"]
mod ddl;
#[path = "writes/delete.rs"]
mod delete;
#[path = "writes/delete_exact.rs"]
mod delete_exact;
#[path = "writes/dry_props.rs"]
mod dry_props;
#[path = "writes/dry_run.rs"]
mod dry_run;
#[path = "writes/exec.rs"]
mod exec;
#[path = "writes/guards.rs"]
mod guards;
#[path = "writes/insert.rs"]
mod insert;
#[path = "writes/insert_plan.rs"]
mod insert_plan;
#[path = "writes/jobs.rs"]
mod jobs;
#[path = "writes/outcomes.rs"]
mod outcomes;
