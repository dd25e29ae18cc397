//! Arrow ⇄ Postgres: the types columns and parameters are announced as, and their values in
//! text and binary. Nothing here knows a statement or a connection; the protocol (answers)
//! and the catalog (what `pg_type`, `format_type` and `information_schema` say) both read
//! the one type mapping here, so that what a catalog says a column is and what a client
//! receives cannot differ.
//!
//! Lowest first (each file uses only those before it):
//!
//! - [`types`]: the one mapping of Arrow types to Postgres types and their names.
//! - [`text_forms`]: Postgres' text forms read back (a data row's fields, `{a,b}` arrays).
//! - [`columns`]: a result column as sent, value by value; lists of scalars as arrays.
//! - [`rows`]: a schema's row description and a batch's data rows.
//! - [`params`]: bind parameters decoded into `ScalarValue`s.

pub mod types;
pub mod text_forms;
pub mod columns;
pub mod rows;
pub mod params;
