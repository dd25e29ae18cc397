//! The emulator's layering, read from its source: `state` → `domain` → `render` → `routes`
//! (then the top: `mod.rs`, `server`, `handle`, `command`), one way down. Every `super::…`,
//! `self::…` and `crate::emulator::…` path in a file under src/emulator, and every path
//! starting with a module the file declares (`mod x;` … `x::…`, `pub use x::…`), is resolved
//! to the module it names; a file may use its own layer and the layers below, a handler
//! module under `routes/` no other handler module (only the router, `routes/mod.rs`, names
//! them), no file imports the engine (`crate::` outside the emulator), and the files have no
//! import cycle (re-exports count). Comments and `#[cfg(test)] mod` blocks are not read.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const LAYERS: [&str; 4] = ["state", "domain", "render", "routes"];

/// Which module (path below `emulator`) uses which.
type Graph = BTreeMap<Vec<String>, BTreeSet<Vec<String>>>;

/// The layer rank of a module path below `emulator` (`["domain", "lifecycle"]` → 1); the
/// top (`mod.rs`, `handle`, `command`) is above all layers.
fn rank(module: &[String]) -> usize {
    module
        .first()
        .and_then(|m| LAYERS.iter().position(|l| l == m))
        .unwrap_or(LAYERS.len())
}

/// A module's name: its path below `emulator`, or `emulator` for `mod.rs`.
fn name(module: &[String]) -> String {
    if module.is_empty() {
        "emulator".to_string()
    } else {
        module.join("::")
    }
}

