//! pagewire: printed newspaper pages in, structured article events out.
//!
//! The crate is a pure core ([`parse`]: segmentation and normalization; [`envelope`]: the input
//! boundary; [`route`] and [`alert`]: what to publish where — no I/O, no clock, no async)
//! wrapped in a thin shell ([`service`]: the NATS consumer; the command line). See
//! ARCHITECTURE.md for the map and the invariants.

pub mod alert;
pub mod config;
pub mod envelope;
pub mod eval;
pub mod parse;
pub mod pipeline;
pub mod position;
pub mod proto;
pub mod route;
pub mod service;
pub mod stitch;
pub mod topic;
