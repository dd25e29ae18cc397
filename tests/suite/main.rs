//! The integration tests, as one binary: each test binary links DataFusion, so the twelve areas
//! below share one link (and one `cargo test` run) instead of eight. None of them needs a
//! process of its own: the tests that set environment variables do it on the `jobsql` child
//! processes they start, and the shell's pseudo-terminal is a child process too.
//!
//! A plain module tree: each area has its root (`tests/suite/<area>.rs`, with a `mod common`
//! facade naming what it uses of [`support`]) and its files (`tests/suite/<area>/*.rs`). Run
//! one area with `cargo test --test suite writes::`, one test by its name.

mod support;

/// The system allocator, telling a test thread its largest allocation ([`support::alloc`]).
#[global_allocator]
static ALLOCATOR: support::alloc::Watching = support::alloc::Watching;

mod cli;
mod client;
mod emulator;
mod history;
mod interfaces;
mod lakesail;
mod reliability;
mod select;
mod shapes;
mod signin;
mod sync;
mod writes;
