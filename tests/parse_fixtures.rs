//! Data-driven parser tests: every `tests/fixtures/pages/<name>.json` names a page file, its
//! print position and what the parser must produce. A new case is a new fixture, not new code.
//!
//! The expectation is matched as a subset of the parser's canonical JSON: objects need only
//! the keys they list; arrays must have the same length, element by element. So a fixture
//! pins exactly the rules it is about; a string ending in `…` is a prefix. `"error": "code"`
//! expects a failure instead, and `"absent"` lists text no article may contain.
//!
//! `tests/fixtures/issues/<issue>.json` are issue manifests for cross-page stitching: which
//! articles of an issue's pages join across a jump and which pointers link to which article.
//! `every_issue_manifest_matches_the_parser` keeps them honest against the parser's markers.

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

/// Parses a page file of `tests/fixtures/pages/` at the print position in `input` (a `RawPage`
/// in proto3 JSON) in the given format.
fn parse_file(file: &str, input: &Value, format: &str) -> pagewire::proto::Page {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/pages")
        .join(file);
    let mut input = input.clone();
    input["format"] = Value::from(format);
    let mut raw: RawPage = serde_json::from_value(input).expect("input is a RawPage");
    raw.content =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    parse_page(&raw, &Limits::default()).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// An HTML page and its markdown twin (`x.html` beside `x.md`, as a converter would write the
/// same page) yield the same articles — headlines, paragraphs, credits, references, ids and
/// versions — the same masthead and the same page credits.
#[test]
fn html_pages_yield_the_articles_of_their_markdown_twins() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pages");
    let mut pairs = 0;
    for spec_path in fixtures() {
        let spec: Value =
            serde_json::from_str(&std::fs::read_to_string(&spec_path).expect("read fixture"))
                .expect("fixture is JSON");
        let Some(file) = spec["file"].as_str().filter(|f| f.ends_with(".html")) else {
            continue;
        };
        let twin = file.replace(".html", ".md");
        if !dir.join(&twin).exists() {
            continue;
        }
        pairs += 1;
        let html = parse_file(file, &spec["input"], "PAGE_FORMAT_HTML");
        let markdown = parse_file(&twin, &spec["input"], "PAGE_FORMAT_MARKDOWN");
        assert!(!html.articles.is_empty(), "{file}: no articles");
        for (i, (h, m)) in html.articles.iter().zip(&markdown.articles).enumerate() {
            assert_eq!(h, m, "{file}: article {} differs from {twin}'s", i + 1);
        }
        assert_eq!(
            html.articles.len(),
            markdown.articles.len(),
            "{file}: article count differs from {twin}'s"
        );
        assert_eq!(html.masthead, markdown.masthead, "{file}: masthead");
        assert_eq!(html.credits, markdown.credits, "{file}: page credits");
        assert_eq!(html.warnings, markdown.warnings, "{file}: page warnings");
    }
    assert!(
        pairs >= 2,
        "HTML pages with a markdown twin missing: found {pairs}"
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

/// One page of an issue manifest (`tests/fixtures/issues/*.json`), parsed.
struct IssuePage {
    number: u32,
    label: String,
    articles: Vec<pagewire::proto::Article>,
}

/// Does the reference point at this page, by number or (for `A6`-style labels) by label?
fn points_at(r: &pagewire::proto::PageReference, page: &IssuePage) -> bool {
    (r.page_number != 0 && r.page_number == page.number)
        || r.page_label.eq_ignore_ascii_case(&page.label)
}

/// Checks one issue manifest against the parser: every id names an article, every stitched
/// pair carries matching CONTINUED_ON / CONTINUED_FROM markers (and jump words), every link
/// has its SEE_ALSO marker; and no continuation or see-also marker of the issue is left out
/// of the manifest.
fn check_issue(manifest: &Path) -> Vec<String> {
    use pagewire::proto::{Article, PageReferenceKind as K};
    let spec: Value =
        serde_json::from_str(&std::fs::read_to_string(manifest).expect("read manifest"))
            .expect("manifest is JSON");
    let pages_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pages");
    let mut pages: Vec<IssuePage> = Vec::new();
    for p in spec["pages"].as_array().expect("\"pages\" is a list") {
        let file = pages_dir.join(p["file"].as_str().expect("page \"file\""));
        let mut raw: RawPage = serde_json::from_value(serde_json::json!({
            "publication": spec["publication"],
            "issueDate": spec["issueDate"],
            "edition": spec["edition"],
            "pageNumber": p["pageNumber"],
            "pageLabel": p["pageLabel"],
            "format": p["format"],
        }))
        .expect("page position is a RawPage");
        raw.content =
            std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let page = parse_page(&raw, &Limits::default())
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        pages.push(IssuePage {
            number: raw.page_number,
            label: raw.page_label,
            articles: page.articles,
        });
    }
    let mut problems = Vec::new();
    let find = |id: &str| -> Option<(&IssuePage, &Article)> {
        let (number, ordinal) = id.split_once('/')?;
        let (number, ordinal): (u32, u32) = (number.parse().ok()?, ordinal.parse().ok()?);
        let page = pages.iter().find(|p| p.number == number)?;
        let article = page
            .articles
            .iter()
            .find(|a| a.page.as_ref().is_some_and(|pp| pp.ordinal == ordinal))?;
        Some((page, article))
    };
    let ids = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    };
    let unresolved = ids(&spec["unresolved"]);
    // ids whose CONTINUED_ON / CONTINUED_FROM / SEE_ALSO markers the manifest accounts for
    let (mut has_next, mut has_prev, mut links_from) = (Vec::new(), Vec::new(), Vec::new());

    let mut in_stitched: Vec<String> = Vec::new();
    for s in spec["stitched"].as_array().into_iter().flatten() {
        let parts = ids(&s["parts"]);
        if parts.len() < 2 {
            problems.push(format!("stitched {parts:?}: fewer than two parts"));
        }
        for id in &parts {
            if in_stitched.contains(id) {
                problems.push(format!("{id} is a part of two stitched articles"));
            }
            in_stitched.push(id.clone());
        }
        for pair in parts.windows(2) {
            let (Some((pa, a)), Some((pb, b))) = (find(&pair[0]), find(&pair[1])) else {
                continue; // reported below as a missing id
            };
            let on = a
                .references
                .iter()
                .find(|r| r.kind() == K::ContinuedOn && points_at(r, pb));
            let from = b
                .references
                .iter()
                .find(|r| r.kind() == K::ContinuedFrom && points_at(r, pa));
            match (on, from) {
                (None, _) => problems.push(format!(
                    "stitched {pair:?}: {} has no CONTINUED_ON page {}",
                    pair[0], pb.label
                )),
                (_, None) => problems.push(format!(
                    "stitched {pair:?}: {} has no CONTINUED_FROM page {}",
                    pair[1], pa.label
                )),
                (Some(on), Some(from)) => {
                    if !on.jump_word.is_empty()
                        && !from.jump_word.is_empty()
                        && on.jump_word != from.jump_word
                    {
                        problems.push(format!(
                            "stitched {pair:?}: jump words {} and {} differ",
                            on.jump_word, from.jump_word
                        ));
                    }
                }
            }
            has_next.push(pair[0].clone());
            has_prev.push(pair[1].clone());
        }
        if let (Some(head), Some(want)) = (
            parts.first().and_then(|id| find(id)),
            s["headline"].as_str(),
        ) {
            if head.1.headline != want {
                problems.push(format!(
                    "stitched {parts:?}: head headline is {:?}, manifest says {want:?}",
                    head.1.headline
                ));
            }
        }
        for id in &parts {
            if find(id).is_none() {
                problems.push(format!("stitched part {id} is no article"));
            }
        }
    }
    for l in spec["linked"].as_array().into_iter().flatten() {
        let (from, to) = (
            l["from"].as_str().unwrap_or_default(),
            l["to"].as_str().unwrap_or_default(),
        );
        match (find(from), find(to)) {
            (Some((_, a)), Some((pb, _))) => {
                if !a
                    .references
                    .iter()
                    .any(|r| r.kind() == K::SeeAlso && points_at(r, pb))
                {
                    problems.push(format!(
                        "linked {from} → {to}: {from} has no SEE_ALSO page {}",
                        pb.label
                    ));
                }
                links_from.push(from.to_owned());
            }
            _ => problems.push(format!("linked {from} → {to}: an id is no article")),
        }
    }
    for id in &unresolved {
        match find(id) {
            None => problems.push(format!("unresolved {id} is no article")),
            Some((_, a))
                if !a
                    .references
                    .iter()
                    .any(|r| matches!(r.kind(), K::ContinuedOn | K::ContinuedFrom)) =>
            {
                problems.push(format!("unresolved {id} has no continuation marker"))
            }
            Some(_) => {}
        }
    }
    // The other way round: every marker of the issue is in the manifest.
    for page in &pages {
        for a in &page.articles {
            let id = format!(
                "{}/{}",
                page.number,
                a.page.as_ref().map_or(0, |p| p.ordinal)
            );
            let listed = |v: &[String]| v.contains(&id) || unresolved.contains(&id);
            for r in &a.references {
                let missing = match r.kind() {
                    K::ContinuedOn => !listed(&has_next),
                    K::ContinuedFrom => !listed(&has_prev),
                    K::SeeAlso => {
                        pages.iter().any(|p| points_at(r, p)) && !links_from.contains(&id)
                    }
                    _ => false,
                };
                if missing {
                    problems.push(format!(
                        "{id} has {:?} {:?}, which the manifest does not account for",
                        r.kind(),
                        r.text
                    ));
                }
            }
        }
    }
    problems
}

#[test]
fn every_issue_manifest_matches_the_parser() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/issues");
    let mut all: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("issue manifest directory")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    all.sort();
    assert!(
        all.len() >= 3,
        "issue manifests missing: found {}",
        all.len()
    );
    let mut failures = Vec::new();
    for manifest in &all {
        for p in check_issue(manifest) {
            failures.push(format!(
                "{}: {p}",
                manifest.file_name().unwrap_or_default().to_string_lossy()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} manifest mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
