//! The write path over real HTTP against the emulator: INSERT → runs/submit, DELETE →
//! runs/delete, EXEC → the spec's methods, the `jobs` resource (YAML only), and dry runs.

#[path = "writes/common.rs"]
mod common;
#[path = "writes/ddl.rs"]
mod ddl;
#[path = "writes/delete.rs"]
mod delete;
#[path = "writes/delete_exact.rs"]
mod delete_exact;
#[path = "writes/dry_run.rs"]
mod dry_run;
#[path = "writes/exec.rs"]
mod exec;
#[path = "writes/insert.rs"]
mod insert;
#[path = "writes/insert_plan.rs"]
mod insert_plan;
#[path = "writes/jobs.rs"]
mod jobs;
#[path = "writes/outcomes.rs"]
mod outcomes;
