//! `cargo +nightly fuzz run envelope`: the pure pipeline from the wire (see `bodies.rs`).

#![no_main]

use std::sync::OnceLock;

use pagewire::pipeline::Pipeline;

#[path = "../bodies.rs"]
mod bodies;

fn pipeline() -> &'static Pipeline {
    static PIPELINE: OnceLock<Pipeline> = OnceLock::new();
    PIPELINE.get_or_init(|| {
        bodies::example_pipeline(std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../deploy/pagewire.toml"
        )))
    })
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| bodies::envelope(pipeline(), data));
