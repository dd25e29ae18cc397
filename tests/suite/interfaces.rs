//! jobsql's interfaces, end to end over real connections: the library API used from another
//! DataFusion program (examples/embed.rs), the Postgres wire-protocol server (`jobsql serve`,
//! driven by tokio-postgres), the MCP server (`jobsql mcp`, driven by the Python MCP client over
//! stdio and streamable HTTP) and the interactive shell (`jobsql shell`, piped and in a
//! pseudo-terminal). Every test runs against the emulator on 127.0.0.1:0 and asserts the rows and
//! the API requests made.

/// The shared support, as this area's tests name it.
mod common {
    pub use crate::support::emulator::{
        history_config, standard as emulator, standard_with_latency as emulator_with_latency, start,
    };
    pub use crate::support::requests::to;
}
mod embed;
mod mcp;
mod mcp_http;
mod serve;
mod serve_arrays;
mod serve_cancel;
mod serve_clients_describe;
mod serve_clients_pgcli;
mod serve_clients_psql;
mod serve_clients_sqlalchemy;
mod serve_copy;
mod serve_cursors;
mod serve_insert;
mod serve_limits;
mod serve_memory;
mod serve_sandbox;
mod serve_security;
mod serve_soak;
mod serve_wire;
mod shell;
// The example itself, so the test runs exactly the code users read.
#[path = "../../crates/jobsql-core/examples/embed.rs"]
#[allow(dead_code)]
mod embed_example;
