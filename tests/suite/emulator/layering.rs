//! The emulator's layering, checked on its source (read by `layering_source`): `state` →
//! `domain` → `render` → `routes` (then the top: `mod.rs`, `server`, `handle`, `command`),
//! one way down. A file may use its own layer and the layers below, a handler module under
//! `routes/` no other handler module (only the router, `routes/mod.rs`, names them), no file
//! imports the engine (`crate::` outside the emulator), and the files have no import cycle
//! (re-exports count). The LakeSail emulator (`lakesail/`) has the same layers under its own
//! root and stands apart: the Databricks emulator uses nothing of it, and it uses of the
//! Databricks emulator only the generic pieces in [`SHARED`] (the clock, after-commit faults).
//! What both use is written once in `shared/` (the request record, the middleware's generic
//! pieces, serving): it sits at the bottom beside `state` (rank 0), and uses nothing of either
//! emulator but [`SHARED`].

use std::collections::{BTreeMap, BTreeSet};

use super::layering_source::*;

/// What a sub-emulator may use of the Databricks emulator: its generic pieces.
const SHARED: [&str; 2] = ["state::clock", "state::faults"];

/// The layer rank of a module path below `emulator` (`["domain", "lifecycle"]` → 1, as is
/// `["lakesail", "domain", "rules"]`); the top (`mod.rs`, `server`, `handle`, `command`) is
/// above all layers.
fn rank(module: &[String]) -> usize {
    if module.first().is_some_and(|m| m == SHARED_ROOT) {
        return 0;
    }
    module[root_len(module)..]
        .first()
        .and_then(|m| LAYERS.iter().position(|l| l == m))
        .unwrap_or(LAYERS.len())
}

