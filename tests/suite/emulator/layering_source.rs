//! The emulator's source read as a module graph, for the layering check (`layering`): every
//! `.rs` file under src/emulator with its module path, and the modules each one uses. Every
//! `super::…`, `self::…` and `crate::emulator::…` path, and every path starting with a module
//! the file declares (`mod x;` … `x::…`, `pub use x::…`), is resolved to the module it names
//! (`a::b::Item` to `a::b`); a `crate::` path outside the emulator is a use of the engine.
//! Comments and `#[cfg(test)] mod` blocks are not read. A sub-emulator (`lakesail`) is a tree
//! of its own below `emulator`, with the same layers under its root (`lakesail::state::…`);
//! `shared` (what both emulators use) is read like a layer (`shared::wire::x` to `shared::wire`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

pub const LAYERS: [&str; 4] = ["state", "domain", "render", "routes"];

/// The module both emulators share (`shared::record`, ...): at the bottom, beside `state`.
pub const SHARED_ROOT: &str = "shared";

/// The sub-emulators: each has its own layers under its root module.
pub const SUBTREES: [&str; 1] = ["lakesail"];

/// How long the root of the emulator `module` is in: 0 (the Databricks emulator, `emulator`)
/// or 1 (a sub-emulator, e.g. `lakesail`).
pub fn root_len(module: &[String]) -> usize {
    usize::from(
        module
            .first()
            .is_some_and(|m| SUBTREES.contains(&m.as_str())),
    )
}

/// Which module (path below `emulator`) uses which.
pub type Graph = BTreeMap<Vec<String>, BTreeSet<Vec<String>>>;

/// A module's name: its path below `emulator`, or `emulator` for `mod.rs`.
pub fn name(module: &[String]) -> String {
    if module.is_empty() {
        "emulator".to_string()
    } else {
        module.join("::")
    }
}

