//! Routing: a parsed page becomes the list of messages pagewire publishes for it, and a
//! rejected input becomes its dead letter.
//!
//! Pure: builds subjects, headers and encoded payloads; the service only sends them. Message
//! ids are derived from content (article id + revision + version + topic; without stitch state
//! article id + version + topic), so publishing the same list twice stores nothing new in a
//! stream with a duplicate window, while a revision never shares an id with another one.

use bytes::Bytes;
use prost::Message as _;

use crate::alert::{lead_story_id, AlertRules};
use crate::config::OutputSettings;
use crate::envelope::InputError;
use crate::proto::{ArticleKind, DeadLetter, Page, RawPage};
use crate::stitch::{Composed, Plan, ToSearch, Unresolved};
use crate::topic::{is_searchable, Topic};

/// `Content-Type` of every output.
pub const PROTOBUF: &str = "application/protobuf";
/// Header naming the protobuf message type of the payload.
pub const HEADER_TYPE: &str = "Pagewire-Type";
/// Header with the names of the alert rules an article matched (alert topic only).
pub const HEADER_ALERT: &str = "Pagewire-Alert";
/// Header with the article id (article topics).
pub const HEADER_ARTICLE_ID: &str = "Pagewire-Article-Id";
/// Header with the article version (article topics).
pub const HEADER_ARTICLE_VERSION: &str = "Pagewire-Article-Version";
/// Header with the article kind in lowercase, e.g. `story` (article topics).
pub const HEADER_KIND: &str = "Pagewire-Kind";
/// Header with the dead letter's error code (dead-letter topic).
pub const HEADER_ERROR_CODE: &str = "Pagewire-Error-Code";
/// Header with the article's revision (article topics, when stitching is on): a consumer keeps
/// the highest revision per id.
pub const HEADER_REVISION: &str = "Pagewire-Revision";
/// Header `true` on a withdrawal (article topics): the id is gone (see `Article.withdrawn`).
pub const HEADER_WITHDRAWN: &str = "Pagewire-Withdrawn";
/// The JetStream deduplication header.
pub const HEADER_MSG_ID: &str = "Nats-Msg-Id";

/// Fully qualified protobuf type names, as carried in [`HEADER_TYPE`].
pub mod type_name {
    /// `Article`.
    pub const ARTICLE: &str = "pagewire.v1.Article";
    /// `Page`.
    pub const PAGE: &str = "pagewire.v1.Page";
    /// `DeadLetter`.
    pub const DEAD_LETTER: &str = "pagewire.v1.DeadLetter";
    /// `RawPage`.
    pub const RAW_PAGE: &str = "pagewire.v1.RawPage";
    /// `UnresolvedJump`.
    pub const UNRESOLVED_JUMP: &str = "pagewire.v1.UnresolvedJump";
    /// `UnresolvedReference`.
    pub const UNRESOLVED_REFERENCE: &str = "pagewire.v1.UnresolvedReference";
    /// A timer message (JSON, internal to pagewire).
    pub const TIMER: &str = "pagewire.timer";
}

/// The configured subject prefixes of the output topics: the only place that builds an output
/// subject (`<subject_prefix>.<publication>`).
#[derive(Debug, Clone)]
pub struct Topics {
    /// Prefixes in the order of [`Topic::ALL`].
    prefixes: [String; Topic::ALL.len()],
}

impl Topics {
    /// The configured subject prefix of `topic`.
    pub fn prefix(&self, topic: Topic) -> &str {
        &self.prefixes[topic as usize]
    }

    /// The subject of `topic` for `publication`.
    pub fn subject(&self, topic: Topic, publication: &str) -> String {
        format!("{}.{publication}", self.prefix(topic))
    }
}

impl From<&OutputSettings> for Topics {
    fn from(o: &OutputSettings) -> Self {
        Topics {
            prefixes: Topic::ALL.map(|t| o.topic(t).subject_prefix.clone()),
        }
    }
}

