//! Processes for the distributed tests and bench: `examples/distributed.rs` (built by
//! cargo as this package's `distributed` binary) as workers and web replicas, each killed
//! and waited for on drop, with every output line collected so a test can wait for one
//! with a deadline.
#![allow(dead_code, unreachable_pub)]

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// The example binary, built by cargo for this package (`[[bin]] distributed`).
pub const BIN: &str = env!("CARGO_BIN_EXE_distributed");

/// Every line some processes wrote (stdout and stderr interleaved), shared by handle:
/// the two workers of a test write into one, so a test can wait for either.
#[derive(Clone, Default)]
pub struct Log(Arc<Lines>);

#[derive(Default)]
struct Lines {
    /// Appended by the process's two reader threads; read under the lock by waiters.
    lines: Mutex<Vec<String>>,
    /// Notified after each append.
    added: Condvar,
}

/// One child process; dropping it kills it (SIGKILL) and waits for it.
pub struct Proc {
    /// What it is, for messages (`w1`, `web`).
    pub name: String,
    child: Child,
    /// Where its output goes.
    pub log: Log,
}

impl Proc {
    /// Starts `BIN args…` with both pipes read into `log`.
    pub fn start(name: &str, args: &[&str], log: &Log) -> Proc {
        Proc::start_program(std::path::Path::new(BIN), name, args, log)
    }

    /// Starts `program args…` with both pipes read into `log`.
    pub fn start_program(program: &std::path::Path, name: &str, args: &[&str], log: &Log) -> Proc {
        let mut child = Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("could not start {} {args:?}: {e}", program.display()));
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().expect("piped stderr");
        collect(stdout, log.0.clone());
        collect(stderr, log.0.clone());
        Proc {
            name: name.to_owned(),
            child,
            log: log.clone(),
        }
    }

    /// A worker named `name` on `nats`, writing into `log`.
    pub fn worker(nats: &str, name: &str, log: &Log) -> Proc {
        Proc::start(name, &["worker", "--nats", nats, "--name", name], log)
    }

    /// A web replica on `nats` and a free port (its own log), and the address it serves on.
    pub fn web(nats: &str) -> (Proc, SocketAddr) {
        let web = Proc::start(
            "web",
            &["web", "--nats", nats, "--port", "0"],
            &Log::default(),
        );
        let line = web.log.wait_line(|l| l.starts_with("serving on http://"));
        let addr = line["serving on http://".len()..]
            .trim_end_matches('/')
            .parse()
            .unwrap_or_else(|e| panic!("`{line}`: {e}"));
        (web, addr)
    }

    /// `kill -9`, and waits for the process to be gone.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Log {
    /// The first line matching `want` (already written or coming), within [`GUARD`].
    pub fn wait_line(&self, want: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + GUARD;
        let mut lines = self.0.lines.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if let Some(line) = lines.iter().find(|l| want(l)) {
                return line.clone();
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "no expected line within {GUARD:?}; the processes wrote:\n{}",
                lines.join("\n")
            );
            lines = self
                .0
                .added
                .wait_timeout(lines, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// How many lines so far match `want`.
    pub fn count(&self, want: impl Fn(&str) -> bool) -> usize {
        let lines = self.0.lines.lock().unwrap_or_else(PoisonError::into_inner);
        lines.iter().filter(|l| want(l)).count()
    }

    /// Everything written so far, for failure messages.
    pub fn text(&self) -> String {
        let lines = self.0.lines.lock().unwrap_or_else(PoisonError::into_inner);
        lines.join("\n")
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The failure guard of every wait.
pub const GUARD: Duration = Duration::from_secs(60);

/// Reads `pipe` line by line into `out` on its own thread, until the process closes it.
fn collect(pipe: impl Read + Send + 'static, out: Arc<Lines>) {
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            out.lines
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(line);
            out.added.notify_all();
        }
    });
}
