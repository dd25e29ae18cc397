//! The `jobsql` command: SQL over job APIs from the terminal ([`cli`]: `query`, `shell`,
//! `serve`, `mcp`, `sync`, `emulator`), over the workspace's crates: the engine
//! (`jobsql-core`), the run history (`jobsql-history`), the Postgres server (`jobsql-pgwire`),
//! the MCP server (`jobsql-mcp`) and the emulator behind `--demo` (`jobsql-emulator`).

mod cli;
mod shell;

fn main() -> std::process::ExitCode {
    cli::main_entry()
}
