//! The pagewire binary as a child process: the one place that spawns it.
//!
//! [`command`] is `pagewire ARGS` with nothing from the developer's environment (no
//! `RUST_LOG`, no `PAGEWIRE_*`: the test flags share the prefix and would be unknown keys);
//! the test adds its own environment. [`Pagewire`] runs such a command with its stderr (the
//! log) captured in a file, and waits for a log line, signals it and waits for its exit.

use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use super::wait::{poll_blocking, WAIT};

/// `pagewire ARGS` with a clean environment and stdin closed.
pub fn command(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pagewire"));
    cmd.args(args).env_remove("RUST_LOG").stdin(Stdio::null());
    for (k, _) in std::env::vars_os() {
        if k.to_str().is_some_and(|k| k.starts_with("PAGEWIRE_")) {
            cmd.env_remove(k);
        }
    }
    cmd
}

/// A running pagewire process, killed on drop.
pub struct Pagewire {
    /// Behind a lock so that `&self` methods can see whether it has exited.
    child: Mutex<Child>,
    pid: u32,
    stdout: PathBuf,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Pagewire {
    /// Spawns `cmd` with stdout and stderr (the log) captured in files.
    pub fn spawn(mut cmd: Command) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let stdout = dir.path().join("stdout");
        let log = dir.path().join("pagewire.log");
        cmd.stdout(std::fs::File::create(&stdout).expect("stdout file"))
            .stderr(std::fs::File::create(&log).expect("log file"));
        let child = cmd.spawn().expect("spawn pagewire");
        Pagewire {
            pid: child.id(),
            child: Mutex::new(child),
            stdout,
            log,
            _dir: dir,
        }
    }

    /// The log (stderr) so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Standard output so far.
    pub fn stdout(&self) -> String {
        std::fs::read_to_string(&self.stdout).unwrap_or_default()
    }

    /// Process id, for reading `/proc/<pid>`.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The exit status, once it has exited.
    pub fn try_wait(&self) -> Option<ExitStatus> {
        self.child.lock().unwrap().try_wait().expect("try_wait")
    }

    /// Sends `signal` (`KILL`, `TERM`, `INT`, `STOP`, `CONT`) to the process.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.pid.to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{signal} failed");
    }

    /// Waits until the log contains `needle` (e.g. `pagewire consuming`); fails at once if
    /// the process exits first.
    pub async fn wait_log(&self, needle: &str) {
        let deadline = std::time::Instant::now() + WAIT;
        while !self.log().contains(needle) {
            if let Some(status) = self.try_wait() {
                assert!(
                    self.log().contains(needle),
                    "pagewire exited ({status}) without logging {needle:?}:\n{}",
                    self.log()
                );
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "pagewire never logged {needle:?}:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits for the process to exit, up to `timeout`.
    pub async fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            if let Some(status) = self.try_wait() {
                return status;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "pagewire did not exit within {timeout:?}:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits for the process to exit, up to `timeout`, blocking the thread; `None` when it
    /// still runs.
    pub fn wait_exit_blocking(&mut self, timeout: Duration) -> Option<ExitStatus> {
        poll_blocking(timeout, Duration::from_millis(25), || self.try_wait())
    }

    /// SIGKILL, and reap.
    pub async fn kill(mut self) {
        self.signal("KILL");
        let status = self.wait_exit(WAIT).await;
        assert!(!status.success(), "SIGKILL ends the process");
    }

    /// SIGTERM, and assert it drained and exited 0.
    pub async fn terminate(mut self) {
        self.signal("TERM");
        let status = self.wait_exit(WAIT).await;
        assert!(status.success(), "exit status {status}:\n{}", self.log());
    }
}

impl Drop for Pagewire {
    fn drop(&mut self) {
        let child = self.child.get_mut().unwrap_or_else(|e| e.into_inner());
        let _ = child.kill();
        let _ = child.wait();
    }
}
