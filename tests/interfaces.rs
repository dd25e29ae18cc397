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
#[path = "interfaces/embed.rs"]
mod embed;
#[path = "interfaces/mcp.rs"]
mod mcp;
#[path = "interfaces/mcp_http.rs"]
mod mcp_http;
#[path = "interfaces/serve.rs"]
mod serve;
#[path = "interfaces/serve_arrays.rs"]
mod serve_arrays;
#[path = "interfaces/serve_cancel.rs"]
mod serve_cancel;
#[path = "interfaces/serve_clients_describe.rs"]
mod serve_clients_describe;
#[path = "interfaces/serve_clients_pgcli.rs"]
mod serve_clients_pgcli;
#[path = "interfaces/serve_clients_psql.rs"]
mod serve_clients_psql;
#[path = "interfaces/serve_clients_sqlalchemy.rs"]
mod serve_clients_sqlalchemy;
#[path = "interfaces/serve_copy.rs"]
mod serve_copy;
#[path = "interfaces/serve_cursors.rs"]
mod serve_cursors;
#[path = "interfaces/serve_insert.rs"]
mod serve_insert;
#[path = "interfaces/serve_limits.rs"]
mod serve_limits;
#[path = "interfaces/serve_memory.rs"]
mod serve_memory;
#[path = "interfaces/serve_sandbox.rs"]
mod serve_sandbox;
#[path = "interfaces/serve_security.rs"]
mod serve_security;
#[path = "interfaces/serve_soak.rs"]
mod serve_soak;
#[path = "interfaces/serve_wire.rs"]
mod serve_wire;
#[path = "interfaces/shell.rs"]
mod shell;
// The example itself, so the test runs exactly the code users read.
#[path = "../examples/embed.rs"]
#[allow(dead_code)]
mod embed_example;
