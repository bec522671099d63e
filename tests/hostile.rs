//! Hostile producers against real nats-server processes: inputs crafted to make pagewire publish
//! for someone else, to amplify, to escape the dead-letter topic or to collide in the stitch
//! state. Each test here failed on the code before issue 13.

mod support;

use async_nats::HeaderMap;
use bytes::Bytes;
use prost::Message as _;

use pagewire::proto::{DeadLetter, RawPage};
use support::checker::{
    client, count, header, markdown_headers, publish_to, settings, stored, wait_drained, InProcess,
    ISSUE_DATE,
};
use support::NatsServer;

/// Dead letters stored so far, decoded, with their subjects.
async fn dead_letters(js: &async_nats::jetstream::Context) -> Vec<(String, DeadLetter)> {
    stored(js, "PAGES_DLQ")
        .await
        .iter()
        .map(|m| {
            let d = DeadLetter::decode(m.payload.clone()).expect("dead letter decodes");
            assert_eq!(header(m, "Pagewire-Error-Code"), Some(d.code.as_str()));
            (m.subject.to_string(), d)
        })
        .collect()
}

const BRIEF: &[u8] = "## 简讯标题\n\n这是一条简讯的正文内容。\n".as_bytes();

#[tokio::test]
async fn a_publication_other_than_the_subjects_is_dead_lettered_and_publishes_nothing() {
    let server = NatsServer::start();
    let svc = InProcess::start(settings(&server, &[])).await;
    let (_c, js) = client(&server).await;

    // A producer allowed only on pages.raw.attacker claims to be the victim, once in a header
    // and once in a protobuf RawPage.
    let mut spoofed = markdown_headers(1);
    spoofed.insert("Pagewire-Publication", "victim");
    let by_header = publish_to(&js, "pages.raw.attacker", spoofed, Bytes::from(BRIEF)).await;
    let page = RawPage {
        publication: "victim".into(),
        issue_date: ISSUE_DATE.into(),
        page_number: 2,
        format: pagewire::proto::PageFormat::Markdown as i32,
        content: String::from_utf8(BRIEF.to_vec()).unwrap(),
        ..Default::default()
    };
    let by_envelope = publish_to(
        &js,
        "pages.raw.attacker",
        HeaderMap::new(),
        page.encode_to_vec().into(),
    )
    .await;
    // Naming its own publication is allowed.
    let mut honest = markdown_headers(3);
    honest.insert("Pagewire-Publication", "attacker");
    let last = publish_to(&js, "pages.raw.attacker", honest, Bytes::from(BRIEF)).await;
    wait_drained(&js, last).await;

    let letters = dead_letters(&js).await;
    assert_eq!(letters.len(), 2, "{letters:?}");
    for (subject, d) in &letters {
        assert_eq!(d.code, "publication_mismatch", "{}", d.reason);
        assert_eq!(
            subject, "pages.dlq.attacker",
            "the subject's dead-letter topic"
        );
        assert!([by_header, by_envelope].contains(&d.stream_sequence));
        assert!(d.reason.contains("\"victim\""), "{}", d.reason);
    }
    for m in stored(&js, "ARTICLES_ARCHIVE").await {
        assert_eq!(
            m.subject.as_str(),
            "articles.archive.attacker",
            "nothing is published for the victim"
        );
    }
    assert_eq!(count(&js, "ARTICLES_ARCHIVE").await, 1, "the honest page");
    assert_eq!(svc.state.snapshot().pages_dead_lettered, 2);
    assert!(svc
        .state
        .encode_metrics()
        .contains("pagewire_dead_letters_total{code=\"publication_mismatch\"} 2"));
    svc.stop().await;
}
