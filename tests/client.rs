//! The plumbing under the tables: which workspace and token a query uses, the HTTP client
//! (auth, errors, retries — against a stub server and the emulator), and the output formats.

#[path = "client/emulated.rs"]
mod emulated;
#[path = "client/http.rs"]
mod http;
#[path = "client/output.rs"]
mod output;
#[path = "client/workspace.rs"]
mod workspace;
