//! One input message to the list of output messages, with no I/O: decode the envelope, parse the
//! page, route the articles, check every output fits the broker. The service runs this per page
//! and only does the sending and the acking around it.

use crate::alert::AlertRules;
use crate::config::Settings;
use crate::envelope::{self, Incoming, InputError};
use crate::parse::{self, Limits};
use crate::proto::{Page, RawPage};
use crate::route::{self, Outbound, Topics};

/// Everything needed to turn an input into outputs; built once at start.
#[derive(Debug, Clone)]
pub struct Pipeline {
    /// Parser and boundary limits.
    pub limits: Limits,
    /// Output subject prefixes.
    pub topics: Topics,
    /// Compiled alert rules.
    pub alerts: AlertRules,
    /// The broker's `max_payload`: no output may be larger.
    pub max_payload: usize,
    /// What turns a page into outputs: fixed by [`Pipeline::new`] and [`Pipeline::stitching`].
    mode: Mode,
}

/// What turns a page into outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The parser and the router: the product without stitching; pages come out
    /// [`Work::Routed`].
    Route,
    /// The parser alone: pages come out [`Work::Parsed`], for the stitcher to route once
    /// their references are resolved.
    Stitch,
    /// A byte chunker publishing the sizes in the `Pagewire-Bench-Plan` header: the benchmark
    /// baseline B1, everything pagewire does around the parser.
    PassThrough,
}

/// Header of a benchmark page naming the outputs the chunker publishes: comma-separated
/// `<topic letter>:<bytes>` with topic letters `s`earch, `a`rchive, `l` alert, `p`ages.
pub const HEADER_BENCH_PLAN: &str = "Pagewire-Bench-Plan";

impl Pipeline {
    /// The pipeline the settings describe, for a broker with this `max_payload`: it routes
    /// every page itself (see [`Pipeline::stitching`] to leave routing to the stitcher).
    pub fn new(settings: &Settings, max_payload: usize) -> Self {
        Pipeline {
            limits: settings.limits.parser_limits(),
            topics: Topics::from(&settings.output),
            alerts: AlertRules::new(&settings.alerts),
            max_payload,
            mode: if settings.bench.pass_through {
                Mode::PassThrough
            } else {
                Mode::Route
            },
        }
    }

    /// This pipeline, leaving the routing of parsed pages to the stitcher when `stitcher` is
    /// true (the service has the stitch state at hand): they come out [`Work::Parsed`]. A
    /// pass-through pipeline stays one: the chunker's outputs are never stitched.
    #[must_use]
    pub fn stitching(mut self, stitcher: bool) -> Self {
        self.mode = match (self.mode, stitcher) {
            (Mode::PassThrough, _) => Mode::PassThrough,
            (_, true) => Mode::Stitch,
            (_, false) => Mode::Route,
        };
        self
    }

    /// What turns a page into outputs.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Decodes, parses and routes one input.
    pub fn process(&self, incoming: &Incoming<'_>) -> Result<Processed, Rejection> {
        let envelope::Accepted { raw, position } = envelope::accept(incoming, &self.limits)
            .map_err(|error| Rejection {
                error,
                publication: incoming.publication_hint(),
            })?;
        let reject = |error: InputError| Rejection {
            error,
            publication: Some(raw.publication.clone()),
        };
        let (articles, outputs) = match self.mode {
            Mode::Route | Mode::Stitch => {
                let page =
                    parse::parse_at(&raw, &position, &self.limits).map_err(|e| reject(e.into()))?;
                let articles = page.articles.len();
                if self.mode == Mode::Stitch {
                    return Ok(Processed {
                        publication: raw.publication.clone(),
                        issue_date: raw.issue_date.clone(),
                        page_number: raw.page_number,
                        articles,
                        work: Work::Parsed(Box::new((raw, page))),
                    });
                }
                (
                    articles,
                    route::route_page(&raw, page, &self.topics, &self.alerts),
                )
            }
            Mode::PassThrough => {
                let plan = incoming.header(HEADER_BENCH_PLAN).unwrap_or_default();
                let outputs = route::chunk(&raw, plan, &self.topics);
                (outputs.len(), outputs)
            }
        };
        self.check_sizes(&outputs).map_err(reject)?;
        Ok(Processed {
            publication: raw.publication,
            issue_date: raw.issue_date,
            page_number: raw.page_number,
            articles,
            work: Work::Routed(outputs),
        })
    }

    /// Fails with `output_too_large` when an output cannot pass the broker.
    pub fn check_sizes(&self, outputs: &[Outbound]) -> Result<(), InputError> {
        outputs
            .iter()
            .try_for_each(|o| o.check_size(self.max_payload))
    }
}

/// A processed page: what is known of it, and what is left to do before it is published.
#[derive(Debug, Clone)]
pub struct Processed {
    /// Publication slug.
    pub publication: String,
    /// Issue date.
    pub issue_date: String,
    /// Page number.
    pub page_number: u32,
    /// Articles found.
    pub articles: usize,
    /// Its outputs, or the page for the stitcher to route.
    pub work: Work,
}

/// What a processed page still needs, by the pipeline's [`Mode`].
#[derive(Debug, Clone)]
pub enum Work {
    /// Routed ([`Mode::Route`], [`Mode::PassThrough`]): the messages to publish, in order,
    /// each checked to fit the broker.
    Routed(Vec<Outbound>),
    /// Parsed for stitching ([`Mode::Stitch`]): the page and its parse, routed once its
    /// references are resolved.
    Parsed(Box<(RawPage, Page)>),
}

/// An input that cannot be processed, with what is known of where it belongs.
#[derive(Debug, Clone)]
pub struct Rejection {
    /// Why.
    pub error: InputError,
    /// Its publication, if it could be told.
    pub publication: Option<String>,
}
