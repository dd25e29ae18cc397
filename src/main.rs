//! The `jobsql` command: a thin shell over [`jobsql::cli`].
fn main() -> std::process::ExitCode {
    jobsql::cli::main_entry()
}
