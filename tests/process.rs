//! The `pagewire run` process against real nats-server processes: the probe server under a
//! flood of half-sent requests, the broker version check at connect, signals during start-up.

mod support;

use std::io::Write as _;
use std::time::{Duration, Instant};

use tokio::io::AsyncReadExt as _;

use support::checker::ChildService;
use support::pagewire::Pagewire;
use support::{free_port, http_get, NatsServer};

/// Open file descriptors of a process.
fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.count())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_sent_probe_requests_are_closed_and_never_keep_a_probe_out() {
    let server = NatsServer::start();
    let addr = format!("127.0.0.1:{}", free_port());
    let svc = ChildService::start(
        &server,
        &[
            ("PAGEWIRE_HTTP__LISTEN", addr.as_str()),
            ("PAGEWIRE_HTTP__HEADER_READ_TIMEOUT", "2s"),
        ],
    );
    svc.wait_log("pagewire consuming").await;
    assert_eq!(http_get(&addr, "/readyz").map(|r| r.0), Some(200));
    let baseline = open_fds(svc.pid());

    // 1,500 requests that never finish their headers (the slowloris: before, they held
    // 1,513 descriptors for 41 s, and 200 of them blocked the probes under `ulimit -n 128`).
    const FLOOD: usize = 1500;
    let started = Instant::now();
    let mut flood = Vec::with_capacity(FLOOD);
    for _ in 0..FLOOD {
        let mut s = std::net::TcpStream::connect(&addr).expect("connect");
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            .expect("half a request");
        flood.push(s);
    }
    let opened = started.elapsed();

    // Probes get through while every one of them is still open on the client side.
    let mut probe_times = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let answer = tokio::task::spawn_blocking({
            let addr = addr.clone();
            move || http_get(&addr, "/healthz")
        })
        .await
        .expect("probe task");
        probe_times.push(t.elapsed());
        assert_eq!(answer.map(|r| r.0), Some(200), "/healthz during the flood");
    }
    let fds_during = open_fds(svc.pid());
    eprintln!(
        "{FLOOD} half-sent requests opened in {opened:?}; /healthz answered in {probe_times:?}; \
         pagewire's descriptors: {baseline} before, {fds_during} during"
    );
    let slowest = probe_times.iter().max().copied().unwrap_or_default();
    assert!(slowest < Duration::from_secs(1), "probe took {slowest:?}");
    assert!(
        fds_during <= baseline + 64 + 8,
        "descriptors: {baseline} before, {fds_during} during the flood"
    );

    // Every half-sent request is closed by the server: made room for, or timed out after 2s.
    let closing = Instant::now();
    let mut reads = Vec::with_capacity(FLOOD);
    for s in flood {
        s.set_nonblocking(true).expect("nonblocking");
        let mut s = tokio::net::TcpStream::from_std(s).expect("tokio stream");
        reads.push(tokio::spawn(async move {
            let mut buf = [0u8; 512];
            loop {
                match tokio::time::timeout(Duration::from_secs(10), s.read(&mut buf)).await {
                    Ok(Ok(0)) | Ok(Err(_)) => return true,
                    Ok(Ok(_)) => continue,
                    Err(_) => return false,
                }
            }
        }));
    }
    let mut closed = 0;
    for r in reads {
        closed += usize::from(r.await.expect("read task"));
    }
    eprintln!(
        "{closed} of {FLOOD} closed by pagewire within {:?}",
        closing.elapsed()
    );
    assert_eq!(closed, FLOOD, "half-sent requests left open");
    assert_eq!(http_get(&addr, "/readyz").map(|r| r.0), Some(200));
    assert!(open_fds(svc.pid()) <= baseline + 2);
    svc.terminate().await;
}

/// Debian 12's nats-server, the one a new user meets first. On this project's machines and in
/// CI it is installed; a missing one fails the test, never skips it.
const DEBIAN_NATS_SERVER: &str = "/usr/sbin/nats-server";