/// One message to publish.
#[derive(Debug, Clone, PartialEq)]
pub struct Outbound {
    /// The output topic; `None` for a stitch timer (the timer stream is no output).
    pub topic: Option<Topic>,
    /// Subject, `<prefix>.<publication>`.
    pub subject: String,
    /// Headers in order; always includes `Content-Type`, `Pagewire-Type` and `Nats-Msg-Id`.
    pub headers: Vec<(&'static str, String)>,
    /// Encoded protobuf.
    pub payload: Bytes,
}

impl Outbound {
    fn new(
        topic: Option<Topic>,
        subject: String,
        type_name: &str,
        msg_id: String,
        payload: impl Into<Bytes>,
    ) -> Self {
        Outbound {
            topic,
            subject,
            headers: vec![
                ("Content-Type", PROTOBUF.to_owned()),
                (HEADER_TYPE, type_name.to_owned()),
                (HEADER_MSG_ID, msg_id),
            ],
            payload: payload.into(),
        }
    }

    /// Value of header `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The deduplication id.
    pub fn msg_id(&self) -> &str {
        self.header(HEADER_MSG_ID).unwrap_or_default()
    }

    /// Bytes this message counts against the broker's `max_payload` (headers block + body).
    pub fn wire_size(&self) -> usize {
        let headers: usize = self
            .headers
            .iter()
            .map(|(k, v)| k.len() + 2 + v.len() + 2)
            .sum();
        "NATS/1.0\r\n".len() + headers + 2 + self.payload.len()
    }

    /// Fails with `output_too_large` when the message cannot pass the broker.
    pub fn check_size(&self, max_payload: usize) -> Result<(), InputError> {
        let size = self.wire_size();
        if size > max_payload {
            return Err(InputError::OutputTooLarge {
                subject: self.subject.clone(),
                size,
                limit: max_payload,
            });
        }
        Ok(())
    }
}

fn kind_name(kind: i32) -> String {
    match ArticleKind::try_from(kind) {
        // The kinds there are, without formatting their enum names for every message.
        Ok(ArticleKind::Story) => "story".to_owned(),
        Ok(ArticleKind::Brief) => "brief".to_owned(),
        Ok(ArticleKind::Photo) => "photo".to_owned(),
        Ok(ArticleKind::Teaser) => "teaser".to_owned(),
        Ok(ArticleKind::Fragment) => "fragment".to_owned(),
        Ok(k) => k
            .as_str_name()
            .trim_start_matches("ARTICLE_KIND_")
            .to_lowercase(),
        Err(_) => kind.to_string(),
    }
}

/// The subjects of one publication's outputs, each formatted once for all of a page's messages.
struct Subjects<'a> {
    topics: &'a Topics,
    publication: &'a str,
    formatted: [Option<String>; Topic::ALL.len()],
}

impl<'a> Subjects<'a> {
    fn new(topics: &'a Topics, publication: &'a str) -> Self {
        Subjects {
            topics,
            publication,
            formatted: Default::default(),
        }
    }

    /// [`Topics::subject`] of `topic` for the publication.
    fn get(&mut self, topic: Topic) -> String {
        let (topics, publication) = (self.topics, self.publication);
        self.formatted[topic as usize]
            .get_or_insert_with(|| topics.subject(topic, publication))
            .clone()
    }
}

/// Id of a page: `<publication>/<issue_date>/<edition or main>/<page_number>`, the prefix the
/// parser's article ids share.
pub fn page_id(raw: &RawPage) -> String {
    let edition = if raw.edition.is_empty() {
        "main"
    } else {
        raw.edition.as_str()
    };
    format!(
        "{}/{}/{}/{}",
        raw.publication, raw.issue_date, edition, raw.page_number
    )
}

/// The benchmark chunker (B1): the outputs `plan` names (`s:1234,a:567,...`), each a slice of
/// the page text (repeated as needed) of that many bytes, on the topic its letter names
/// ([`Topic::letter`]). No parsing, no protobuf encoding: what is left is pagewire's consume /
/// publish / ack machinery.
pub fn chunk(raw: &RawPage, plan: &str, topics: &Topics) -> Vec<Outbound> {
    let text = raw.content.as_bytes();
    let edition = if raw.edition.is_empty() {
        "main"
    } else {
        raw.edition.as_str()
    };
    let position = format!(
        "{}/{}/{edition}/{}",
        raw.publication, raw.issue_date, raw.page_number
    );
    plan.split(',')
        .filter_map(|item| item.split_once(':'))
        .enumerate()
        .filter_map(|(i, (topic, size))| {
            let topic = Topic::from_letter(topic)?;
            let size: usize = size.parse().ok()?;
            let mut payload = Vec::with_capacity(size);
            while payload.len() < size && !text.is_empty() {
                let take = (size - payload.len()).min(text.len());
                payload.extend_from_slice(&text[..take]);
            }
            Some(Outbound::new(
                Some(topic),
                topics.subject(topic, &raw.publication),
                type_name::ARTICLE,
                format!("bench:{position}:{i}"),
                payload,
            ))
        })
        .collect()
}

