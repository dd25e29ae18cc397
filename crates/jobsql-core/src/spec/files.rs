//! Finding spec files: every `*.yaml` / `*.yml` below a directory, sorted.
//!
//! Shared by the library (`--spec-dir`) and `build.rs` (which embeds `provider-spec/`), so the
//! two cannot disagree on which files are specs.

use std::path::{Path, PathBuf};

/// The spec files below `dir`, sorted by path.
pub fn spec_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            if path.is_dir() {
                walk(&path, out)?;
            } else if matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("yaml" | "yml")
            ) {
                out.push(path);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(dir, &mut out)?;
    out.sort();
    Ok(out)
}
