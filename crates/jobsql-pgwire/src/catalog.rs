//! The Postgres catalog bits BI tools, psql and drivers ask for, and the rewrites of the
//! Postgres SQL they send that DataFusion does not plan. Everything here is per session and
//! read-only: tables and functions registered once per connection, and statements rewritten
//! in their parsed form before planning.
//!
//! - [`session`]: what a session gets (`register`): `version()`, `pg_catalog.pg_type`,
//!   `pg_namespace`, `pg_class`, `pg_am`;
//! - [`relation_tables`]: `pg_attribute`, `pg_description`, `pg_database`, `pg_settings`,
//!   `pg_roles`, built from the relations [`session`] lists;
//! - [`empty_tables`]: `pg_proc`, `pg_policy`, ...: the right columns, no rows;
//! - [`functions`]: `current_user`, `format_type`, `to_regclass`, ...;
//! - [`settings`]: the Postgres settings `SHOW` and `pg_settings` report;
//! - [`rewrite`]: the rewrite rules, one file each, run from one list.
//!
//! Type names all come from [`crate::encode::types`], below this part.

pub mod settings;
pub mod empty_tables;
pub mod functions;
pub mod relation_tables;
pub mod session;
pub mod rewrite;
