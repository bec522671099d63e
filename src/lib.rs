//! pagewire: printed newspaper pages in, structured article events out.
//!
//! The crate is a pure core ([`parse`]: segmentation and normalization, no I/O, no clock,
//! no async) wrapped in a thin shell (the NATS service, the command line). See
//! ARCHITECTURE.md for the map and the invariants.

pub mod parse;
pub mod proto;
