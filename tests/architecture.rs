//! The crate's layering, read from its own source: every `crate::` path in non-test code runs
//! down the pipeline (series -> cleaning -> comparison -> tails -> classification -> scoring ->
//! verdict -> judge -> Kayenta / progressive analysis), never to a later stage, and the module
//! graph has no circle. A new import that climbs back up fails here with the file and the path.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The judge's stages in pipeline order (their submodules belong to them).
const STAGES: [&str; 6] = [
    "cleaning", "compare", "tails", "classify", "score", "verdict",
];

/// The node a source file belongs to: `stats/<file>` for the statistics (one node per file, so
/// a circle inside the layer is seen), `judge/<stage>` for a stage and its children, otherwise
/// the top-level module (`sequential`, `kayenta`, `progressive`, ... with their children).
fn node_of(rel: &Path) -> String {
    let parts: Vec<String> = rel
        .with_extension("")
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let parts: Vec<&str> = parts
        .iter()
        .map(String::as_str)
        .filter(|p| *p != "mod")
        .collect();
    match parts.as_slice() {
        ["stats", file, ..] => format!("stats/{file}"),
        ["judge", stage, ..] if STAGES.contains(stage) => format!("judge/{stage}"),
        [top, ..] => (*top).to_string(),
        [] => unreachable!("a source file has a path"),
    }
}

/// The node a `crate::a::b::...` path points into.
fn node_of_path(path: &str) -> String {
    let parts: Vec<&str> = path.split("::").collect();
    match parts.as_slice() {
        ["stats", file, ..] => format!("stats/{file}"),
        ["judge", stage, ..] if STAGES.contains(stage) => format!("judge/{stage}"),
        [top, ..] => (*top).to_string(),
        [] => unreachable!("split gives one part at least"),
    }
}

/// The layer of a node: an import must go to a strictly lower layer, except between files of the
/// statistics layer (where only a circle is refused).
fn rank(node: &str) -> u32 {
    if node.starts_with("stats/") {
        return 1;
    }
    if let Some(stage) = node.strip_prefix("judge/") {
        let k = STAGES.iter().position(|s| *s == stage).expect("a stage");
        return 3 + k as u32;
    }
    match node {
        "arms" | "error" | "serde_float" => 0,
        "sequential" | "series" | "policy" => 2,
        "judge" => 3 + STAGES.len() as u32,
        "bench" | "chart" | "kayenta" | "prometheus" | "report" => 4 + STAGES.len() as u32,
        "progressive" => 5 + STAGES.len() as u32,
        // The public facade of result types, declared in lib.rs.
        "judgment" => 6 + STAGES.len() as u32,
        "lib" => 7 + STAGES.len() as u32,
        other => panic!("module `{other}` has no layer: add it to tests/architecture.rs"),
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The `crate::` paths of a file's non-test code, comments left out.
fn crate_paths(source: &str) -> Vec<String> {
    let code = source.split("#[cfg(test)]").next().unwrap_or("");
    let mut paths = Vec::new();
    for line in code.lines() {
        let line = line.trim_start();
        if line.starts_with("//") {
            continue;
        }
        let mut rest = line;
        while let Some(at) = rest.find("crate::") {
            let tail = &rest[at + "crate::".len()..];
            let end = tail
                .find(|c: char| {
                    !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == ':')
                })
                .unwrap_or(tail.len());
            let path = tail[..end].trim_end_matches(':');
            if !path.is_empty() {
                paths.push(path.to_string());
            }
            rest = &tail[end..];
        }
    }
    paths
}

fn import_graph() -> BTreeMap<String, BTreeMap<String, String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    assert!(files.len() > 30, "found only {} source files", files.len());
    let mut graph: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for file in files {
        let rel = file.strip_prefix(&src).expect("under src").to_path_buf();
        let from = node_of(&rel);
        let text = std::fs::read_to_string(&file).expect("a readable source file");
        for path in crate_paths(&text) {
            let to = node_of_path(&path);
            if to != from {
                graph
                    .entry(from.clone())
                    .or_default()
                    .entry(to)
                    .or_insert_with(|| format!("{}: crate::{path}", rel.display()));
            }
        }
    }
    graph
}

#[test]
fn imports_run_down_the_pipeline() {
    let graph = import_graph();
    let mut climbs = Vec::new();
    for (from, edges) in &graph {
        for (to, witness) in edges {
            let both_stats = from.starts_with("stats/") && to.starts_with("stats/");
            if !both_stats && rank(to) >= rank(from) {
                climbs.push(format!("{from} -> {to} ({witness})"));
            }
        }
    }
    assert!(
        climbs.is_empty(),
        "imports that climb a layer:\n{}",
        climbs.join("\n")
    );
    // The stages themselves are seen (a renamed stage would otherwise pass vacuously).
    for stage in STAGES {
        assert!(
            graph.contains_key(&format!("judge/{stage}")),
            "no imports seen from judge/{stage}"
        );
    }
}

#[test]
fn the_module_graph_has_no_circle() {
    let graph = import_graph();
    // Depth-first search with colours: a grey node met again closes a circle.
    fn visit<'a>(
        node: &'a str,
        graph: &'a BTreeMap<String, BTreeMap<String, String>>,
        grey: &mut Vec<&'a str>,
        black: &mut BTreeSet<&'a str>,
    ) -> Option<Vec<String>> {
        if black.contains(node) {
            return None;
        }
        if let Some(at) = grey.iter().position(|n| *n == node) {
            let mut circle: Vec<String> = grey[at..].iter().map(|s| s.to_string()).collect();
            circle.push(node.to_string());
            return Some(circle);
        }
        grey.push(node);
        for to in graph.get(node).into_iter().flat_map(|e| e.keys()) {
            if let Some(c) = visit(to, graph, grey, black) {
                return Some(c);
            }
        }
        grey.pop();
        black.insert(node);
        None
    }
    let mut black = BTreeSet::new();
    for node in graph.keys() {
        let mut grey = Vec::new();
        if let Some(circle) = visit(node, &graph, &mut grey, &mut black) {
            panic!("a circle of imports: {}", circle.join(" -> "));
        }
    }
}

#[test]
fn the_scanner_sees_paths_and_skips_comments_and_tests() {
    let source = "use crate::stats::ks::KolmogorovSmirnov;\n// crate::judge::verdict::Verdict\n\
                  /// [`x`](crate::progressive)\nlet a = crate::judge::compare::relative(1.0);\n\
                  #[cfg(test)]\nmod tests { use crate::kayenta::X; }";
    assert_eq!(
        crate_paths(source),
        vec!["stats::ks", "judge::compare::relative"]
    );
    assert_eq!(node_of_path("judge::compare::relative"), "judge/compare");
    assert_eq!(
        node_of(Path::new("judge/cleaning/histogram.rs")),
        "judge/cleaning"
    );
    assert_eq!(node_of(Path::new("judge/mod.rs")), "judge");
    assert!(rank("judge/verdict") > rank("judge/cleaning"));
}
