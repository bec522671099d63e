//! Test support: the one place that starts processes and waits for them.
//!
//! - [`nats`]: real nats-server processes, one server or a cluster per test, through one
//!   builder ([`nats::NatsBuilder`]); a missing binary fails with instructions, never skips.
//! - [`pagewire`]: the pagewire binary as a child process (clean environment, log capture,
//!   signals, exit status).
//! - [`wait`]: the poll loops (a condition, a deadline).
//! - [`http`]: a plain HTTP/1.1 `GET` for the probe, metrics and monitoring endpoints.
//! - [`checker`]: the service harness and the reliability checker; [`issues`]: the issue
//!   manifests; [`proxy`]: a TCP proxy that can cut connections.

#![allow(dead_code)]

pub mod checker;
pub mod http;
pub mod issues;
pub mod nats;
pub mod pagewire;
pub mod proxy;
pub mod python;
pub mod wait;

// Each suite uses some of these.
#[allow(unused_imports)]
pub use http::get as http_get;
#[allow(unused_imports)]
pub use nats::{free_port, nats_server_bin, NatsCluster, NatsServer};