/// Every message for one parsed page: for each article in reading order its archive, search
/// (if searchable) and alert (if any rule matches) messages, then the page-level message.
pub fn route_page(
    raw: &RawPage,
    mut page: Page,
    topics: &Topics,
    alerts: &AlertRules,
) -> Vec<Outbound> {
    let articles = std::mem::take(&mut page.articles);
    let lead = lead_story_id(raw.page_number, &articles);
    let mut out = Vec::with_capacity(articles.len() * 3 + 1);
    let mut subjects = Subjects::new(topics, &raw.publication);
    for article in &articles {
        let hits = alerts.matches(article, lead);
        let search = is_searchable(article.kind).then_some(article);
        push_article(&mut out, article, search, &hits, &mut subjects);
    }
    out.push(page_message(raw, page, &articles, topics));
    out
}

/// Every message for one parsed page once its cross-page references are resolved ([`Plan`]):
/// the page's own articles as composed (alerts as for [`route_page`]), then its withdrawals and
/// the updates of other pages' articles (archive, and search where the plan says; never
/// alerts: the alert topic hears of an article when its own page is read), then the page-level
/// message.
pub fn route_plan(
    raw: &RawPage,
    mut page: Page,
    plan: &Plan,
    topics: &Topics,
    alerts: &AlertRules,
) -> Vec<Outbound> {
    let articles = std::mem::take(&mut page.articles);
    let lead = lead_story_id(raw.page_number, &articles);
    let mut out = Vec::with_capacity((plan.own.len() + plan.updates.len()) * 3 + 1);
    let mut subjects = Subjects::new(topics, &raw.publication);
    for c in &plan.own {
        let hits = alerts.matches(&c.article, lead);
        push_composed(&mut out, c, &hits, &mut subjects);
    }
    for c in &plan.updates {
        push_composed(&mut out, c, &[], &mut subjects);
    }
    out.push(page_message(raw, page, &articles, topics));
    out
}

/// The messages of a half reported unresolved: the updated articles (archive, search where
/// the plan says) and the events on the unresolved topic (`unresolved:<id>:<version>` for
/// jumps, `unresolved-reference:<id>:<version>` for see-also pointers).
pub fn route_unresolved(
    publication: &str,
    updates: &[Composed],
    events: &[Unresolved],
    topics: &Topics,
) -> Vec<Outbound> {
    let mut out = Vec::with_capacity(updates.len() * 2 + events.len());
    let mut subjects = Subjects::new(topics, publication);
    for c in updates {
        push_composed(&mut out, c, &[], &mut subjects);
    }
    for e in events {
        let (type_name, msg_id, article_id, revision, payload) = match e {
            Unresolved::Jump(e) => (
                type_name::UNRESOLVED_JUMP,
                format!("unresolved:{}:{}", e.article_id, e.article_version),
                &e.article_id,
                e.revision,
                e.encode_to_vec(),
            ),
            Unresolved::Reference(e) => (
                type_name::UNRESOLVED_REFERENCE,
                format!(
                    "unresolved-reference:{}:{}",
                    e.article_id, e.article_version
                ),
                &e.article_id,
                e.revision,
                e.encode_to_vec(),
            ),
        };
        let mut o = Outbound::new(
            Some(Topic::Unresolved),
            topics.subject(Topic::Unresolved, publication),
            type_name,
            msg_id,
            payload,
        );
        o.headers.push((HEADER_ARTICLE_ID, article_id.clone()));
        o.headers.push((HEADER_REVISION, revision.to_string()));
        out.push(o);
    }
    out
}

/// The timer message of a half waiting for its partner: `<prefix>.<publication>`, body the
/// JSON [`Timer`]. One per half and page version (its `Nats-Msg-Id`), so a redelivered page
/// starts no second timer.
pub fn timer_message(prefix: &str, timer: &Timer, record: &str) -> Outbound {
    let body = serde_json::to_vec(timer).unwrap_or_default();
    Outbound::new(
        None,
        format!("{prefix}.{}", timer.publication),
        type_name::TIMER,
        format!("timer:{}:{record}", timer.article_id),
        body,
    )
}

