//! The engine's inner layer rule, checked: each top-level module of this crate may use only
//! the modules below it in [`LAYERS`]. (Between crates Cargo checks it: the front ends, the
//! history and the emulator are crates of their own.) The test reads the sources (`src/`), finds
//! every `crate::<module>` path (in `use` groups too; comments skipped) and fails naming each
//! import that points up or sideways, and any cycle among the top-level modules.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The engine's top-level modules, lowest first. A module may use those before it.
const LAYERS: &[&str] = &[
    "redact",    // text leaving the process: secrets masked, control characters escaped
    "spec",      // the YAML model and its checks
    "sql",       // the parser (EXEC) and SQL values
    "memory",    // every byte a statement makes, counted in its pool
    "workspace", // workspaces and their credentials
    "client",    // HTTP: auth, retries, throttle, deadlines
    "request",   // one request path: parameter placement, pages, not-found rules
    "provider",  // tables, scans, pushdown
    "hints",     // messages users read
    "write",     // statements: EXEC, INSERT ... RETURNING
    "plugin",    // registering the tables in a SessionContext
    "session",   // a ready session; run a statement
    "output",    // printing results
    "frontend",  // what serve and mcp share: sessions per connection, the sandbox, SET checks
];

/// Every `.rs` file of a top-level module (`src/m.rs` and `src/m/**`).
fn files_of(src: &Path, module: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let file = src.join(format!("{module}.rs"));
    if file.exists() {
        out.push(file);
    }
    let mut dirs = vec![src.join(module)];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out
}

/// The source without `//` comments (a `//` inside a string ends the line early: harmless for
/// finding `crate::` paths, which are not written inside strings).
fn code_only(text: &str) -> String {
    text.lines()
        .map(|line| line.find("//").map_or(line, |i| &line[..i]))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The top-level modules a source text names through `crate::`.
fn used_modules(text: &str) -> BTreeSet<String> {
    let code = code_only(text);
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let mut out = BTreeSet::new();
    let mut rest = code.as_str();
    while let Some(i) = rest.find("crate::") {
        let after = &rest[i + "crate::".len()..];
        if let Some(group) = after.strip_prefix('{') {
            // `crate::{a, b::{c, d}, e}`: the names at depth 0 of the group.
            let mut depth = 0usize;
            let mut start = true;
            for (j, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => start = true,
                    c if start && !c.is_whitespace() => {
                        out.insert(ident(&group[j..]));
                        start = false;
                    }
                    _ => {}
                }
            }
        } else {
            out.insert(ident(after));
        }
        rest = after;
    }
    out.retain(|m| !m.is_empty() && m != "self");
    out
}

/// Which top-level module uses which (every module under `src/` but `lib`, `main` and this
/// check).
fn module_graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut modules = BTreeSet::new();
    for entry in std::fs::read_dir(src).expect("src/ is readable").flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        let name = name.strip_suffix(".rs").unwrap_or(&name).to_string();
        if !["lib", "main", "layering"].contains(&name.as_str()) {
            modules.insert(name);
        }
    }
    modules
        .iter()
        .map(|m| {
            let mut used = BTreeSet::new();
            for file in files_of(src, m) {
                let text = std::fs::read_to_string(&file).expect("source is readable");
                used.extend(used_modules(&text));
            }
            used.retain(|u| u != m && modules.contains(u));
            (m.clone(), used)
        })
        .collect()
}

/// A cycle in `graph`, as the modules on it, if there is one.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|p| p == node) {
            let mut cycle = path[i..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(c) = visit(next, graph, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|n| visit(n, graph, &mut Vec::new(), &mut done))
}

/// The imports that break the layer rule, one line each.
fn violations(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    let rank = |m: &str| LAYERS.iter().position(|l| *l == m);
    let mut out = Vec::new();
    for (module, used) in graph {
        let Some(r) = rank(module) else {
            out.push(format!("{module} is in no layer: add it to LAYERS"));
            continue;
        };
        for u in used {
            match rank(u) {
                Some(ru) if ru < r => {}
                _ => out.push(format!("{module} uses {u}, which is not below it")),
            }
        }
    }
    out
}

#[test]
fn each_module_uses_only_the_layers_below_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let graph = module_graph(&src);
    assert!(graph.len() >= LAYERS.len(), "modules found: {graph:?}");
    assert_eq!(find_cycle(&graph), None, "import cycle: {graph:#?}");
    let bad = violations(&graph);
    assert!(bad.is_empty(), "layer rule broken:\n{}", bad.join("\n"));
}

#[test]
fn the_check_sees_groups_and_reports_cycles_and_upward_imports() {
    let used = used_modules(
        "use crate::{client::{A, B}, spec};\n// crate::frontend in a comment\nlet x = crate::sql::f();",
    );
    assert_eq!(
        used.into_iter().collect::<Vec<_>>(),
        ["client", "spec", "sql"]
    );
    let graph: BTreeMap<String, BTreeSet<String>> =
        [("spec", vec!["client"]), ("client", vec!["spec"])]
            .into_iter()
            .map(|(m, u)| (m.to_string(), u.into_iter().map(String::from).collect()))
            .collect();
    assert!(find_cycle(&graph).is_some());
    let bad = violations(&graph);
    assert!(bad.contains(&"spec uses client, which is not below it".to_string()));
}