/// Every `.rs` file under `dir`, with its module path below `emulator`.
fn files(dir: &Path, prefix: &[String], out: &mut Vec<(PathBuf, Vec<String>)>) {
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
fn code(text: &str) -> String {
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
fn ident(s: &str) -> (&str, &str) {
    let s = s.trim_start();
    let end = s
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    let tail = &s[end..];
    (&s[..end], tail.strip_prefix("::").unwrap_or(""))
}

/// The items of a `{a, b::c}` group at the start of `s` (nested groups are not split).
fn group(s: &str) -> Option<Vec<&str>> {
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
/// when the first is a layer (`state::store`), one per item of a `{…}` group.
fn resolve(base: &[String], path: &str) -> Vec<Vec<String>> {
    if let Some(items) = group(path) {
        return items.into_iter().flat_map(|p| resolve(base, p)).collect();
    }
    let (first, tail) = ident(path);
    if first.is_empty() || first == "self" {
        return vec![base.to_vec()];
    }
    let mut m = base.to_vec();
    m.push(first.to_string());
    if m.len() == 1 && LAYERS.contains(&first) && !tail.is_empty() {
        let mut out: Vec<Vec<String>> = resolve(&m, tail);
        out.retain(|x| x.len() <= 2);
        out.iter_mut().for_each(|x| x.truncate(2));
        if !out.is_empty() {
            return out;
        }
    }
    vec![m]
}

/// The modules a file declares (`mod x;`, `pub(crate) mod x;`).
fn children(code: &str) -> Vec<String> {
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
fn uses(code: &str, me: &[String]) -> (BTreeSet<Vec<String>>, bool) {
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
fn graph() -> (Graph, Vec<String>) {
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

/// The problems of the graph: a use of a layer above, or of a sibling handler module.
fn violations(graph: &Graph) -> Vec<String> {
    let mut bad = Vec::new();
    for (module, used) in graph {
        let own = rank(module);
        for u in used {
            if u.is_empty() || u == module {
                continue;
            }
            if rank(u) > own {
                bad.push(format!("{} uses {} (a layer above)", name(module), name(u)));
            }
            let handler = module.len() == 2 && module[0] == "routes";
            let other_handler = || u.len() >= 2 && u[0] == "routes" && u[1] != module[1];
            if handler && other_handler() {
                bad.push(format!(
                    "{} uses the handler module {}",
                    name(module),
                    name(u)
                ));
            }
        }
    }
    bad
}

/// The file (module of the graph) a used path is in: the longest prefix that is a file.
fn file_of(graph: &Graph, u: &[String]) -> Option<Vec<String>> {
    (0..=u.len())
        .rev()
        .map(|n| u[..n].to_vec())
        .find(|p| graph.contains_key(p))
}

/// A cycle among the files (a module using, through others, itself), if any; a used path
/// that is not a file (an item of a `mod.rs`) counts as that `mod.rs`.
fn cycle(graph: &Graph) -> Option<Vec<String>> {
    let file = |u: &Vec<String>| file_of(graph, u);
    fn visit(
        m: &Vec<String>,
        edges: &dyn Fn(&Vec<String>) -> Vec<Vec<String>>,
        path: &mut Vec<Vec<String>>,
        done: &mut BTreeSet<Vec<String>>,
    ) -> Option<Vec<String>> {
        if let Some(k) = path.iter().position(|p| p == m) {
            return Some(path[k..].iter().chain([m]).map(|p| name(p)).collect());
        }
        if !done.insert(m.clone()) {
            return None;
        }
        path.push(m.clone());
        for next in edges(m) {
            if let Some(c) = visit(&next, edges, path, done) {
                return Some(c);
            }
        }
        path.pop();
        None
    }
    let edges = |m: &Vec<String>| -> Vec<Vec<String>> {
        graph[m]
            .iter()
            .filter_map(file)
            .filter(|f| f != m)
            .collect()
    };
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|m| visit(m, &edges, &mut Vec::new(), &mut done))
}

#[test]
fn the_emulator_layers_point_one_way_down_and_no_handler_uses_another() {
    let (graph, engine) = graph();
    let bad = violations(&graph);
    assert!(bad.is_empty(), "layering violations:\n{}", bad.join("\n"));
    assert!(engine.is_empty(), "files importing the engine: {engine:?}");
    assert_eq!(cycle(&graph), None, "an import cycle");
    // The check sees the imports it is about: the router names handler modules, handlers use
    // the layers below, the life cycle reads the store.
    let get = |m: &str| {
        graph
            .get(&m.split("::").map(str::to_string).collect::<Vec<_>>())
            .unwrap_or_else(|| panic!("module {m} is found"))
    };
    let has =
        |m: &str, u: &str| get(m).contains(&u.split("::").map(str::to_string).collect::<Vec<_>>());
    assert!(has("routes", "domain::errors"), "{:?}", get("routes"));
    assert!(has("handle", "state::faults"), "{:?}", get("handle"));
    assert!(
        has("routes::runs_read", "render::run"),
        "{:?}",
        get("routes::runs_read")
    );
    assert!(
        has("domain::lifecycle", "state::store"),
        "{:?}",
        get("domain::lifecycle")
    );
    assert!(
        has("state::store", "state::history"),
        "{:?}",
        get("state::store")
    );
    assert!(has("routes", "routes::runs_read"), "{:?}", get("routes"));
    assert!(has("server", "routes::router"), "{:?}", get("server"));
    let top = &graph[&Vec::new()];
    assert!(top.contains(&vec!["server".to_string()]), "{top:?}");
    // The graph, for `--nocapture` readers (file-level: `a::b::Item` counts as `a::b`).
    for (module, used) in &graph {
        let files: BTreeSet<Vec<String>> = used
            .iter()
            .filter_map(|u| file_of(&graph, u))
            .filter(|f| f != module)
            .collect();
        let used: Vec<String> = files.iter().map(|u| name(u)).collect();
        println!("{} -> {}", name(module), used.join(", "));
    }
}

#[test]
fn the_layering_check_reads_declared_modules_self_paths_and_test_only_items() {
    let module = |m: &str| m.split("::").map(str::to_string).collect::<Vec<_>>();
    // A facade re-exporting a module that uses the facade's own items is a cycle.
    let mut graph = BTreeMap::new();
    let (top, _) = uses(
        &code("mod command;\npub use command::{run_command, Args};\npub fn start() {}\n"),
        &[],
    );
    assert_eq!(top, [module("command")].into());
    graph.insert(Vec::new(), top);
    let (command, _) = uses(&code("use super::{start, Config};\n"), &module("command"));
    graph.insert(module("command"), command);
    assert_eq!(
        cycle(&graph),
        Some(vec![
            "emulator".to_string(),
            "command".to_string(),
            "emulator".to_string()
        ])
    );
    // The router's bare handler paths, `self::` paths, and a test-only item that is not the
    // test module are read; the test module is not.
    let (router, _) = uses(
        &code(
            "mod runs_read;\nfn r() { get(runs_read::list); self::x::y(); }\n\
             #[cfg(test)]\nuse crate::emulator::state::data;\n\
             #[cfg(test)]\nmod tests { use crate::emulator::render::run; }\n",
        ),
        &module("routes"),
    );
    assert_eq!(
        router,
        [
            module("routes::runs_read"),
            module("routes::x"),
            module("state::data")
        ]
        .into()
    );
}

#[test]
fn the_layering_check_catches_an_upward_use_and_a_handler_using_another() {
    let module = |m: &str| m.split("::").map(str::to_string).collect::<Vec<_>>();
    let mut graph = BTreeMap::new();
    let (store_uses, _) = uses(
        &code("use crate::emulator::domain::lifecycle;\n// use crate::emulator::routes::x;\n"),
        &module("state::store"),
    );
    graph.insert(module("state::store"), store_uses);
    let (handler_uses, _) = uses(
        &code(
            "use super::{runs_read, middleware};\nfn f() { super::super::render::run::render(); }",
        ),
        &module("routes::jobs_read"),
    );
    assert!(
        handler_uses.contains(&module("render::run")),
        "{handler_uses:?}"
    );
    graph.insert(module("routes::jobs_read"), handler_uses);
    let bad = violations(&graph);
    assert_eq!(
        bad,
        vec![
            "routes::jobs_read uses the handler module routes::middleware".to_string(),
            "routes::jobs_read uses the handler module routes::runs_read".to_string(),
            "state::store uses domain::lifecycle (a layer above)".to_string(),
        ]
    );
    let mut cyclic = BTreeMap::new();
    cyclic.insert(module("domain::lifecycle"), [module("state::store")].into());
    assert_eq!(cycle(&cyclic), None);
    cyclic.insert(module("state::store"), [module("domain::lifecycle")].into());
    assert_eq!(
        cycle(&cyclic),
        Some(vec![
            "domain::lifecycle".into(),
            "state::store".into(),
            "domain::lifecycle".into()
        ])
    );
    let (_, engine) = uses(
        &code("use crate::provider::ApiTable;"),
        &module("render::run"),
    );
    assert!(engine, "an import of the engine is seen");
}
