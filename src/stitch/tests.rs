use super::*;
use crate::parse::{parse_page, Limits};
use crate::proto::{ArticleKind, PageFormat, RawPage};

/// A markdown page of issue `p` / 2025-07-11.
fn page(number: u32, label: &str, text: &str) -> Page {
    page_as(number, label, PageFormat::Markdown, text)
}

fn page_as(number: u32, label: &str, format: PageFormat, text: &str) -> Page {
    let raw = RawPage {
        publication: "p".into(),
        issue_date: "2025-07-11".into(),
        page_number: number,
        page_label: label.into(),
        format: format as i32,
        content: text.into(),
        ..Default::default()
    };
    parse_page(&raw, &Limits::default()).expect("fixture parses")
}

/// An issue being built page by page, as the service does it.
#[derive(Default)]
struct Issue {
    index: IssueIndex,
    records: Records,
}

impl Issue {
    fn add(&mut self, p: &Page) -> Plan {
        let record = Arc::new(Record::new(record_of(p)));
        let hash = record_hash(&record.page.encode_to_vec());
        let position = p.page.clone().unwrap_or_default();
        let step = register(
            &self.index,
            &self.records,
            position.page_number,
            &position.page_label,
            &hash,
            record.clone(),
            100,
            0,
        )
        .unwrap();
        self.index = step.index;
        self.records.insert(position.page_number, record);
        step.plan
    }

    fn report(&mut self, id: &str) -> (Vec<Composed>, Vec<Unresolved>) {
        assert!(
            is_unresolved(&self.index, &self.records, id),
            "{id} resolved"
        );
        let r = report(&self.index, &self.records, id, 0);
        assert!(r.changed);
        self.index = r.index;
        (r.updates, r.events)
    }
}

const FRONT: &str = "# 黄河流域生态保护取得新进展\n\n本报讯 今年以来，我市持续推进黄河流域生态保护。\n\n沿黄湿地面积较去年增加三成。（下转第2版）\n\n# 城市书房开到家门口\n\n全市新建城市书房12家。（下转第二版）\n\n## 简讯\n\n市民文化节本周末开幕。\n";
const SECOND: &str = "# 城市书房开到家门口\n\n（上接第1版）书房实行24小时开放，市民刷卡即可入内。\n\n# 黄河流域生态保护\n\n（上接第一版）下一步，我市将实施一批生态修复项目。\n\n# 本地新闻\n\n今日我市气温回升，最高气温28摄氏度。\n";

/// The final state a consumer keeps: per id, the message with the highest revision.
fn fold(plans: &[Vec<Composed>]) -> BTreeMap<String, Article> {
    let mut state: BTreeMap<String, Article> = BTreeMap::new();
    for c in plans.iter().flatten() {
        let a = &c.article;
        if state
            .get(&a.id)
            .is_none_or(|old| old.revision <= a.revision)
        {
            state.insert(a.id.clone(), a.clone());
        }
    }
    state
}

fn all(plan: Plan) -> Vec<Composed> {
    plan.own.into_iter().chain(plan.updates).collect()
}

/// Whether search receives a message for it.
fn in_search(c: &Composed) -> bool {
    c.search != ToSearch::Skip
}

#[test]
fn two_jumps_between_two_pages_pair_by_headline_in_either_order() {
    let (p1, p2) = (page(1, "01", FRONT), page(2, "02", SECOND));
    let mut forward = Issue::default();
    let f1 = forward.add(&p1);
    assert_eq!(f1.pending.len(), 2, "both heads wait: {:?}", f1.pending);
    assert!(f1.updates.is_empty());
    let f2 = forward.add(&p2);
    assert_eq!(f2.stitched, 2);
    assert!(f2.pending.is_empty());
    let mut backward = Issue::default();
    let b2 = backward.add(&p2);
    let b1 = backward.add(&p1);
    let a = fold(&[all(f1), all(f2)]);
    let b = fold(&[all(b2), all(b1)]);
    let head = |state: &BTreeMap<String, Article>, id: &str| {
        let s = state[id].clone();
        (s.paragraphs, s.parts.len(), s.stitched_into)
    };
    for state in [&a, &b] {
        let river = &state["p/2025-07-11/main/1/1"];
        assert_eq!(river.parts.len(), 2);
        assert_eq!(
            river.paragraphs.last().unwrap(),
            "下一步，我市将实施一批生态修复项目。"
        );
        assert_eq!(river.parts[1].article_id, "p/2025-07-11/main/2/2");
        let books = &state["p/2025-07-11/main/1/2"];
        assert_eq!(books.parts[1].article_id, "p/2025-07-11/main/2/1");
        assert_eq!(
            state["p/2025-07-11/main/2/1"].stitched_into,
            "p/2025-07-11/main/1/2"
        );
        assert!(river
            .references
            .iter()
            .any(|r| r.kind == PageReferenceKind::ContinuedFrom as i32 && r.page_number == 1));
    }
    for id in ["p/2025-07-11/main/1/1", "p/2025-07-11/main/1/2"] {
        assert_eq!(head(&a, id), head(&b, id));
    }
}

