//! Embeds every YAML file under `provider-spec/` into the binary (the default specs).
use std::fmt::Write as _;
use std::path::PathBuf;

#[path = "src/spec/files.rs"]
mod files;

fn main() -> std::io::Result<()> {
    println!("cargo:rerun-if-changed=provider-spec");
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
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