#[tokio::test]
async fn a_server_older_than_2_10_is_refused_at_once_in_one_line() {
    let bin = std::path::PathBuf::from(DEBIAN_NATS_SERVER);
    assert!(
        bin.is_file(),
        "\n\n{DEBIAN_NATS_SERVER} is missing: this test needs Debian's nats-server 2.9 \
         (`apt-get install nats-server` on Debian 12).\n\n"
    );
    let version = std::process::Command::new(&bin)
        .arg("--version")
        .output()
        .expect("nats-server --version");
    let version = String::from_utf8_lossy(&version.stdout).trim().to_owned();
    assert!(
        version.contains("v2.9."),
        "{DEBIAN_NATS_SERVER} is {version}, not a 2.9 server: the test needs one older than 2.10"
    );
    let server = NatsServer::of(bin, "");

    let started = Instant::now();
    let mut svc = ChildService::start(&server, &[]);
    let status = svc.wait_exit(Duration::from_secs(5)).await;
    let took = started.elapsed();
    let log = svc.log();
    eprintln!("exit {status} after {took:?}:\n{log}");
    assert!(
        !status.success(),
        "an old server must stop pagewire:\n{log}"
    );
    // Before: ~6 s of retries, then `cannot provision key-value bucket pagewire_stitch:
    // JetStream error: ... data did not match any variant of untagged enum Response` with the
    // cause five times and nothing about the version.
    let naming: Vec<&str> = log.lines().filter(|l| l.contains("2.9.")).collect();
    assert_eq!(naming.len(), 1, "one line names the version:\n{log}");
    let line = naming[0];
    assert!(line.starts_with("pagewire: nats-server 2.9."), "{line}");
    for needed in ["2.10.0", "key-value", "consumer"] {
        assert!(line.contains(needed), "{needed:?} missing from {line:?}");
    }
    assert!(!log.contains("untagged enum"), "{log}");
    assert!(took < Duration::from_secs(5), "{took:?}");
}

#[tokio::test]
async fn sigterm_while_the_broker_is_unreachable_exits_zero() {
    // Nothing listens here: pagewire retries its connection with backoff.
    let nowhere = format!("nats://127.0.0.1:{}", free_port());
    let mut svc = ChildService::start_at(&nowhere, &[]);
    svc.wait_log("cannot reach nats").await;
    let signalled = Instant::now();
    svc.signal("TERM");
    let status = svc.wait_exit(Duration::from_secs(10)).await;
    eprintln!("exit {status} {:?} after SIGTERM", signalled.elapsed());
    assert!(status.success(), "exit status {status}:\n{}", svc.log());
    assert!(svc.log().contains("shutdown before a connection was made"));
}

#[tokio::test]
async fn sigterm_during_a_connection_attempt_that_hangs_exits_zero_at_once() {
    // A listener that accepts and never says INFO: the attempt waits for nats.connect_timeout.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("nats://{}", silent.local_addr().expect("addr"));
    let mut svc = ChildService::start_at(&url, &[("PAGEWIRE_NATS__CONNECT_TIMEOUT", "60s")]);
    svc.wait_log("serving /healthz").await;
    // Let the attempt start (the listener's backlog completes the TCP handshake).
    tokio::time::sleep(Duration::from_millis(300)).await;
    let signalled = Instant::now();
    svc.signal("TERM");
    let status = svc.wait_exit(Duration::from_secs(10)).await;
    let took = signalled.elapsed();
    eprintln!("exit {status} {took:?} after SIGTERM");
    assert!(status.success(), "exit status {status}:\n{}", svc.log());
    assert!(took < Duration::from_secs(3), "{took:?}");
    drop(silent);
}

/// `pagewire tail` as a container's main process: SIGTERM (docker stop) and SIGINT (Ctrl-C)
/// while it waits for messages end it at once with exit 0. (Before: no handler, so as PID 1 it
/// ignored SIGTERM and every subscriber container was killed after the grace period.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tail_exits_zero_on_sigterm_and_sigint_while_waiting_for_messages() {
    let server = NatsServer::start();
    // The service provisions the topic streams tail reads.
    let svc = ChildService::start(&server, &[]);
    svc.wait_log("pagewire consuming").await;
    for signal in ["TERM", "INT"] {
        let mut cmd = support::pagewire::command(&["tail", "search", "--all"]);
        cmd.envs(support::checker::test_env(&server.url(), &[]));
        let mut tail = Pagewire::spawn(cmd);
        tail.wait_log("tailing").await;
        let signalled = Instant::now();
        tail.signal(signal);
        let status = tail.wait_exit(Duration::from_secs(5)).await;
        eprintln!("exit {status} {:?} after SIG{signal}", signalled.elapsed());
        assert!(
            status.success(),
            "SIG{signal}: exit {status}:\n{}",
            tail.log()
        );
    }
    svc.terminate().await;
}
