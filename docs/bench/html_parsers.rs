//! The measurement behind ARCHITECTURE.md's choice of HTML crate ("HTML pages"): three HTML
//! parsers timed on hostile 1 MiB shapes. Not part of the build (it would make html5ever and
//! scraper dependencies of the project); to run it, make a scratch crate:
//!
//! ```sh
//! cargo new --bin h5exp && cp docs/bench/html_parsers.rs h5exp/src/main.rs && cd h5exp
//! cargo add html5ever@0.40 html5gum@0.9 && cargo add scraper@0.29 --no-default-features
//! cargo build --release
//! ./target/release/h5exp tok 1048576   # html5ever's tokenizer alone
//! ./target/release/h5exp gum 1048576   # html5gum's tokenizer, callback emitter (pagewire's choice)
//! ./target/release/h5exp full 65536    # html5ever's tree builder via scraper (quadratic: 64 KiB)
//! ```
//!
//! Each line prints the shape, its size, the time and the seconds per MB.

use html5ever::tokenizer::{
    BufferQueue, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};
use std::cell::Cell;
use std::time::Instant;
struct Count(Cell<usize>);
impl TokenSink for Count {
    type Handle = ();
    fn process_token(&self, t: Token, _l: u64) -> TokenSinkResult<()> {
        if let Token::TagToken(_) = t {
            self.0.set(self.0.get() + 1)
        }
        TokenSinkResult::Continue
    }
}
fn tok(s: &str) -> usize {
    let t = Tokenizer::new(Count(Cell::new(0)), TokenizerOpts::default());
    let q = BufferQueue::default();
    q.push_back(s.into());
    let _ = t.feed(&q);
    t.end();
    t.sink.0.get()
}
fn gum(s: &str) -> usize {
    use html5gum::emitters::callback::{CallbackEmitter, CallbackEvent};
    use html5gum::{Span, Tokenizer};
    let mut n = 0usize;
    let mut text = 0usize;
    {
        let mut em = CallbackEmitter::new(
            |ev: CallbackEvent<'_>, _sp: Span<()>| -> Option<std::convert::Infallible> {
                match ev {
                    CallbackEvent::OpenStartTag { .. } | CallbackEvent::EndTag { .. } => n += 1,
                    CallbackEvent::String { value } => text += value.len(),
                    _ => {}
                }
                None
            },
        );
        em.naively_switch_states(true);
        let t = Tokenizer::new_with_emitter(s, em);
        let _ = t.finish();
    }
    n + text
}
fn full(s: &str) -> usize {
    let d = scraper::Html::parse_document(s);
    d.tree.nodes().count()
}
fn main() {
    let mode = std::env::args().nth(1).unwrap();
    let n: usize = std::env::args().nth(2).unwrap().parse().unwrap();
    let shapes: Vec<(&str, String)> = vec![
        (
            "div-nested",
            format!("{}x{}", "<div>".repeat(n / 11), "</div>".repeat(n / 11)),
        ),
        ("div-unclosed", format!("{}x", "<div>".repeat(n / 5))),
        ("ul-li", format!("{}x", "<ul><li>".repeat(n / 8))),
        ("b", format!("{}x", "<b>".repeat(n / 3))),
        (
            "b-id",
            (0..n / 10)
                .map(|i| format!("<b id={i}>"))
                .collect::<String>(),
        ),
        ("bidiv", "<b><i><div></b>".repeat(n / 15)),
        ("table", "<table><tr><td>".repeat(n / 15)),
        ("p-unclosed", "<p>x".repeat(n / 4)),
        (
            "attr-1mib",
            format!("<p title=\"{}\">x</p>", "a>".repeat(n / 2)),
        ),
        (
            "attrs-many",
            format!(
                "<p {}>x</p>",
                (0..n / 7).map(|i| format!("a{i} ")).collect::<String>()
            ),
        ),
        ("comment", format!("<!--{}-->x", "a".repeat(n))),
        ("unclosed-comment", format!("<!--{}", "a-".repeat(n / 2))),
        ("text", "hello world. ".repeat(n / 13)),
        ("entities", "&amp;&nbsp;&#12290;".repeat(n / 19)),
        ("lt", "<".repeat(n)),
        (
            "script-unclosed",
            format!("<script>{}", "<!--<script>".repeat(n / 12)),
        ),
    ];
    for (name, s) in shapes {
        let t = Instant::now();
        let c = match mode.as_str() {
            "tok" => tok(&s),
            "gum" => gum(&s),
            _ => full(&s),
        };
        let dt = t.elapsed().as_secs_f64();
        println!(
            "{mode} {name:<18} {:>8} bytes {:>9.3} s  {:>8.3} s/MB  ({c})",
            s.len(),
            dt,
            dt / (s.len() as f64 / 1e6)
        );
    }
}
