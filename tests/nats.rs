//! A real `nats-server -js` for tests: a free loopback port and a temporary store per
//! server, stopped (killed, its store removed) on drop.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// How long a server may take to say it is ready.
const READY: Duration = Duration::from_secs(20);

/// A running `nats-server` with JetStream on.
///
/// # Example
/// ```no_run
/// let server = streamtree_tests::nats::NatsServer::start();
/// assert!(server.url().starts_with("nats://127.0.0.1:"));
/// ```
#[derive(Debug)]
pub struct NatsServer {
    child: Child,
    port: u16,
    dir: PathBuf,
    /// The extra arguments it was started with (kept for a restart).
    args: Vec<String>,
    log: Arc<Mutex<String>>,
}

/// The `nats-server` binary: on the PATH, or where Debian's package puts it.
pub fn binary() -> PathBuf {
    let mut candidates: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join("nats-server"))
                .collect()
        })
        .unwrap_or_default();
    candidates.push(PathBuf::from("/usr/sbin/nats-server"));
    candidates.push(PathBuf::from("/usr/bin/nats-server"));
    candidates
        .into_iter()
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "`nats-server` is not installed: install Debian's `nats-server` package \
             (`apt-get install nats-server`); the NATS tests start their own server"
            )
        })
}

impl NatsServer {
    /// Starts a server on a free loopback port with a new temporary store, and waits
    /// (at most 20 s) until it says it is ready.
    ///
    /// # Panics
    /// Without `nats-server` (the message names the Debian package), or when it does
    /// not start.
    pub fn start() -> NatsServer {
        Self::start_with(&[])
    }

    /// [`start`](Self::start) with more command-line arguments (`--auth TOKEN`, say).
    pub fn start_with(args: &[&str]) -> NatsServer {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "streamtree-nats-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("creating the server's store directory");
        let port = free_port();
        let args = args.iter().map(|a| (*a).to_owned()).collect();
        Self::start_at(port, dir, args)
    }

    fn start_at(port: u16, dir: PathBuf, args: Vec<String>) -> NatsServer {
        let mut child = Command::new(binary())
            .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
            .arg(&dir)
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting nats-server");
        let log = Arc::new(Mutex::new(String::new()));
        let (ready_tx, ready) = std::sync::mpsc::channel();
        let stderr = child.stderr.take().expect("piped stderr");
        let lines = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.contains("Server is ready") {
                    let _ = ready_tx.send(());
                }
                let mut log = lines.lock().unwrap_or_else(PoisonError::into_inner);
                log.push_str(&line);
                log.push('\n');
            }
        });
        let server = NatsServer {
            child,
            port,
            dir,
            args,
            log,
        };
        assert!(
            ready.recv_timeout(READY).is_ok(),
            "nats-server did not get ready within {READY:?}; its log:\n{}",
            server.log()
        );
        server
    }

    /// `nats://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// What the server logged so far.
    pub fn log(&self) -> String {
        self.log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Stops the server (SIGTERM: it writes its store out) and starts it again on the
    /// same port and store: a lost connection, for the clients.
    pub fn restart(mut self) -> NatsServer {
        let stopped = Command::new("kill")
            .arg(self.child.id().to_string())
            .status()
            .is_ok_and(|s| s.success());
        if !stopped {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
        let (port, dir, args) = (
            self.port,
            std::mem::take(&mut self.dir),
            std::mem::take(&mut self.args),
        );
        // Its process is reaped and its store moves to the new server: nothing to drop.
        std::mem::forget(self);
        Self::start_at(port, dir, args)
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if !self.dir.as_os_str().is_empty() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// A loopback port nothing listens on now.
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binding a free port");
    listener.local_addr().expect("a bound address").port()
}