#[test]
fn search_gets_the_head_then_the_stitched_version_and_never_the_continuation() {
    let mut issue = Issue::default();
    let first = issue.add(&page(1, "01", FRONT));
    let head = &first.own[0];
    assert!(in_search(head) && head.article.parts.is_empty());
    let second = issue.add(&page(2, "02", SECOND));
    let continuation = &second.own[0];
    assert!(
        !in_search(continuation),
        "continuation withheld from search"
    );
    assert_eq!(continuation.article.stitched_into, "p/2025-07-11/main/1/2");
    let update = second
        .updates
        .iter()
        .find(|c| c.article.id == head.article.id)
        .expect("head updated");
    assert!(in_search(update) && update.article.revision > head.article.revision);
    assert_ne!(update.article.version, head.article.version);
    // Continuation first: it waits, and the head arrives already stitched.
    let mut issue = Issue::default();
    let second = issue.add(&page(2, "02", SECOND));
    assert!(!in_search(&second.own[0]) && second.own[0].article.stitched_into.is_empty());
    assert_eq!(second.pending.len(), 2);
    let first = issue.add(&page(1, "01", FRONT));
    assert_eq!(first.own[0].article.parts.len(), 2);
    assert!(first.updates.iter().all(|c| !in_search(c)));
}

#[test]
fn registering_the_same_page_again_changes_nothing() {
    let mut issue = Issue::default();
    let p1 = page(1, "01", FRONT);
    issue.add(&p1);
    issue.add(&page(2, "02", SECOND));
    let seq = issue.index.seq;
    let again = issue.add(&p1);
    assert_eq!(issue.index.seq, seq);
    let again2 = issue.add(&p1);
    assert_eq!(again, again2, "same snapshot, same plan");
}

#[test]
fn unresolved_half_is_reported_once_and_a_late_partner_still_stitches() {
    let mut issue = Issue::default();
    issue.add(&page(1, "01", FRONT));
    let id = "p/2025-07-11/main/1/1";
    let (updates, events) = issue.report(id);
    let [Unresolved::Jump(event)] = &events[..] else {
        panic!("one jump event: {events:?}")
    };
    assert_eq!(event.article_id, id);
    assert_eq!(event.references.len(), 1);
    let warned = &updates[0].article;
    assert_eq!(warned.warnings.last().unwrap().code, UNRESOLVED_JUMP);
    assert!(in_search(&updates[0]));
    assert!(!report(&issue.index, &issue.records, id, 0).changed);
    let late = issue.add(&page(2, "02", SECOND));
    let stitched = late
        .updates
        .iter()
        .find(|c| c.article.id == id)
        .expect("stitched after the report");
    assert_eq!(stitched.article.parts.len(), 2);
    assert!(stitched
        .article
        .warnings
        .iter()
        .all(|w| w.code != UNRESOLVED_JUMP));
}

#[test]
fn a_reported_continuation_is_withdrawn_from_search_when_stitched_late() {
    let mut issue = Issue::default();
    issue.add(&page(2, "02", SECOND));
    let id = "p/2025-07-11/main/2/1";
    let (updates, _) = issue.report(id);
    assert!(in_search(&updates[0]), "released to search as it is");
    let late = issue.add(&page(1, "01", FRONT));
    let withdrawn = late
        .updates
        .iter()
        .find(|c| c.article.id == id)
        .expect("continuation updated");
    assert!(in_search(withdrawn) && !withdrawn.article.stitched_into.is_empty());
}

#[test]
fn english_jump_words_beat_reading_order() {
    let a1 = "STORM HITS COAST\n\nThe storm hit the coast on Friday, officials said.\n\nSee STORM, Page A6\n\nBUDGET PASSES\n\nThe council passed the budget late Thursday.\n\nSee BUDGET, Page A6\n";
    let a6 = "BUDGET, From Page A1\n\nThe vote was 5-2.\n\nSTORM, From Page A1\n\nPower was restored by Saturday.\n";
    let mut issue = Issue::default();
    let raw = |n: u32, l: &str, t: &str| page_as(n, l, PageFormat::PlainText, t);
    issue.add(&raw(1, "A1", a1));
    let plan = issue.add(&raw(6, "A6", a6));
    let state = fold(std::slice::from_ref(&plan.updates));
    let storm = state
        .values()
        .find(|a| a.headline.to_uppercase().contains("STORM"))
        .expect("storm stitched");
    assert_eq!(
        storm.paragraphs.last().unwrap(),
        "Power was restored by Saturday."
    );
    let budget = state
        .values()
        .find(|a| a.headline.to_uppercase().contains("BUDGET"))
        .expect("budget stitched");
    assert_eq!(budget.paragraphs.last().unwrap(), "The vote was 5-2.");
}