/// The problems of the graph: a use of a layer above, or of a sibling handler module.
fn violations(graph: &Graph) -> Vec<String> {
    let mut bad = Vec::new();
    for (module, used) in graph {
        let own = rank(module);
        for u in used {
            if u == module {
                continue;
            }
            if rank(u) > own {
                bad.push(format!("{} uses {} (a layer above)", name(module), name(u)));
            }
            let (root, inner) = module.split_at(root_len(module));
            let (u_root, u_inner) = u.split_at(root_len(u));
            let handler = inner.len() == 2 && inner[0] == "routes";
            let other_handler = || {
                u_root == root
                    && u_inner.len() >= 2
                    && u_inner[0] == "routes"
                    && u_inner[1] != inner[1]
            };
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

/// The uses across the two emulators: any use of LakeSail's modules from the Databricks
/// emulator, any use from LakeSail's of a Databricks module that is not [`SHARED`] (or in
/// `shared/`), and any use from `shared/` of a module of either emulator but [`SHARED`].
fn crossings(graph: &Graph) -> Vec<String> {
    let in_shared = |u: &[String]| u.first().is_some_and(|m| m == SHARED_ROOT);
    let shared = |u: &[String]| in_shared(u) || SHARED.iter().any(|s| name(u) == *s);
    let mut bad = Vec::new();
    for (module, used) in graph {
        let sub = root_len(module) == 1;
        for u in used {
            let u_sub = root_len(u) == 1;
            if in_shared(module) && !shared(u) {
                bad.push(format!(
                    "{} uses {} (the shared module uses only shared pieces)",
                    name(module),
                    name(u)
                ));
                continue;
            }
            if !sub && u_sub {
                bad.push(format!(
                    "{} uses {} (of the LakeSail emulator)",
                    name(module),
                    name(u)
                ));
            }
            if sub && !u_sub && !shared(u) {
                bad.push(format!(
                    "{} uses {} (not a shared piece)",
                    name(module),
                    name(u)
                ));
            }
        }
    }
    bad
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
        &code(
            "use crate::emulator::domain::lifecycle;\n// use crate::emulator::routes::x;\n\
             fn f() { super::super::EmulatorConfig::default(); }\n",
        ),
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
            "state::store uses EmulatorConfig (a layer above)".to_string(),
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

#[test]
fn the_lakesail_emulator_is_layered_the_same_way_and_stands_apart() {
    let (graph, engine) = graph();
    assert!(engine.is_empty(), "files importing the engine: {engine:?}");
    let crossing = crossings(&graph);
    assert!(
        crossing.is_empty(),
        "uses across the emulators:\n{}",
        crossing.join("\n")
    );
    let module = |m: &str| m.split("::").map(str::to_string).collect::<Vec<_>>();
    let has = |m: &str, u: &str| {
        graph
            .get(&module(m))
            .unwrap_or_else(|| panic!("module {m} is found"))
            .contains(&module(u))
    };
    // The check sees LakeSail's own layers, and its uses of the shared pieces.
    for (m, u) in [
        ("lakesail::routes::runs_read", "lakesail::render::run"),
        ("lakesail::routes::runs_write", "lakesail::domain::rules"),
        ("lakesail::routes::middleware", "shared::wire"),
        ("lakesail::handle", "state::faults"),
        ("lakesail::handle", "shared::serving"),
        ("lakesail::state::app", "shared::record"),
        ("routes::middleware", "shared::wire"),
        ("handle", "shared::serving"),
        ("server", "shared::record"),
        ("shared::wire", "state::faults"),
        ("lakesail::render::run", "lakesail::domain::lifecycle"),
        ("lakesail::domain::rules", "lakesail::state::store"),
        ("lakesail::state::app", "state::clock"),
        ("lakesail::state::store", "lakesail::state::rng"),
        ("lakesail::server", "lakesail::routes::router"),
        ("lakesail", "lakesail::server"),
    ] {
        assert!(has(m, u), "{m} uses {u}: {:?}", graph.get(&module(m)));
    }
    assert!(
        graph.keys().filter(|k| root_len(k) == 1).count() > 15,
        "LakeSail's files are read"
    );
}

#[test]
fn the_layering_check_catches_lakesail_going_up_or_across() {
    let module = |m: &str| m.split("::").map(str::to_string).collect::<Vec<_>>();
    let mut graph = BTreeMap::new();
    let mut add = |m: &str, text: &str| {
        let (used, _) = uses(&code(text), &module(m));
        graph.insert(module(m), used);
    };
    add(
        "lakesail::state::store",
        "use crate::emulator::lakesail::domain::rules;\nuse crate::emulator::state::clock::Clock;",
    );
    add(
        "lakesail::routes::jobs",
        "use super::runs_read;\nuse crate::emulator::domain::errors::ApiError;",
    );
    add(
        "routes::runs_read",
        "use crate::emulator::lakesail::render::run;",
    );
    add(
        "lakesail::render::run",
        "use super::super::state::model::Run;",
    );
    add(
        "shared::wire",
        "use crate::emulator::state::faults;\nuse crate::emulator::domain::errors::ApiError;\n\
         fn f() { crate::emulator::lakesail::state::rng::mix(1); }",
    );
    add(
        "lakesail::routes::middleware",
        "use crate::emulator::shared::wire::{self, roll};",
    );
    add(
        "state::store",
        "use crate::emulator::shared::record::Recorder;",
    );
    assert!(graph[&module("lakesail::render::run")].contains(&module("lakesail::state::model")));
    assert_eq!(
        violations(&graph),
        vec![
            "lakesail::routes::jobs uses the handler module lakesail::routes::runs_read"
                .to_string(),
            "lakesail::state::store uses lakesail::domain::rules (a layer above)".to_string(),
            "shared::wire uses domain::errors (a layer above)".to_string(),
        ]
    );
    assert_eq!(
        crossings(&graph),
        vec![
            "lakesail::routes::jobs uses domain::errors (not a shared piece)".to_string(),
            "routes::runs_read uses lakesail::render::run (of the LakeSail emulator)".to_string(),
            "shared::wire uses domain::errors (the shared module uses only shared pieces)"
                .to_string(),
            "shared::wire uses lakesail::state::rng (the shared module uses only shared pieces)"
                .to_string(),
        ]
    );
}
