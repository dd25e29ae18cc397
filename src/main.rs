//! The `jobsql` command: a thin shell over [`jobsql::cli`].
fn main() -> std::process::ExitCode {
    std::process::ExitCode::SUCCESS
}