/// A waiting half, as its timer message carries it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Timer {
    /// Publication slug.
    pub publication: String,
    /// Issue date.
    pub issue_date: String,
    /// Edition, empty for the only one.
    #[serde(default)]
    pub edition: String,
    /// Id of the waiting article.
    pub article_id: String,
}

/// The messages of a composed article: archive, what search gets of it, alert (if `hits`).
fn push_composed(out: &mut Vec<Outbound>, c: &Composed, hits: &[&str], subjects: &mut Subjects) {
    let withdrawal;
    let search = match c.search {
        ToSearch::Skip => None,
        ToSearch::Article => Some(&c.article),
        ToSearch::Withdrawal => {
            withdrawal = crate::stitch::withdrawal_of(&c.article);
            Some(&withdrawal)
        }
    };
    push_article(out, &c.article, search, hits, subjects);
}

/// Archive, search (`search`: the article, its withdrawal, or nothing) and alert (if `hits`)
/// messages of one article; a payload is encoded once and shared (Bytes clones are reference
/// counts).
fn push_article(
    out: &mut Vec<Outbound>,
    article: &crate::proto::Article,
    search: Option<&crate::proto::Article>,
    hits: &[&str],
    subjects: &mut Subjects,
) {
    let payload = Bytes::from(article.encode_to_vec());
    out.push(article_message(
        Topic::Archive,
        subjects,
        article,
        payload.clone(),
    ));
    if let Some(s) = search {
        let payload = if std::ptr::eq(s, article) {
            payload.clone()
        } else {
            Bytes::from(s.encode_to_vec())
        };
        out.push(article_message(Topic::Search, subjects, s, payload));
    }
    if !hits.is_empty() {
        let mut o = article_message(Topic::Alert, subjects, article, payload);
        o.headers.push((HEADER_ALERT, hits.join(", ")));
        out.push(o);
    }
}

/// An article message with its headers. The message id is `<id>:<revision>:<version>:<topic>`
/// (`<id>:<version>:<topic>` at revision 0, without stitch state): a redelivery repeats it,
/// and no revision shares it with another, even when a reverted correction brings an earlier
/// version back.
fn article_message(
    topic: Topic,
    subjects: &mut Subjects,
    article: &crate::proto::Article,
    payload: Bytes,
) -> Outbound {
    let msg_id = if article.revision > 0 {
        format!(
            "{}:{}:{}:{topic}",
            article.id, article.revision, article.version
        )
    } else {
        format!("{}:{}:{topic}", article.id, article.version)
    };
    let mut o = Outbound::new(
        Some(topic),
        subjects.get(topic),
        type_name::ARTICLE,
        msg_id,
        payload,
    );
    o.headers.push((HEADER_ARTICLE_ID, article.id.clone()));
    o.headers
        .push((HEADER_ARTICLE_VERSION, article.version.clone()));
    if article.withdrawn {
        o.headers.push((HEADER_WITHDRAWN, "true".to_owned()));
    } else {
        o.headers.push((HEADER_KIND, kind_name(article.kind)));
    }
    if article.revision > 0 {
        o.headers
            .push((HEADER_REVISION, article.revision.to_string()));
    }
    o
}

/// The archive's record of the page: ids instead of articles, the raw text and its hash.
fn page_message(
    raw: &RawPage,
    mut page: Page,
    articles: &[crate::proto::Article],
    topics: &Topics,
) -> Outbound {
    if page.article_ids.is_empty() {
        page.article_ids = articles.iter().map(|a| a.id.clone()).collect();
    }
    if page.content_hash.is_empty() {
        page.content_hash = blake3::hash(raw.content.as_bytes()).to_hex().to_string();
    }
    page.content = raw.content.clone();
    if page.source_uri.is_empty() {
        page.source_uri = raw.source_uri.clone();
    }
    if page.attributes.is_empty() {
        page.attributes = raw.attributes.clone();
    }
    let msg_id = format!("{}:{}:pages", page_id(raw), page.content_hash);
    Outbound::new(
        Some(Topic::Pages),
        topics.subject(Topic::Pages, &raw.publication),
        type_name::PAGE,
        msg_id,
        page.encode_to_vec(),
    )
}

