//! Data-driven parser tests: every `tests/fixtures/pages/<name>.json` names a page file, its
//! print position and what the parser must produce. A new case is a new fixture, not new code.
//!
//! The expectation is matched as a subset of the parser's canonical JSON: objects need only
//! the keys they list; arrays must have the same length, element by element. So a fixture
//! pins exactly the rules it is about; a string ending in `…` is a prefix. `"error": "code"`
//! expects a failure instead, and `"absent"` lists text no article may contain.

use std::path::{Path, PathBuf};

use pagewire::parse::{parse_page, Limits};
use pagewire::proto::RawPage;
use serde_json::Value;

fn fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pages");
    let mut all: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("fixture directory")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    all.sort();
    all
}

/// Checks `actual` against the subset `expected`; returns the path of every mismatch.
fn mismatches(expected: &Value, actual: &Value, path: &str, out: &mut Vec<String>) {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (k, ev) in e {
                let av = a.get(k).unwrap_or(&Value::Null);
                mismatches(ev, av, &format!("{path}.{k}"), out);
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            if e.len() != a.len() {
                out.push(format!(
                    "{path}: expected {} items, got {}: {}",
                    e.len(),
                    a.len(),
                    short(actual)
                ));
                return;
            }
            for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                mismatches(ev, av, &format!("{path}[{i}]"), out);
            }
        }
        // proto3 JSON omits empty arrays and zero values
        (Value::Array(e), Value::Null) if e.is_empty() => {}
        (Value::String(e), Value::Null) if e.is_empty() => {}
        (Value::Number(e), Value::Null) if e.as_u64() == Some(0) => {}
        // "text…" matches any string that starts with "text"
        (Value::String(e), Value::String(a))
            if e.ends_with('…') && a.starts_with(e.trim_end_matches('…')) => {}
        (e, a) if e == a => {}
        (e, a) => out.push(format!("{path}: expected {e}, got {}", short(a))),
    }
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 300 {
        format!("{}…", s.chars().take(300).collect::<String>())
    } else {
        s
    }
}

fn check(fixture: &Path) -> Vec<String> {
    let spec: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture).expect("read fixture"))
            .expect("fixture is JSON");
    let page_file = fixture
        .parent()
        .expect("parent")
        .join(spec["file"].as_str().expect("\"file\" names the page"));
    let content = std::fs::read_to_string(&page_file)
        .unwrap_or_else(|e| panic!("{}: {e}", page_file.display()));
    let mut raw: RawPage = serde_json::from_value(spec["input"].clone())
        .expect("\"input\" is a RawPage in proto3 JSON");
    raw.content = content;
    let mut problems = Vec::new();
    match (parse_page(&raw, &Limits::default()), spec.get("error")) {
        (Ok(page), None) => {
            let actual = serde_json::to_value(&page).expect("page to JSON");
            mismatches(&spec["expect"], &actual, "page", &mut problems);
            // headlines and paragraphs must be free of the markers and credits the fixture forbids
            if let Some(forbidden) = spec.get("absent").and_then(Value::as_array) {
                let text: String = page
                    .articles
                    .iter()
                    .flat_map(|a| {
                        std::iter::once(&a.headline)
                            .chain(&a.subheadlines)
                            .chain(&a.paragraphs)
                    })
                    .map(|s| format!("{s}\n"))
                    .collect();
                for f in forbidden.iter().filter_map(Value::as_str) {
                    if text.contains(f) {
                        problems.push(format!(
                            "articles contain {f:?}, which must have been removed"
                        ));
                    }
                }
            }
        }
        (Err(e), Some(code)) if code.as_str() == Some(e.code()) => {}
        (Ok(_), Some(code)) => problems.push(format!("expected error {code}, parsed fine")),
        (Err(e), _) => problems.push(format!("unexpected error {}: {e}", e.code())),
    }
    problems
}

#[test]
fn every_fixture_parses_as_expected() {
    let all = fixtures();
    assert!(all.len() >= 10, "fixtures missing: found {}", all.len());
    let mut failures = Vec::new();
    for fixture in &all {
        for p in check(fixture) {
            failures.push(format!(
                "{}: {p}",
                fixture.file_name().unwrap_or_default().to_string_lossy()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} fixture mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn the_subset_matcher_catches_differences() {
    let mut out = Vec::new();
    mismatches(
        &serde_json::json!({"a": [1, 2]}),
        &serde_json::json!({"a": [1, 3], "b": 0}),
        "x",
        &mut out,
    );
    assert_eq!(out, vec!["x.a[1]: expected 2, got 3"]);
    out.clear();
    mismatches(
        &serde_json::json!({"a": [1]}),
        &serde_json::json!({"a": [1, 3]}),
        "x",
        &mut out,
    );
    assert_eq!(out.len(), 1);
}
