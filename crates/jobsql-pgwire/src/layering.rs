//! No import cycles between the files of this crate, checked: the test reads the sources
//! (`src/`), builds the graph of which file uses which, and fails naming every cycle.
//!
//! A file uses another when its code names an item of it: `crate::a::b::Item` (the file of the
//! longest module prefix that is a file: `src/a/b.rs`), `super::x` (relative to the file's
//! module), a child module's path in its parent (`use server::limits` in `lib.rs`), in `use`
//! groups too (`crate::a::{b, c::{d, e}}`), `pub use` re-exports included. Comments, string
//! literals and `#[cfg(test)]` items are skipped; `mod x;` declarations are structure, not uses.
//! A cycle is broken by moving the shared piece down into a file both may use, never by hiding
//! a use.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// A module path (`["protocol", "simple"]`; empty for the crate root).
type Module = Vec<String>;

/// Every `.rs` file under `dir`, by module path, with its text.
fn sources(dir: &Path, prefix: &Module, out: &mut BTreeMap<Module, String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().to_string();
        if path.is_dir() {
            let mut inner = prefix.clone();
            inner.push(name);
            sources(&path, &inner, out);
        } else if let Some(stem) = name.strip_suffix(".rs") {
            let mut module = prefix.clone();
            if !(prefix.is_empty() && (stem == "lib" || stem == "main")) {
                module.push(stem.to_string());
            }
            let text = std::fs::read_to_string(&path).expect("source is readable");
            out.insert(module, text);
        }
    }
}

/// The file of `module`, as the report names it.
fn file_name(module: &Module) -> String {
    if module.is_empty() {
        "lib.rs".into()
    } else {
        format!("{}.rs", module.join("/"))
    }
}

