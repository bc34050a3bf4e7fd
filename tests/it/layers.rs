//! src/ is layered: no file reaches, through `crate::` paths, a file that
//! reaches it back, and each file uses only files of lower layers of
//! INTERNALS.md's "Layers" table. A cycle would mean a change in a low layer
//! cannot be understood without the layers above it.

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

/// INTERNALS.md's "Layers" table: each file named in a numbered row, with
/// the row's layer.
fn documented_layers() -> BTreeMap<String, u32> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("INTERNALS.md");
    let text = std::fs::read_to_string(path).unwrap();
    let section = text.split("## Layers").nth(1).unwrap_or("");
    let section = section.split("\n## ").next().unwrap_or("");
    let mut layers = BTreeMap::new();
    for line in section.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let (Some(layer), Some(files)) = (cells.get(1), cells.get(2)) else {
            continue;
        };
        let Ok(layer) = layer.parse::<u32>() else {
            continue;
        };
        for file in files.split(',') {
            layers.insert(file.trim().trim_matches('`').to_owned(), layer);
        }
    }
    layers
}

/// The files missing from `layers`, and each import of a file by one of a
/// lower or the same layer.
fn layer_breaks(
    graph: &BTreeMap<String, BTreeSet<String>>,
    layers: &BTreeMap<String, u32>,
) -> Vec<String> {
    let mut breaks = Vec::new();
    for (module, used) in graph {
        let Some(own) = layers.get(module) else {
            breaks.push(format!("{module} is in no layer"));
            continue;
        };
        for other in used {
            match layers.get(other) {
                Some(layer) if layer < own => {}
                Some(layer) => breaks.push(format!(
                    "{module} (layer {own}) uses {other} (layer {layer})"
                )),
                None => {}
            }
        }
    }
    breaks
}

#[test]
fn each_src_file_uses_only_lower_layers_of_internals_md() {
    let graph = imports();
    let layers = documented_layers();
    assert!(layers.len() > 20, "layers read: {layers:?}");
    let breaks = layer_breaks(&graph, &layers);
    assert!(
        breaks.is_empty(),
        "INTERNALS.md's layers broken: {breaks:?}"
    );
}

#[test]
fn the_layer_checker_sees_an_upward_import_and_an_unlisted_file() {
    let mut graph = imports();
    let layers = documented_layers();
    graph
        .entry("text".into())
        .or_default()
        .insert("engine".into());
    graph.entry("unlisted".into()).or_default();
    let breaks = layer_breaks(&graph, &layers);
    assert!(breaks.iter().any(|b| b.starts_with("text ")), "{breaks:?}");
    assert!(
        breaks.contains(&"unlisted is in no layer".to_owned()),
        "{breaks:?}"
    );
}