/// Every `.rs` file under `dir`, with its module path below `emulator`.
pub fn files(dir: &Path, prefix: &[String], out: &mut Vec<(PathBuf, Vec<String>)>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("src/emulator is readable")
        .map(|e| e.expect("a directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("")
            .to_string();
        if path.is_dir() {
            let mut p = prefix.to_vec();
            p.push(name);
            files(&path, &p, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let mut p = prefix.to_vec();
            if name != "mod" {
                p.push(name);
            }
            out.push((path, p));
        }
    }
}

/// The code of a file without comments and without its `#[cfg(test)] mod` (the test module
/// closes a file; another `#[cfg(test)]` item is read).
pub fn code(text: &str) -> String {
    let test_mod = text.match_indices("#[cfg(test)]").find(|(k, a)| {
        let after = text[k + a.len()..].trim_start();
        after.starts_with("mod ") || after.starts_with("pub(crate) mod ")
    });
    let text = match test_mod {
        Some((k, _)) => &text[..k],
        None => text,
    };
    text.lines()
        .map(|l| match l.find("//") {
            Some(k) => &l[..k],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// An identifier at the start of `s`, and what follows it (after a `::`).
pub fn ident(s: &str) -> (&str, &str) {
    let s = s.trim_start();
    let end = s
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    let tail = &s[end..];
    (&s[..end], tail.strip_prefix("::").unwrap_or(""))
}

/// The items of a `{a, b::c}` group at the start of `s` (nested groups are not split).
pub fn group(s: &str) -> Option<Vec<&str>> {
    let inner = s.trim_start().strip_prefix('{')?;
    let end = inner.find('}').unwrap_or(inner.len());
    Some(
        inner[..end]
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .collect(),
    )
}

/// The modules `path` names from `base`: `base` plus its first segment, plus a second one
/// when `base` is an emulator's root and the first is a layer (`state::store`) or, from the
/// top, the shared module (`shared::wire`), one per item
/// of a `{…}` group; from the top, `lakesail::…` is resolved from the sub-emulator's root.
pub fn resolve(base: &[String], path: &str) -> Vec<Vec<String>> {
    if let Some(items) = group(path) {
        return items.into_iter().flat_map(|p| resolve(base, p)).collect();
    }
    let (first, tail) = ident(path);
    if first.is_empty() || first == "self" {
        return vec![base.to_vec()];
    }
    let mut m = base.to_vec();
    m.push(first.to_string());
    let at_root = base.len() == root_len(base);
    if base.is_empty() && SUBTREES.contains(&first) && !tail.is_empty() {
        return resolve(&m, tail);
    }
    let shared = base.is_empty() && first == SHARED_ROOT;
    if at_root && (LAYERS.contains(&first) || shared) && !tail.is_empty() {
        let n = base.len() + 2;
        let mut out: Vec<Vec<String>> = resolve(&m, tail);
        out.retain(|x| x.len() <= n);
        out.iter_mut().for_each(|x| x.truncate(n));
        if !out.is_empty() {
            return out;
        }
    }
    vec![m]
}

/// The modules a file declares (`mod x;`, `pub(crate) mod x;`).
pub fn children(code: &str) -> Vec<String> {
    code.lines()
        .filter_map(|l| {
            let l = l.trim();
            let l = l
                .strip_prefix("pub(crate) ")
                .or_else(|| l.strip_prefix("pub "))
                .unwrap_or(l);
            let name = l.strip_prefix("mod ")?.strip_suffix(';')?.trim();
            (!name.is_empty()).then(|| name.to_string())
        })
        .collect()
}

/// The modules (paths below `emulator`) that the file of module `me` uses, and whether it
/// uses the engine (a `crate::` path outside the emulator).
pub fn uses(code: &str, me: &[String]) -> (BTreeSet<Vec<String>>, bool) {
    let mut out = BTreeSet::new();
    let mut engine = false;
    let kids = children(code);
    let bytes = code.as_bytes();
    for (k, _) in code.char_indices() {
        let rest = &code[k..];
        let starts =
            k == 0 || !(bytes[k - 1].is_ascii_alphanumeric() || b"_:".contains(&bytes[k - 1]));
        if !starts {
            continue;
        }
        if let Some(after) = rest.strip_prefix("crate::") {
            match after.strip_prefix("emulator::") {
                Some(path) => out.extend(resolve(&[], path)),
                None => engine = true,
            }
        } else if rest.starts_with("super::") {
            let mut base = me.to_vec();
            let mut tail = rest;
            while let Some(t) = tail.strip_prefix("super::") {
                base.pop();
                tail = t;
            }
            out.extend(resolve(&base, tail));
        } else if let Some(tail) = rest.strip_prefix("self::") {
            out.extend(resolve(me, tail));
        } else if kids.iter().any(|c| {
            rest.strip_prefix(c.as_str())
                .is_some_and(|t| t.starts_with("::"))
        }) {
            out.extend(resolve(me, rest));
        }
    }
    (out, engine)
}

/// Which module uses which, for every file of the emulator.
pub fn graph() -> (Graph, Vec<String>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/emulator");
    let mut all = Vec::new();
    files(&root, &[], &mut all);
    assert!(
        all.len() > 10,
        "the emulator's files are found under {root:?}"
    );
    let mut graph = BTreeMap::new();
    let mut engine = Vec::new();
    for (path, module) in all {
        let text = std::fs::read_to_string(&path).expect("a source file is readable");
        let (used, uses_engine) = uses(&code(&text), &module);
        if uses_engine {
            engine.push(path.display().to_string());
        }
        graph.insert(module, used);
    }
    (graph, engine)
}

/// The file (module of the graph) a used path is in: the longest prefix that is a file.
pub fn file_of(graph: &Graph, u: &[String]) -> Option<Vec<String>> {
    (0..=u.len())
        .rev()
        .map(|n| u[..n].to_vec())
        .find(|p| graph.contains_key(p))
}
