//! The plumbing under the tables: which workspace and token a query uses, the HTTP client
//! (auth, errors, retries — against a stub server and the emulator), and the output formats.

mod emulated;
mod http;
mod output;
mod workspace;
