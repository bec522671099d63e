//! `pagewire eval [DIR]`: parses every annotated page of a corpus and scores the result against
//! its gold annotation, per page, per source family and overall. The scoring is
//! [`pagewire::eval`]; this module reads the files, checks their sha256 and times the parser.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use pagewire::eval::{self, Counts, GoldPage, Scores};
use pagewire::parse::{self, Limits};
use pagewire::proto::{PageFormat, RawPage};

/// Arguments of `pagewire eval`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The corpus folder: `gold/<id>.json` annotations, page texts under `text/`, and
    /// optionally `sources.toml` (file names and sha256 of the texts).
    #[arg(default_value = "tests/corpus")]
    pub dir: PathBuf,
    /// Only pages of this source family (repeatable).
    #[arg(long)]
    pub family: Vec<String>,
    /// Only this page id (repeatable).
    #[arg(long)]
    pub page: Vec<String>,
    /// Print the figures as one JSON document instead of tables.
    #[arg(long)]
    pub json: bool,
    /// Under each page, show how its articles lined up with the gold.
    #[arg(long)]
    pub explain: bool,
    /// Exit 1 when a family's article-boundary F1 is below this.
    #[arg(long)]
    pub min_f1: Option<f64>,
    /// Exit 1 when a family's share of pages with the exact article count is below this.
    #[arg(long)]
    pub min_exact: Option<f64>,
    /// Exit 1 when a family's headline match rate is below this.
    #[arg(long)]
    pub min_headline: Option<f64>,
    /// Exit 1 when a family's credit recall is below this.
    #[arg(long)]
    pub min_credit_recall: Option<f64>,
    /// Exit 1 when a family's credit precision is below this.
    #[arg(long)]
    pub min_credit_precision: Option<f64>,
    /// Exit 1 when a family's reference recall is below this.
    #[arg(long)]
    pub min_reference_recall: Option<f64>,
    /// Exit 1 when more furniture or credit lines than this leaked into paragraphs (per family).
    #[arg(long)]
    pub max_leaks: Option<usize>,
    /// Score the pages that are there when some texts are missing or differ (still named).
    #[arg(long)]
    pub allow_missing: bool,
}

#[derive(Debug, Deserialize)]
struct Sources {
    #[serde(default)]
    page: Vec<Source>,
}

#[derive(Debug, Deserialize)]
struct Source {
    id: String,
    file: String,
    sha256: String,
}

#[derive(Debug, Serialize)]
struct PageReport {
    id: String,
    family: String,
    parse_ms: f64,
    error: Option<String>,
    counts: Counts,
    scores: Scores,
}

#[derive(Debug, Serialize)]
struct GroupReport {
    name: String,
    counts: Counts,
    scores: Scores,
    parse_ms: f64,
}

#[derive(Debug, Serialize)]
struct Report {
    missing: Vec<String>,
    pages: Vec<PageReport>,
    families: Vec<GroupReport>,
    overall: GroupReport,
    failures: Vec<String>,
}

fn load_sources(dir: &Path) -> anyhow::Result<BTreeMap<String, Source>> {
    let path = dir.join("sources.toml");
    if !path.exists() {
        return Ok(BTreeMap::new());
    }
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let sources: Sources =
        toml::from_str(&text).with_context(|| format!("{} is not valid", path.display()))?;
    Ok(sources
        .page
        .into_iter()
        .map(|s| (s.id.clone(), s))
        .collect())
}

/// The text file of a page: as `sources.toml` names it, else `text/<id>.*`.
fn text_path(dir: &Path, id: &str, sources: &BTreeMap<String, Source>) -> Option<PathBuf> {
    if let Some(s) = sources.get(id) {
        return Some(dir.join("text").join(&s.file));
    }
    let entries = std::fs::read_dir(dir.join("text")).ok()?;
    let mut found: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.file_stem().and_then(|s| s.to_str()) == Some(id))
        .collect();
    found.sort();
    found.into_iter().next()
}

fn format_of(s: &str) -> PageFormat {
    match s {
        "markdown" => PageFormat::Markdown,
        "plain" => PageFormat::PlainText,
        "html" => PageFormat::Html,
        _ => PageFormat::Unspecified,
    }
}

