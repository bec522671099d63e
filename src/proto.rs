//! Generated protobuf types of `proto/pagewire/v1` (prost) with canonical proto3 JSON
//! (pbjson serde impls). Generated code lives here and nowhere else.

#![allow(missing_docs, clippy::all, clippy::pedantic)]

include!(concat!(env!("OUT_DIR"), "/pagewire.v1.rs"));
include!(concat!(env!("OUT_DIR"), "/pagewire.v1.serde.rs"));
