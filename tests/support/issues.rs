//! Issue manifests (`tests/fixtures/issues/*.json`, format in the README there): the pages of
//! one issue and what stitching must make of them, with ids written `<page>/<ordinal>`.

use std::path::{Path, PathBuf};

use pagewire::proto::{PageFormat, RawPage};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    pub publication: String,
    pub issue_date: String,
    #[serde(default)]
    pub edition: String,
    pub pages: Vec<ManifestPage>,
    #[serde(default)]
    pub stitched: Vec<Stitched>,
    #[serde(default)]
    pub linked: Vec<Linked>,
    #[serde(default)]
    pub unresolved: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManifestPage {
    pub file: String,
    pub page_number: u32,
    pub page_label: String,
    pub format: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Stitched {
    pub parts: Vec<String>,
    pub headline: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Linked {
    pub from: String,
    pub to: String,
}

pub fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/issues")
}

/// Every manifest, by file stem.
pub fn all() -> Vec<(String, Manifest)> {
    let mut out: Vec<(String, Manifest)> = std::fs::read_dir(dir())
        .expect("issue manifests")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| {
            let m: Manifest = serde_json::from_slice(&std::fs::read(&p).expect("manifest"))
                .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p.file_stem().unwrap().to_string_lossy().into_owned(), m)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

pub fn load(name: &str) -> Manifest {
    all()
        .into_iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no manifest {name}"))
        .1
}

impl Manifest {
    /// The full article id of `<page>/<ordinal>`.
    pub fn id(&self, short: &str) -> String {
        let edition = if self.edition.is_empty() {
            "main"
        } else {
            &self.edition
        };
        format!("{}/{}/{edition}/{short}", self.publication, self.issue_date)
    }

    /// The manifest's pages as raw page events.
    pub fn raw_pages(&self) -> Vec<RawPage> {
        let pages = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pages");
        self.pages
            .iter()
            .map(|p| RawPage {
                publication: self.publication.clone(),
                issue_date: self.issue_date.clone(),
                edition: self.edition.clone(),
                page_number: p.page_number,
                page_label: p.page_label.clone(),
                format: PageFormat::from_str_name(&p.format).expect("format name") as i32,
                content: std::fs::read_to_string(pages.join(&p.file)).expect("page file"),
                ..Default::default()
            })
            .collect()
    }
}