#[test]
fn teasers_link_to_the_article_they_announce_and_the_target_records_it() {
    let front = "# 要闻\n\n今日要闻正文，全市经济运行平稳。\n\n让优质医疗资源  \n请进来留得住\n\n详见03版\n\n包头司机为报恩  \n捐助藏族娃娃\n\n详见04版\n";
    let third = "# 本市新闻\n\n公交线路调整。\n\n# 让优质医疗资源请进来留得住\n\n北京大学第三医院包头医院正式挂牌运行，优质医疗资源扩容下沉。\n";
    let mut issue = Issue::default();
    issue.add(&page(3, "03", third));
    let plan = issue.add(&page(1, "01", front));
    let teaser = plan
        .own
        .iter()
        .find(|c| {
            c.article.kind == ArticleKind::Teaser as i32 && c.article.headline.contains("医疗")
        })
        .expect("teaser");
    assert_eq!(
        teaser.article.references[0].article_id,
        "p/2025-07-11/main/3/2"
    );
    let target = plan
        .updates
        .iter()
        .find(|c| c.article.id == "p/2025-07-11/main/3/2")
        .expect("target updated");
    let r = target.article.references.last().unwrap();
    assert_eq!(r.kind, PageReferenceKind::ReferredFrom as i32);
    assert_eq!(r.article_id, teaser.article.id);
    assert_eq!(plan.linked, 1, "the 04 teaser has no page yet");
    assert!(in_search(target));
}

#[test]
fn the_issue_index_is_bounded() {
    let mut issue = Issue::default();
    let brief = |n: u32, text: &str| page(n, &format!("{n:02}"), text);
    for n in 1..=3 {
        issue.add(&brief(n, "# 简讯\n\n市民文化节本周末开幕。\n"));
    }
    let p4 = Arc::new(Record::new(record_of(&brief(4, "# 简讯\n\n正文。\n"))));
    let full = register(&issue.index, &issue.records, 4, "04", "h4", p4, 3, 0);
    assert_eq!(full, Err(IssueFull(3)));
    // a correction of a registered page still goes in
    let p2 = Arc::new(Record::new(record_of(&brief(2, "# 简讯\n\n更正。\n"))));
    let corrected = register(&issue.index, &issue.records, 2, "02", "h2", p2, 3, 0).unwrap();
    assert!(corrected.changed);
    assert_eq!(corrected.index.pages[&2].seq, 4);
}

#[test]
fn a_registered_page_without_its_record_is_left_out() {
    let mut issue = Issue::default();
    let front = "# 要闻\n\n正文。\n\n让优质医疗资源  \n请进来留得住\n\n详见03版\n";
    issue.add(&page(1, "01", front));
    // Page 3 is registered, but its record expired from the bucket.
    let third = "# 让优质医疗资源请进来留得住\n\n北京大学第三医院包头医院正式挂牌运行。\n";
    issue.add(&page(3, "03", third));
    issue.records.remove(&3);
    let plan = replay_page(&issue.index, &issue.records, 1);
    assert_eq!(plan.linked, 0);
    assert!(plan
        .own
        .iter()
        .all(|c| c.article.references.iter().all(|r| r.article_id.is_empty())));
}

#[test]
fn only_pages_a_reference_connects_store_their_record() {
    let front = "# 要闻\n\n今日要闻正文，全市经济运行平稳。\n\n让优质医疗资源  \n请进来留得住\n\n详见03版\n";
    let third = "# 让优质医疗资源请进来留得住\n\n北京大学第三医院包头医院正式挂牌运行。\n";
    let brief = "# 简讯\n\n市民文化节本周末开幕。\n";
    let mut issue = Issue::default();
    // The target first: no references of its own, no page names it yet.
    issue.add(&page(3, "03", third));
    issue.add(&page(5, "05", brief));
    assert!(!stores_record(&issue.index, 3));
    assert!(!stores_record(&issue.index, 5));
    assert!(stores_record(&issue.index, 9), "a page not in the index");
    issue.index.pages.get_mut(&3).unwrap().source_seq = 17;
    // The pointer: it stores its record, and now names page 3; page 5 stays unconnected.
    issue.add(&page(1, "01", front));
    assert!(stores_record(&issue.index, 1));
    assert!(stores_record(&issue.index, 3));
    assert!(!stores_record(&issue.index, 5));
    // A step elsewhere keeps the entry's source; the index round-trips it.
    assert_eq!(issue.index.pages[&3].source_seq, 17);
    let back = IssueIndex::from_bytes(&issue.index.to_bytes()).unwrap();
    assert_eq!(back, issue.index);
    assert_eq!(back.pages[&3].source_seq, 17);
    let json = serde_json::to_vec(&issue.index).unwrap();
    assert_eq!(IssueIndex::from_bytes(&json).unwrap(), issue.index);
    // An index without targets (an older version's) stores every record.
    let mut old = issue.index.clone();
    old.pages.get_mut(&5).unwrap().targets_known = false;
    assert!(stores_record(&old, 5));
}
