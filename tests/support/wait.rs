//! Waiting for a condition: the one poll loop every test uses.

use std::future::Future;
use std::time::{Duration, Instant};

/// Deadline of every wait on a condition. Generous: the tests share two busy cores.
pub const WAIT: Duration = Duration::from_secs(60);

/// How often a condition is polled.
const POLL: Duration = Duration::from_millis(25);

/// Polls `cond` until it holds, failing after [`WAIT`].
pub async fn wait_for<F, Fut>(what: &str, cond: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    wait_for_within(what, WAIT, cond).await;
}

/// Polls `cond` until it holds, failing after `timeout`.
pub async fn wait_for_within<F, Fut>(what: &str, timeout: Duration, mut cond: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    while !cond().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(POLL).await;
    }
}

/// Polls `get` until it returns a value or `timeout` passes (then `None`), blocking the thread:
/// for code outside the runtime (spawning servers, synchronous commands).
pub fn poll_blocking<T>(
    timeout: Duration,
    every: Duration,
    mut get: impl FnMut() -> Option<T>,
) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = get() {
            return Some(v);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(every);
    }
}
