//! Embeds every YAML file under the workspace's `provider-spec/` into the library (the default
//! specs). `src/spec/files.rs` is compiled in here too: the build and `--spec-dir` find the same
//! files.
use std::fmt::Write as _;
use std::path::PathBuf;

#[path = "src/spec/files.rs"]
mod files;

fn main() -> std::io::Result<()> {
    println!("cargo:rerun-if-changed=../../provider-spec");
    // The workspace's root: this crate is crates/jobsql-core.
    let crate_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let root = crate_dir.join("../..").canonicalize()?;
    let files = files::spec_files(&root.join("provider-spec"))?;
    let mut code = String::from("&[\n");
    for file in &files {
        let shown = file
            .strip_prefix(&root)
            .unwrap_or(file)
            .display()
            .to_string();
        writeln!(
            code,
            "    ({shown:?}, include_str!({:?})),",
            file.display().to_string()
        )
        .expect("writing to a String");
    }
    code.push(']');
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("set by cargo"));
    std::fs::write(out.join("embedded_specs.rs"), code)
}