/// Where and what a rejected input was, for its dead letter.
#[derive(Debug, Clone)]
pub struct Rejected<'a> {
    /// Subject the input arrived on.
    pub subject: &'a str,
    /// Its headers.
    pub headers: &'a [(String, String)],
    /// Its body.
    pub payload: &'a [u8],
    /// Deliveries so far.
    pub delivery_count: u64,
    /// Stream sequence.
    pub stream_sequence: u64,
    /// Input stream name.
    pub stream: &'a str,
    /// Publication, when known; the dead letter goes to `<dlq>.<publication>` or
    /// `<dlq>.unknown`.
    pub publication: Option<&'a str>,
}

/// The dead letter for a rejected input. Its id is derived from the input's stream position
/// and body, so dead-lettering one input twice stores one dead letter.
pub fn dead_letter(rejected: &Rejected<'_>, code: &str, reason: &str, topics: &Topics) -> Outbound {
    let mut headers = std::collections::BTreeMap::<String, String>::new();
    for (k, v) in rejected.headers {
        headers
            .entry(k.clone())
            .and_modify(|joined| {
                joined.push_str(", ");
                joined.push_str(v);
            })
            .or_insert_with(|| v.clone());
    }
    let publication = rejected.publication.unwrap_or("unknown");
    let letter = DeadLetter {
        code: code.to_owned(),
        reason: reason.to_owned(),
        subject: rejected.subject.to_owned(),
        headers,
        payload: Bytes::copy_from_slice(rejected.payload),
        delivery_count: rejected.delivery_count,
        stream_sequence: rejected.stream_sequence,
        stream: rejected.stream.to_owned(),
        publication: rejected.publication.unwrap_or_default().to_owned(),
    };
    let msg_id = dead_letter_id(rejected);
    let mut o = Outbound::new(
        Some(Topic::Dlq),
        topics.subject(Topic::Dlq, publication),
        type_name::DEAD_LETTER,
        msg_id,
        letter.encode_to_vec(),
    );
    o.headers.push((HEADER_ERROR_CODE, code.to_owned()));
    o
}

/// Bytes of a reason kept when a dead letter must be cut to fit (a few lines of text).
pub const DEAD_LETTER_REASON_BYTES: usize = 512;

/// What had to be left out of a dead letter so that it fits the broker.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cuts {
    /// The copy of the input's body was dropped (the input stays in its stream).
    pub payload: bool,
    /// The reason was cut to [`DEAD_LETTER_REASON_BYTES`].
    pub reason: bool,
    /// The copy of the input's headers was dropped.
    pub headers: bool,
}

impl Cuts {
    /// The parts cut, as `pagewire_dead_letter_cuts_total` labels them.
    pub fn labels(self) -> impl Iterator<Item = &'static str> {
        [
            (self.payload, "payload"),
            (self.reason, "reason"),
            (self.headers, "headers"),
        ]
        .into_iter()
        .filter_map(|(cut, label)| cut.then_some(label))
    }
}

/// The dead letter for a rejected input, cut until it fits `max_payload`: first the copy of
/// the body goes (the input stays in its stream at the recorded sequence), then the reason is
/// cut to its first [`DEAD_LETTER_REASON_BYTES`], then the copy of the headers goes; the size
/// is checked again after every cut. What remains (code, subject, stream position, a short
/// reason) is a few hundred bytes, so the letter fits any broker pagewire can run against.
/// The message id does not change with the cuts: a letter stored whole is not stored again cut.
pub fn fitting_dead_letter(
    rejected: &Rejected<'_>,
    code: &str,
    reason: &str,
    topics: &Topics,
    max_payload: usize,
) -> (Outbound, Cuts) {
    let mut cuts = Cuts::default();
    let letter = dead_letter(rejected, code, reason, topics);
    if letter.check_size(max_payload).is_ok() {
        return (letter, cuts);
    }
    let mut stub = rejected.clone();
    stub.payload = &[];
    cuts.payload = true;
    let note = format!(
        " (payload of {} bytes not copied: over max_payload; the input is in stream {} at \
         sequence {})",
        rejected.payload.len(),
        rejected.stream,
        rejected.stream_sequence
    );
    let letter = with_id_of(
        dead_letter(&stub, code, &format!("{reason}{note}"), topics),
        rejected,
    );
    if letter.check_size(max_payload).is_ok() {
        return (letter, cuts);
    }
    let short = if reason.len() > DEAD_LETTER_REASON_BYTES {
        cuts.reason = true;
        let mut at = DEAD_LETTER_REASON_BYTES;
        while !reason.is_char_boundary(at) {
            at -= 1;
        }
        format!(
            "{}... (reason cut from {} bytes)",
            &reason[..at],
            reason.len()
        )
    } else {
        reason.to_owned()
    };
    let letter = with_id_of(
        dead_letter(&stub, code, &format!("{short}{note}"), topics),
        rejected,
    );
    if letter.check_size(max_payload).is_ok() {
        return (letter, cuts);
    }
    stub.headers = &[];
    cuts.headers = true;
    let note = format!(
        "{note} (headers of {} bytes not copied: over max_payload)",
        rejected
            .headers
            .iter()
            .map(|(k, v)| k.len() + v.len())
            .sum::<usize>()
    );
    let letter = with_id_of(
        dead_letter(&stub, code, &format!("{short}{note}"), topics),
        rejected,
    );
    (letter, cuts)
}