/// `text` without comments, without the contents of string and character literals, and
/// without `#[cfg(test)]` items.
fn code_only(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match (c, next) {
            ('/', Some('/')) => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            ('/', Some('*')) => {
                let mut depth = 0usize;
                while i < chars.len() {
                    match (chars[i], chars.get(i + 1).copied()) {
                        ('/', Some('*')) => {
                            depth += 1;
                            i += 2;
                        }
                        ('*', Some('/')) => {
                            depth -= 1;
                            i += 2;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => i += 1,
                    }
                }
                out.push(' ');
            }
            ('r', Some('"' | '#'))
                if i == 0 || !(chars[i - 1].is_alphanumeric() || chars[i - 1] == '_') =>
            {
                // A raw string: r"...", r#"..."#.
                let mut j = i + 1;
                let mut hashes = 0;
                while chars.get(j) == Some(&'#') {
                    hashes += 1;
                    j += 1;
                }
                if chars.get(j) != Some(&'"') {
                    out.push(c);
                    i += 1;
                    continue;
                }
                j += 1;
                while j < chars.len() {
                    if chars[j] == '"' && (0..hashes).all(|h| chars.get(j + 1 + h) == Some(&'#')) {
                        j += 1 + hashes;
                        break;
                    }
                    j += 1;
                }
                out.push_str("\"\"");
                i = j;
            }
            ('"', _) => {
                i += 1;
                while i < chars.len() && chars[i] != '"' {
                    i += if chars[i] == '\\' { 2 } else { 1 };
                }
                i += 1;
                out.push_str("\"\"");
            }
            ('\'', Some('\\')) => {
                i += 2;
                while i < chars.len() && chars[i] != '\'' {
                    i += 1;
                }
                i += 1;
                out.push_str("' '");
            }
            ('\'', Some(_)) if chars.get(i + 2) == Some(&'\'') => {
                i += 3;
                out.push_str("' '");
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    without_test_items(&out)
}

/// `code` without the items marked `#[cfg(test)]` (a `mod tests { ... }`, a `mod x;`).
fn without_test_items(code: &str) -> String {
    let mut out = String::with_capacity(code.len());
    let mut rest = code;
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        let item = &rest[at..];
        let end = match (item.find('{'), item.find(';')) {
            (Some(open), semi) if semi.is_none_or(|s| open < s) => {
                let mut depth = 0usize;
                let mut end = item.len();
                for (j, c) in item[open..].char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                end = open + j + 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                end
            }
            (_, Some(semi)) => semi + 1,
            _ => item.len(),
        };
        rest = &item[end..];
    }
    out.push_str(rest);
    out
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The paths named at the start of `code` (`a::b::{c, d::e}` → `a::b::c`, `a::b::d::e`): each a list
/// of segments.
fn paths_at(code: &str) -> Vec<Vec<String>> {
    let mut segments = Vec::new();
    let mut rest = code;
    loop {
        let name: String = rest.chars().take_while(|c| is_ident(*c)).collect();
        if name.is_empty() {
            break;
        }
        rest = &rest[name.len()..];
        segments.push(name);
        let after = rest.trim_start();
        let Some(more) = after.strip_prefix("::") else {
            break;
        };
        let more = more.trim_start();
        if let Some(group) = more.strip_prefix('{') {
            // A group: each item at depth 0, itself a path (or a group).
            let mut out = Vec::new();
            let mut depth = 0usize;
            let mut start = 0;
            let mut items = Vec::new();
            for (j, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        items.push(&group[start..j]);
                        break;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        items.push(&group[start..j]);
                        start = j + 1;
                    }
                    _ => {}
                }
            }
            for item in items {
                for tail in paths_at(item.trim_start()) {
                    let mut path = segments.clone();
                    path.extend(tail.into_iter().filter(|s| s != "self"));
                    out.push(path);
                }
            }
            return out;
        }
        rest = more;
    }
    vec![segments]
}

/// The absolute paths `code` (of module `module`, whose child modules are `children`) names.
fn named_paths(code: &str, module: &Module, children: &BTreeSet<String>) -> Vec<Module> {
    let mut out = Vec::new();
    for (at, _) in code.char_indices() {
        let before = code[..at].chars().next_back();
        if before.is_some_and(|c| is_ident(c) || c == ':' || c == '$') {
            continue;
        }
        let rest = &code[at..];
        let starts = |word: &str| {
            rest.strip_prefix(word)
                .is_some_and(|r| r.trim_start().starts_with("::"))
        };
        let base: Module = if starts("crate") {
            Vec::new()
        } else if starts("super") || starts("self") {
            module.clone()
        } else {
            let first: String = rest.chars().take_while(|c| is_ident(*c)).collect();
            // A child of `module` named from inside it: the path is relative to `module`.
            if children.contains(&first) && rest[first.len()..].trim_start().starts_with("::") {
                for tail in paths_at(rest) {
                    let mut full = module.clone();
                    full.extend(tail);
                    out.push(full);
                }
            }
            continue;
        };
        for mut tail in paths_at(rest) {
            // The first segment is `crate`, `self` or `super` (maybe `super::super`).
            let mut full = base.clone();
            if tail.first().is_some_and(|s| s == "super") {
                full.pop();
            }
            for s in tail.drain(..).skip(1) {
                if s == "super" {
                    full.pop();
                } else {
                    full.push(s);
                }
            }
            out.push(full);
        }
    }
    out
}

/// Which file uses which (`src`'s modules with their texts).
fn file_graph(modules: &BTreeMap<Module, String>) -> BTreeMap<String, BTreeSet<String>> {
    modules
        .iter()
        .map(|(module, text)| {
            let children: BTreeSet<String> = modules
                .keys()
                .filter(|m| m.len() == module.len() + 1 && m.starts_with(module))
                .filter_map(|m| m.last().cloned())
                .collect();
            let mut used = BTreeSet::new();
            for path in named_paths(&code_only(text), module, &children) {
                // The file of the longest prefix of `path` that is a module.
                let target = (0..=path.len())
                    .rev()
                    .map(|k| path[..k].to_vec())
                    .find(|m| modules.contains_key(m));
                if let Some(target) = target {
                    if &target != module {
                        used.insert(file_name(&target));
                    }
                }
            }
            (file_name(module), used)
        })
        .collect()
}

/// Every cycle of `graph`, as the strongly connected components of more than one file.
fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    // Which files each file reaches.
    let reach = |from: &str| -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from.to_string()];
        while let Some(node) = todo.pop() {
            for next in graph.get(&node).into_iter().flatten() {
                if seen.insert(next.clone()) {
                    todo.push(next.clone());
                }
            }
        }
        seen
    };
    let reached: BTreeMap<&String, BTreeSet<String>> =
        graph.keys().map(|k| (k, reach(k))).collect();
    let mut out: Vec<Vec<String>> = Vec::new();
    for (node, from) in &reached {
        if !from.contains(*node) || out.iter().any(|c| c.contains(node)) {
            continue;
        }
        let component: Vec<String> = from
            .iter()
            .filter(|other| reached.get(other).is_some_and(|r| r.contains(*node)))
            .cloned()
            .collect();
        out.push(component);
    }
    out
}