/// Runs `pagewire eval`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let gold_dir = args.dir.join("gold");
    let sources = load_sources(&args.dir)?;
    let mut gold_files: Vec<PathBuf> = std::fs::read_dir(&gold_dir)
        .with_context(|| format!("cannot read {}", gold_dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    gold_files.sort();
    if gold_files.is_empty() {
        bail!("no gold annotations in {}", gold_dir.display());
    }
    let mut missing = Vec::new();
    let mut pages = Vec::new();
    let mut explained = String::new();
    for path in gold_files {
        let gold: GoldPage = serde_json::from_str(
            &std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read {}", path.display()))?,
        )
        .with_context(|| format!("{} is not a gold annotation", path.display()))?;
        if (!args.family.is_empty() && !args.family.contains(&gold.family))
            || (!args.page.is_empty() && !args.page.contains(&gold.id))
        {
            continue;
        }
        let Some(text_file) = text_path(&args.dir, &gold.id, &sources) else {
            missing.push(format!(
                "{}: no text under {}/text",
                gold.id,
                args.dir.display()
            ));
            continue;
        };
        let Ok(bytes) = std::fs::read(&text_file) else {
            missing.push(format!("{}: {} is missing", gold.id, text_file.display()));
            continue;
        };
        if let Some(s) = sources.get(&gold.id) {
            let got = hex(&Sha256::digest(&bytes));
            if !got.eq_ignore_ascii_case(&s.sha256) {
                missing.push(format!(
                    "{}: {} has sha256 {got}, sources.toml says {}",
                    gold.id,
                    text_file.display(),
                    s.sha256
                ));
                continue;
            }
        }
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let problems = gold.check(&text);
        if !problems.is_empty() {
            bail!(
                "{}: the annotation does not fit its text: {}",
                path.display(),
                problems.join("; ")
            );
        }
        let raw = RawPage {
            publication: gold.position.publication.clone(),
            issue_date: gold.position.issue_date.clone(),
            page_number: gold.position.page_number,
            page_label: gold.position.page_label.clone(),
            format: format_of(&gold.format) as i32,
            content: text.clone(),
            ..RawPage::default()
        };
        let started = Instant::now();
        let parsed = parse::parse_page(&raw, &Limits::default());
        let parse_ms = started.elapsed().as_secs_f64() * 1000.0;
        let score = eval::score_page(&gold, &text, parsed.as_ref().ok());
        if args.explain {
            explain(&mut explained, &gold, parsed.as_ref().ok(), &score);
        }
        pages.push(PageReport {
            id: gold.id.clone(),
            family: gold.family.clone(),
            parse_ms,
            error: parsed.err().map(|e| format!("{}: {e}", e.code())),
            scores: score.counts.scores(),
            counts: score.counts,
        });
    }
    let group = |name: &str, members: &[&PageReport]| {
        let mut counts = Counts::default();
        for p in members {
            counts.add(&p.counts);
        }
        GroupReport {
            name: name.to_owned(),
            scores: counts.scores(),
            counts,
            parse_ms: members.iter().map(|p| p.parse_ms).sum(),
        }
    };
    let mut by_family: BTreeMap<&str, Vec<&PageReport>> = BTreeMap::new();
    for p in &pages {
        by_family.entry(&p.family).or_default().push(p);
    }
    let families: Vec<GroupReport> = by_family.iter().map(|(f, m)| group(f, m)).collect();
    let overall = group("all", &pages.iter().collect::<Vec<_>>());
    let failures = thresholds(&args, &families);
    let report = Report {
        missing,
        pages,
        families,
        overall,
        failures,
    };
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
    } else {
        print_tables(&mut out, &report)?;
        if args.explain {
            write!(out, "{explained}")?;
        }
    }
    for m in &report.missing {
        eprintln!("pagewire eval: text missing or changed: {m}");
    }
    if !report.missing.is_empty() && !args.allow_missing {
        eprintln!(
            "pagewire eval: {} page(s) could not be scored; rebuild the texts with scripts/fetch-corpus, or pass --allow-missing",
            report.missing.len()
        );
        return Ok(ExitCode::from(2));
    }
    for f in &report.failures {
        eprintln!("pagewire eval: below threshold: {f}");
    }
    Ok(if report.failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn thresholds(args: &Args, families: &[GroupReport]) -> Vec<String> {
    let mut failures = Vec::new();
    for f in families {
        let s = &f.scores;
        let checks = [
            ("boundary F1", args.min_f1, s.boundary_f1),
            ("exact count", args.min_exact, s.exact_count),
            ("headline", args.min_headline, s.headline),
            ("credit recall", args.min_credit_recall, s.credit_recall),
            (
                "credit precision",
                args.min_credit_precision,
                s.credit_precision,
            ),
            (
                "reference recall",
                args.min_reference_recall,
                s.reference_recall,
            ),
        ];
        for (what, min, got) in checks {
            if let Some(min) = min {
                if got < min {
                    failures.push(format!("{}: {what} {got:.3} < {min}", f.name));
                }
            }
        }
        if let Some(max) = args.max_leaks {
            if f.counts.leaked_lines > max {
                failures.push(format!(
                    "{}: {} leaked lines > {max}",
                    f.name, f.counts.leaked_lines
                ));
            }
        }
    }
    failures
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn print_tables(out: &mut impl Write, r: &Report) -> std::io::Result<()> {
    writeln!(
        out,
        "{:<34} {:>4} {:>4} {:>5} {:>5} {:>5} {:>9} {:>9} {:>5} {:>4} {:>7}",
        "page", "gold", "pred", "F1", "head", "kind", "credP/R", "refP/R", "exact", "leak", "ms"
    )?;
    for p in &r.pages {
        let s = &p.scores;
        writeln!(
            out,
            "{:<34} {:>4} {:>4} {:>5.2} {:>5.2} {:>5.2} {:>4.2}/{:<4.2} {:>4.2}/{:<4.2} {:>5} {:>4} {:>7.2}{}",
            p.id,
            p.counts.gold_articles,
            p.counts.predicted_articles,
            s.boundary_f1,
            s.headline,
            s.kind,
            s.credit_precision,
            s.credit_recall,
            s.reference_precision,
            s.reference_recall,
            if p.counts.exact_count_pages == 1 { "yes" } else { "no" },
            p.counts.leaked_lines,
            p.parse_ms,
            p.error.as_ref().map(|e| format!("  ERROR {e}")).unwrap_or_default()
        )?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "{:<22} {:>5} {:>5} {:>5} {:>5} {:>5} {:>5} {:>5} {:>5} {:>5} {:>5} {:>5} {:>5} {:>4} {:>4} {:>8}",
        "family", "pages", "arts", "P", "R", "F1", "exact", "head", "kind", "credP", "credR", "refP", "refR", "leak", "blob", "ms/page"
    )?;
    for g in r.families.iter().chain(std::iter::once(&r.overall)) {
        let s = &g.scores;
        writeln!(
            out,
            "{:<22} {:>5} {:>5} {:>5.3} {:>5.3} {:>5.3} {:>5.2} {:>5.3} {:>5.3} {:>5.3} {:>5.3} {:>5.3} {:>5.3} {:>4} {:>4} {:>8.3}",
            g.name,
            g.counts.pages,
            g.counts.gold_articles,
            s.boundary_precision,
            s.boundary_recall,
            s.boundary_f1,
            s.exact_count,
            s.headline,
            s.kind,
            s.credit_precision,
            s.credit_recall,
            s.reference_precision,
            s.reference_recall,
            g.counts.leaked_lines,
            g.counts.blob_pages,
            g.parse_ms / g.counts.pages.max(1) as f64,
        )?;
    }
    Ok(())
}

fn short(s: &str, n: usize) -> String {
    let mut t: String = s.chars().take(n).collect();
    if s.chars().count() > n {
        t.push('…');
    }
    t
}

fn explain(
    out: &mut String,
    gold: &GoldPage,
    parsed: Option<&pagewire::proto::Page>,
    score: &eval::PageScore,
) {
    use std::fmt::Write as _;
    let _ = writeln!(out, "\n## {}", gold.id);
    let articles = parsed.map_or(&[][..], |p| &p.articles[..]);
    let matched: BTreeMap<usize, usize> = score
        .alignments
        .iter()
        .filter_map(|a| Some((a.gold?, a.predicted?.0)))
        .collect();
    for (gi, g) in gold.articles.iter().enumerate() {
        let pred = matched.get(&gi).map(|&pi| &articles[pi]);
        let _ = writeln!(
            out,
            "  gold {:>3}-{:<4} {:<8} {:<32} | {}",
            g.lines[0],
            g.lines[1],
            g.kind,
            short(&g.headline, 30),
            match pred {
                Some(a) => format!(
                    "{:?} {} [{}]",
                    a.kind(),
                    short(&a.headline, 30),
                    a.credits
                        .iter()
                        .map(|c| c.name.as_str())
                        .collect::<Vec<_>>()
                        .join(",")
                ),
                None => "MISSED".to_owned(),
            }
        );
    }
    for a in score.alignments.iter().filter(|a| a.gold.is_none()) {
        if let Some((pi, line)) = a.predicted {
            let p = &articles[pi];
            let _ = writeln!(
                out,
                "  EXTRA at line {:<5} {:?} {} / {}",
                line.map_or("?".into(), |l| l.to_string()),
                p.kind(),
                short(&p.headline, 30),
                short(p.paragraphs.first().map_or("", String::as_str), 40)
            );
        }
    }
    for (l, t) in &score.leaks {
        let _ = writeln!(out, "  LEAK line {l}: {}", short(t, 50));
    }
}
