//! `cargo +nightly fuzz run parse_page`: the parser on arbitrary text (see `bodies.rs`).

#![no_main]

#[path = "../bodies.rs"]
mod bodies;

libfuzzer_sys::fuzz_target!(|data: &[u8]| bodies::parse_page(data));