/// `letter` with the message id of the whole letter of `rejected`.
fn with_id_of(mut letter: Outbound, rejected: &Rejected<'_>) -> Outbound {
    let id = dead_letter_id(rejected);
    if let Some((_, v)) = letter.headers.iter_mut().find(|(k, _)| *k == HEADER_MSG_ID) {
        *v = id;
    }
    letter
}

fn dead_letter_id(rejected: &Rejected<'_>) -> String {
    let body_hash = blake3::hash(rejected.payload).to_hex();
    format!(
        "dlq:{}:{}:{}",
        rejected.stream,
        rejected.stream_sequence,
        &body_hash[..16]
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{AlertRule, AlertSettings};
    use crate::proto::{Article, PagePosition};

    fn topics() -> Topics {
        Topics::from(&OutputSettings::default())
    }

    fn raw() -> RawPage {
        RawPage {
            publication: "baotou-daily".into(),
            issue_date: "2025-07-10".into(),
            page_number: 1,
            content: "text".into(),
            ..Default::default()
        }
    }

    fn art(ordinal: u32, kind: ArticleKind) -> Article {
        Article {
            id: format!("baotou-daily/2025-07-10/main/1/{ordinal}"),
            version: format!("{ordinal:016x}"),
            kind: kind as i32,
            page: Some(PagePosition {
                page_number: 1,
                ordinal,
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn page() -> Page {
        Page {
            articles: vec![
                art(1, ArticleKind::Story),
                art(2, ArticleKind::Brief),
                art(3, ArticleKind::Teaser),
            ],
            ..Default::default()
        }
    }

    #[test]
    fn teasers_go_to_archive_but_not_to_search() {
        let out = route_page(&raw(), page(), &topics(), &AlertRules::default());
        let subjects: Vec<_> = out.iter().map(|o| o.subject.as_str()).collect();
        assert_eq!(
            subjects,
            [
                "articles.archive.baotou-daily",
                "articles.search.baotou-daily",
                "articles.archive.baotou-daily",
                "articles.search.baotou-daily",
                "articles.archive.baotou-daily",
                "pages.archive.baotou-daily",
            ]
        );
        for o in &out {
            assert_eq!(o.header("Content-Type"), Some(PROTOBUF));
        }
    }

    #[test]
    fn message_ids_are_distinct_per_topic_and_stable_across_runs() {
        let a = route_page(&raw(), page(), &topics(), &AlertRules::default());
        let b = route_page(&raw(), page(), &topics(), &AlertRules::default());
        let ids: Vec<_> = a.iter().map(Outbound::msg_id).collect();
        assert_eq!(ids, b.iter().map(Outbound::msg_id).collect::<Vec<_>>());
        let unique: std::collections::BTreeSet<_> = ids.iter().collect();
        assert_eq!(unique.len(), ids.len());
        assert_eq!(
            ids[0],
            "baotou-daily/2025-07-10/main/1/1:0000000000000001:archive"
        );
    }

    #[test]
    fn the_page_message_carries_ids_raw_text_and_hash_but_no_articles() {
        let out = route_page(&raw(), page(), &topics(), &AlertRules::default());
        let last = out.last().unwrap();
        assert_eq!(last.header(HEADER_TYPE), Some(type_name::PAGE));
        let p = Page::decode(last.payload.clone()).unwrap();
        assert!(p.articles.is_empty());
        assert_eq!(p.article_ids.len(), 3);
        assert_eq!(p.content, "text");
        assert_eq!(p.content_hash, blake3::hash(b"text").to_hex().to_string());
    }

    #[test]
    fn alerts_carry_the_rule_names() {
        let rules = AlertRules::new(&AlertSettings {
            rules: vec![AlertRule {
                name: "lead".into(),
                lead_of_page_one: true,
                ..Default::default()
            }],
        });
        let out = route_page(&raw(), page(), &topics(), &rules);
        let alerts: Vec<_> = out
            .iter()
            .filter(|o| o.subject.starts_with("articles.alert."))
            .collect();
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].header(HEADER_ALERT), Some("lead"));
        assert_eq!(
            alerts[0].header(HEADER_ARTICLE_ID),
            Some("baotou-daily/2025-07-10/main/1/1")
        );
    }

    #[test]
    fn dead_letter_keeps_the_original_bytes_and_joins_repeated_headers() {
        let headers = vec![
            ("X".to_owned(), "a".to_owned()),
            ("X".to_owned(), "b".to_owned()),
        ];
        let r = Rejected {
            subject: "pages.raw.p",
            headers: &headers,
            payload: b"\xff",
            delivery_count: 1,
            stream_sequence: 9,
            stream: "PAGES",
            publication: Some("p"),
        };
        let o = dead_letter(&r, "invalid_utf8", "bad", &topics());
        assert_eq!(o.subject, "pages.dlq.p");
        assert_eq!(o.header(HEADER_ERROR_CODE), Some("invalid_utf8"));
        let d = DeadLetter::decode(o.payload.clone()).unwrap();
        assert_eq!(&d.payload[..], b"\xff");
        assert_eq!(d.headers.get("X").map(String::as_str), Some("a, b"));
        assert_eq!(d.stream_sequence, 9);
    }

    #[test]
    fn a_dead_letter_is_cut_payload_first_then_reason_then_headers_until_it_fits() {
        let big_header = vec![("X-Junk".to_owned(), "j".repeat(40_000))];
        let payload = vec![0xffu8; 50_000];
        let r = Rejected {
            subject: "pages.raw.p",
            headers: &big_header,
            payload: &payload,
            delivery_count: 1,
            stream_sequence: 7,
            stream: "PAGES",
            publication: Some("p"),
        };
        let reason = "r".repeat(30_000);
        let whole = dead_letter(&r, "invalid_utf8", &reason, &topics());
        let sizes = [200_000, 100_000, 60_000, 20_000, 1_000];
        let expected = [
            Cuts::default(),
            Cuts {
                payload: true,
                ..Cuts::default()
            },
            Cuts {
                payload: true,
                reason: true,
                ..Cuts::default()
            },
            Cuts {
                payload: true,
                reason: true,
                headers: true,
            },
            Cuts {
                payload: true,
                reason: true,
                headers: true,
            },
        ];
        for (max, want) in sizes.into_iter().zip(expected) {
            let (letter, cuts) = fitting_dead_letter(&r, "invalid_utf8", &reason, &topics(), max);
            assert_eq!(cuts, want, "max_payload {max}");
            assert!(
                letter.wire_size() <= max,
                "max_payload {max}: {}",
                letter.wire_size()
            );
            assert_eq!(letter.msg_id(), whole.msg_id(), "one id whatever was cut");
            let d = DeadLetter::decode(letter.payload.clone()).unwrap();
            assert_eq!(d.code, "invalid_utf8");
            assert_eq!(d.stream_sequence, 7);
            assert_eq!(d.payload.is_empty(), cuts.payload);
            if cuts.payload {
                assert!(d.reason.contains("sequence 7"), "{}", d.reason);
            }
            assert_eq!(d.headers.is_empty(), cuts.headers);
        }
    }

    #[test]
    fn size_check_counts_headers() {
        let o = Outbound::new(None, "s".into(), "t", "id".into(), vec![0; 100]);
        assert!(o.check_size(o.wire_size()).is_ok());
        let err = o.check_size(o.wire_size() - 1).unwrap_err();
        assert_eq!(err.code(), "output_too_large");
    }
}
