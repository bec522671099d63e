//! A NATS cluster of real nats-server processes on loopback, private to one test.
//!
//! Every node runs the same configuration file; what must differ per node (name, client,
//! cluster and monitoring ports, JetStream store, routes) is given on the command line, which
//! nats-server lets override the file. So a test can run a deployment's own file
//! (`deploy/nats/cluster.conf`) as it is, or a minimal generated one ([`NatsCluster::start`]).
//! A config file must therefore not set `jetstream.store_dir` (nats-server rejects the flag
//! and the key together).
//!
//! Readiness is the monitoring endpoint `/healthz`: it answers 200 only once the node runs
//! JetStream, knows the meta leader and has caught up with its streams, so a node restarted
//! by [`NatsCluster::restart`] is back in service when that call returns.
//!
//! `n = 1` starts a standalone server (no routes): the same helper runs single-node profiles.

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::nats_server_bin;

/// How long a node may take to become healthy.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

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
        Self::start_with_extra(n, "")
    }

    /// Starts `n` nodes from a minimal configuration with `extra` text appended
    /// (e.g. `max_payload: 65536`; not a second `jetstream` block).
    pub fn start_with_extra(n: usize, extra: &str) -> Self {
        let dir = tempfile::tempdir().expect("temp dir for the cluster");
        let config = dir.path().join("nats.conf");
        let cluster = if n > 1 {
            "cluster { name: pagewire-test }\n"
        } else {
            ""
        };
        std::fs::write(&config, format!("jetstream {{}}\n{cluster}{extra}\n"))
            .expect("write nats.conf");
        Self::launch(n, config, Vec::new(), dir)
    }

    /// Starts `n` nodes that all run `config` (an existing file, e.g.
    /// `deploy/nats/cluster.conf`); `env` is set for the servers, for files that use `$VAR`.
    pub fn start_with_config(n: usize, config: &Path, env: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().expect("temp dir for the cluster");
        let env = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Self::launch(n, config.to_owned(), env, dir)
    }

    fn launch(
        n: usize,
        config: PathBuf,
        env: Vec<(String, String)>,
        dir: tempfile::TempDir,
    ) -> Self {
        assert!(n >= 1, "a cluster needs at least one node");
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
            env,
            bin: nats_server_bin(),
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
            if http_ok(self.nodes[i].http_port, "/healthz") {
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

/// Whether `GET path` on the local monitoring port answers 200.
fn http_ok(port: u16, path: &str) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    if write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").is_err() {
        return false;
    }
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response
        .lines()
        .next()
        .is_some_and(|status| status.split_whitespace().nth(1) == Some("200"))
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