#[test]
fn no_file_imports_a_file_that_imports_it_back() {
    let mut modules = BTreeMap::new();
    sources(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &Vec::new(),
        &mut modules,
    );
    let graph = file_graph(&modules);
    assert!(graph.len() > 30, "files found: {:?}", graph.keys());
    assert!(
        graph["protocol/simple.rs"].contains("protocol/connection.rs"),
        "{graph:#?}"
    );
    let found = cycles(&graph);
    assert!(
        found.is_empty(),
        "import cycles between files (each a set of files that use one another):\n{}",
        found
            .iter()
            .map(|c| c.join(" ⇄ "))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn the_check_sees_paths_groups_and_cycles() {
    let modules: BTreeMap<Module, String> = [
        (vec![], "pub mod a;\npub mod b;\npub use a::x::Thing;\n"),
        (
            vec!["a"],
            "//! `crate::b::y` in a comment\npub mod x;\nconst S: &str = \"crate::b::y\";\n",
        ),
        (
            vec!["a", "x"],
            "use crate::{b::{y::{self, Y}, z}, Top};\n#[cfg(test)]\nmod tests { use crate::a::w; }\n",
        ),
        (vec!["a", "w"], "fn f() {}\n"),
        (vec!["b"], "pub mod y;\npub mod z;\n"),
        (vec!["b", "y"], "fn f() { super::super::a::x::g() }\n"),
        (vec!["b", "z"], "use super::y::Y;\n"),
    ]
    .into_iter()
    .map(|(m, t)| (m.into_iter().map(String::from).collect(), t.to_string()))
    .collect();
    let graph = file_graph(&modules);
    let set = |names: &[&str]| names.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    assert_eq!(graph["lib.rs"], set(&["a/x.rs"]));
    assert_eq!(graph["a.rs"], set(&[]), "comments and strings are not uses");
    assert_eq!(graph["a/x.rs"], set(&["b/y.rs", "b/z.rs", "lib.rs"]));
    assert_eq!(graph["b/y.rs"], set(&["a/x.rs"]));
    assert_eq!(graph["b/z.rs"], set(&["b/y.rs"]));
    // lib ⇄ a/x (a re-export, a use of the root), a/x → b/y → a/x, a/x → b/z → b/y.
    assert_eq!(
        cycles(&graph),
        vec![["a/x.rs", "b/y.rs", "b/z.rs", "lib.rs"]
            .map(String::from)
            .to_vec()]
    );
    let acyclic: BTreeMap<String, BTreeSet<String>> =
        [("a.rs", set(&["b.rs"])), ("b.rs", set(&[]))]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
    assert!(cycles(&acyclic).is_empty());
}
