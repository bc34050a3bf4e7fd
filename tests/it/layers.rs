//! src/ is layered: no file reaches, through `crate::` paths, a file that
//! reaches it back (INTERNALS.md, "Layers"). A cycle would mean a change in
//! a low layer cannot be understood without the layers above it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Each top-level file or folder module of src/, with the modules its code
/// (not its comments, not its unit tests) names as `crate::module`.
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = BTreeMap::new();
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if path.extension().is_some_and(|e| e == "rs") && name != "lib" {
            files.insert(name, std::fs::read_to_string(&path).unwrap());
        }
    }
    let modules: BTreeSet<String> = files.keys().cloned().collect();
    files
        .iter()
        .map(|(name, text)| {
            let code = text.split("#[cfg(test)]\nmod tests").next().unwrap_or("");
            let used = code
                .lines()
                .filter(|line| !line.trim_start().starts_with("//"))
                .flat_map(|line| line.split("crate::").skip(1))
                .map(|rest| {
                    rest.split(|c: char| !c.is_alphanumeric() && c != '_')
                        .next()
                        .unwrap_or("")
                })
                .filter(|used| modules.contains(*used) && used != name)
                .map(str::to_owned)
                .collect();
            (name.clone(), used)
        })
        .collect()
}

/// The modules `from` reaches, directly or not.
fn reach(graph: &BTreeMap<String, BTreeSet<String>>, from: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo = vec![from.to_owned()];
    while let Some(module) = todo.pop() {
        for next in graph.get(&module).into_iter().flatten() {
            if seen.insert(next.clone()) {
                todo.push(next.clone());
            }
        }
    }
    seen
}

#[test]
fn no_src_file_imports_one_that_imports_it_back() {
    let graph = imports();
    assert!(graph.len() > 20, "src/ read: {:?}", graph.keys());
    let cycles: Vec<String> = graph
        .keys()
        .filter(|module| reach(&graph, module).contains(*module))
        .cloned()
        .collect();
    assert!(cycles.is_empty(), "modules in an import cycle: {cycles:?}");
}

#[test]
fn the_checker_sees_a_cycle() {
    let mut graph = imports();
    graph
        .entry("text".into())
        .or_default()
        .insert("engine".into());
    assert!(reach(&graph, "text").contains("text"));
}
