//! The module dependency graph of `src/` has no cycles: neither between top-level modules
//! (`route`, `stitch`, `config`, ...) nor between the submodules of `service`.
//!
//! Reads every file of the library under `src/` and collects the paths it names: `crate::x`
//! anywhere in code (imports and inline paths alike) gives an edge to the top-level module `x`;
//! inside `src/service/`, `super::x` and `crate::service::x` give an edge to the submodule `x`,
//! where an item re-exported by `service/mod.rs` (`pub use nats::backoff`) counts as its
//! submodule. Comments are skipped. Items defined in `service/mod.rs` itself belong to the parent
//! and are not a submodule edge.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Graph = BTreeMap<String, BTreeSet<String>>;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("reading {dir:?}: {e}"));
    for entry in entries {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The file's code without comments (line comments, doc comments and block comments).
fn code(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("//") {
            rest = after.find('\n').map_or("", |i| &after[i..]);
        } else if let Some(after) = rest.strip_prefix("/*") {
            rest = after.find("*/").map_or("", |i| &after[i + 2..]);
        } else if let Some(after) = rest.strip_prefix("'\"'") {
            rest = after; // the char literal '"'
        } else if rest.starts_with('"') {
            // Skip string literals (a subject like "a//b" is no comment).
            let mut end = 1;
            let bytes = rest.as_bytes();
            while end < bytes.len() && bytes[end] != b'"' {
                end += if bytes[end] == b'\\' { 2 } else { 1 };
            }
            rest = &rest[(end + 1).min(rest.len())..];
            out.push_str("\"\"");
        } else {
            let c = rest.chars().next().expect("non-empty");
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The identifiers that follow `prefix` in `code`: `crate::route::x` gives `route`,
/// `crate::{route::x, stitch}` gives `route` and `stitch`.
fn names_after(code: &str, prefix: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut from = 0;
    while let Some(i) = code[from..].find(prefix) {
        let start = from + i;
        from = start + prefix.len();
        if code[..start].chars().next_back().is_some_and(is_ident) {
            continue; // e.g. `pagewire::crate::` or `my_super::`
        }
        let rest = &code[from..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = matching_brace(group);
            names.extend(group_heads(&group[..end]));
        } else {
            let name: String = rest.chars().take_while(|&c| is_ident(c)).collect();
            if !name.is_empty() {
                names.push(name);
            }
        }
    }
    names
}

fn matching_brace(s: &str) -> usize {
    let mut depth = 0;
    for (i, c) in s.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => return i,
            '}' => depth -= 1,
            _ => {}
        }
    }
    s.len()
}

/// First path segment of each top-level item of a use group.
fn group_heads(group: &str) -> Vec<String> {
    let mut heads = Vec::new();
    let mut depth = 0;
    let mut at_start = true;
    let mut current = String::new();
    for c in group.chars() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                at_start = true;
                if !current.is_empty() {
                    heads.push(std::mem::take(&mut current));
                }
                continue;
            }
            _ => {}
        }
        if depth == 0 && at_start {
            if is_ident(c) {
                current.push(c);
            } else if !current.is_empty() {
                at_start = false;
            }
        }
    }
    if !current.is_empty() {
        heads.push(current);
    }
    heads
}

/// The library's top-level modules, from `src/lib.rs`.
fn top_level_modules(src: &Path) -> BTreeSet<String> {
    let lib = std::fs::read_to_string(src.join("lib.rs")).expect("src/lib.rs");
    lib.lines()
        .filter_map(|l| {
            let l = l.trim();
            let l = l.strip_prefix("pub ").unwrap_or(l);
            l.strip_prefix("mod ")?.strip_suffix(';').map(str::to_owned)
        })
        .collect()
}

/// The top-level module a file under `src/` belongs to.
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).ok()?;
    let first = rel.components().next()?.as_os_str().to_str()?;
    Some(first.trim_end_matches(".rs").to_owned())
}

/// Items `service/mod.rs` re-exports from a submodule: `pub use nats::{backoff, connect}`
/// maps `backoff` and `connect` to `nats`.
fn reexports(mod_rs: &str, submodules: &BTreeSet<String>) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    let code = code(mod_rs);
    for statement in code.split(';') {
        let Some(path) = statement.trim().strip_prefix("pub use ") else {
            continue;
        };
        let Some((sub, items)) = path.split_once("::") else {
            continue;
        };
        if !submodules.contains(sub.trim()) {
            continue;
        }
        let items = items.trim().trim_start_matches('{').trim_end_matches('}');
        for item in items.split(',') {
            let item = item.split("::").last().unwrap_or("").trim();
            let item = item.rsplit(" as ").next().unwrap_or(item).trim();
            if !item.is_empty() {
                map.insert(item.to_owned(), sub.trim().to_owned());
            }
        }
    }
    map
}

fn top_level_graph(src: &Path) -> Graph {
    let modules = top_level_modules(src);
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let mut graph = Graph::new();
    for file in files {
        let Some(from) = module_of(src, &file) else {
            continue;
        };
        if !modules.contains(&from) {
            continue; // main.rs and the binary's cli/
        }
        let text = std::fs::read_to_string(&file).expect("source file");
        for to in names_after(&code(&text), "crate::") {
            if to != from && modules.contains(&to) {
                graph.entry(from.clone()).or_default().insert(to);
            }
        }
    }
    graph
}

fn service_graph(src: &Path) -> Graph {
    let dir = src.join("service");
    let mod_rs = std::fs::read_to_string(dir.join("mod.rs")).expect("src/service/mod.rs");
    let submodules: BTreeSet<String> = code(&mod_rs)
        .lines()
        .filter_map(|l| {
            let l = l.trim();
            let l = l.strip_prefix("pub ").unwrap_or(l);
            l.strip_prefix("mod ")?.strip_suffix(';').map(str::to_owned)
        })
        .collect();
    let reexported = reexports(&mod_rs, &submodules);
    let mut graph = Graph::new();
    for from in &submodules {
        let text = std::fs::read_to_string(dir.join(format!("{from}.rs")))
            .unwrap_or_else(|e| panic!("src/service/{from}.rs: {e}"));
        let code = code(&text);
        let named = names_after(&code, "super::")
            .into_iter()
            .chain(names_after(&code, "crate::service::"));
        for name in named {
            let to = if submodules.contains(&name) {
                name
            } else if let Some(sub) = reexported.get(&name) {
                sub.clone()
            } else {
                continue; // an item of service/mod.rs itself
            };
            if &to != from {
                graph.entry(from.clone()).or_default().insert(to);
            }
        }
    }
    graph
}

/// Every cycle's nodes, as found by a depth-first search (one path per cycle found).
fn cycles(graph: &Graph) -> Vec<Vec<String>> {
    fn visit(
        node: &str,
        graph: &Graph,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
        found: &mut Vec<Vec<String>>,
    ) {
        if let Some(i) = path.iter().position(|n| n == node) {
            let mut cycle = path[i..].to_vec();
            cycle.push(node.to_owned());
            found.push(cycle);
            return;
        }
        if done.contains(node) {
            return;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            visit(next, graph, path, done, found);
        }
        path.pop();
        done.insert(node.to_owned());
    }
    let mut found = Vec::new();
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        visit(node, graph, &mut Vec::new(), &mut done, &mut found);
    }
    found
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn render(graph: &Graph) -> String {
    graph
        .iter()
        .map(|(from, to)| {
            format!(
                "  {from} -> {}",
                to.iter().cloned().collect::<Vec<_>>().join(", ")
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn top_level_modules_have_no_cycles() {
    let graph = top_level_graph(&src());
    println!("{}", render(&graph));
    assert!(
        graph.contains_key("route") && graph.contains_key("service"),
        "the scan found too little; graph:\n{}",
        render(&graph)
    );
    let found = cycles(&graph);
    assert!(
        found.is_empty(),
        "module cycles in src/: {found:?}\ngraph:\n{}",
        render(&graph)
    );
}

#[test]
fn service_submodules_have_no_cycles() {
    let graph = service_graph(&src());
    println!("{}", render(&graph));
    assert!(
        graph.contains_key("worker"),
        "the scan found too little; graph:\n{}",
        render(&graph)
    );
    let found = cycles(&graph);
    assert!(
        found.is_empty(),
        "cycles between src/service submodules: {found:?}\ngraph:\n{}",
        render(&graph)
    );
}

/// The leaves: `position` (the print-position rules, used by the envelope and the parser
/// alike) and `topic` (the output topics) import nothing of the crate but the generated types,
/// so a cycle can never run through them.
#[test]
fn leaves_import_only_proto() {
    let graph = top_level_graph(&src());
    for leaf in ["position", "topic"] {
        assert!(
            graph.contains_key(leaf),
            "{leaf} not in the graph:\n{}",
            render(&graph)
        );
        let imports: Vec<&String> = graph[leaf].iter().filter(|m| *m != "proto").collect();
        assert!(
            imports.is_empty(),
            "{leaf} must import only proto, imports {imports:?}"
        );
    }
    for user in ["envelope", "parse"] {
        assert!(
            graph.get(user).is_some_and(|to| to.contains("position")),
            "{user} takes the print-position rules from position:\n{}",
            render(&graph)
        );
    }
}

/// The scanner itself: a cycle it is shown is a cycle it reports.
#[test]
fn the_scanner_sees_imports_and_cycles() {
    let code = code("use crate::{route::x, stitch};\n// crate::alert\nlet a = crate::config::X;");
    assert_eq!(names_after(&code, "crate::"), ["route", "stitch", "config"]);
    let mut graph = Graph::new();
    graph.entry("a".into()).or_default().insert("b".into());
    graph.entry("b".into()).or_default().insert("a".into());
    assert_eq!(cycles(&graph).len(), 1);
    graph.get_mut("b").expect("b").clear();
    assert!(cycles(&graph).is_empty());
}
