//! `cargo xtask demo --distributed`: `examples/distributed.rs` as separate processes on
//! one machine: `nats-server -js` on a free loopback port with a temporary store, two
//! workers (`w1`, `w2`) and the web server on port 8501 (`--port N`). Ctrl-C stops all of
//! them: every child is killed and waited for, and the store is removed ([`Demo`]'s
//! `Drop`, so an error half-way cleans up too).

use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::util::{cargo, exec, project_root};

/// The Debian package that ships the server, named in the error when it is missing.
const PACKAGE: &str = "nats-server";

/// Where Debian installs it; a non-root shell's PATH often lacks it.
const DEBIAN_SBIN: &str = "/usr/sbin";

pub fn run(args: &[String]) -> Result<(), String> {
    let port = match args {
        [] => 8501,
        [flag, n] if flag == "--port" => n.parse().map_err(|e| format!("--port {n}: {e}"))?,
        _ => return Err(format!("demo --distributed takes [--port N], not {args:?}")),
    };
    let path = std::env::var_os("PATH");
    let server = find_nats_server(path.as_deref(), &[Path::new(DEBIAN_SBIN)])?;
    // One build, then three processes of the same binary: three `cargo run`s would only
    // wait on each other's build lock.
    exec(cargo().args([
        "build",
        "--quiet",
        "--package",
        "streamtree-examples",
        "--features",
        "nats",
        "--example",
        "distributed",
    ]))?;
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| project_root().join("target"), Into::into);
    let example = target.join("debug").join("examples").join("distributed");

    let (stop_tx, stop_rx) = mpsc::channel();
    ctrlc::set_handler(move || {
        let _ = stop_tx.send(());
    })
    .map_err(|e| format!("could not install the Ctrl-C handler: {e}"))?;

    let mut demo = Demo::new()?;
    let nats_port = free_port()?;
    let url = format!("nats://127.0.0.1:{nats_port}");
    let store = demo.store.clone();
    demo.start(
        "nats-server",
        Command::new(&server)
            .args([
                "-js",
                "-a",
                "127.0.0.1",
                "-p",
                &nats_port.to_string(),
                "-sd",
            ])
            .arg(&store)
            // Its startup banner would bury the URL; a failure still shows as its exit.
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    )?;
    wait_listening(SocketAddr::from((Ipv4Addr::LOCALHOST, nats_port)))?;
    for name in ["w1", "w2"] {
        demo.start(
            name,
            Command::new(&example).args(["worker", "--nats", &url, "--name", name]),
        )?;
    }
    demo.start(
        "web",
        Command::new(&example).args(["web", "--nats", &url, "--port", &port.to_string()]),
    )?;
    wait_listening(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))?;
    eprintln!(
        "\n  streamtree distributed demo: http://127.0.0.1:{port}/\n  \
         (nats-server at {url}, workers w1 and w2; Ctrl-C stops everything)\n"
    );
    demo.wait(&stop_rx)
}

/// The demo's processes and the server's store; dropping it stops and removes them all.
struct Demo {
    /// Started processes, by name, in start order (stopped in reverse).
    children: Vec<(&'static str, Child)>,
    /// nats-server's JetStream store (`-sd`), removed on drop.
    store: PathBuf,
}

impl Demo {
    fn new() -> Result<Demo, String> {
        let store =
            std::env::temp_dir().join(format!("streamtree-demo-nats-{}", std::process::id()));
        std::fs::create_dir_all(&store)
            .map_err(|e| format!("could not create {}: {e}", store.display()))?;
        Ok(Demo {
            children: Vec::new(),
            store,
        })
    }

    fn start(&mut self, name: &'static str, cmd: &mut Command) -> Result<(), String> {
        let child = cmd
            .spawn()
            .map_err(|e| format!("could not start {name} ({cmd:?}): {e}"))?;
        self.children.push((name, child));
        Ok(())
    }

    /// Blocks until Ctrl-C, or until a process ends on its own (an error: the demo is
    /// incomplete without it).
    fn wait(&mut self, stop: &mpsc::Receiver<()>) -> Result<(), String> {
        loop {
            // Ctrl-C arrives on the channel; a child's exit can only be polled (std
            // has no wait-for-any), so check them between short waits.
            if stop.recv_timeout(Duration::from_millis(200)).is_ok() {
                eprintln!("demo: stopping");
                return Ok(());
            }
            for (name, child) in &mut self.children {
                if let Ok(Some(status)) = child.try_wait() {
                    return Err(format!("{name} exited ({status}); stopping the demo"));
                }
            }
        }
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        for (name, mut child) in self.children.drain(..).rev() {
            // Already ended (or Ctrl-C reached it first): kill fails harmlessly.
            let _ = child.kill();
            if let Err(e) = child.wait() {
                eprintln!("demo: could not wait for {name}: {e}");
            }
        }
        if let Err(e) = std::fs::remove_dir_all(&self.store) {
            eprintln!("demo: could not remove {}: {e}", self.store.display());
        }
    }
}

/// `nats-server` from `path` (the `PATH` value), then from `also` (Debian's `/usr/sbin`);
/// the error names the package to install.
fn find_nats_server(path: Option<&std::ffi::OsStr>, also: &[&Path]) -> Result<PathBuf, String> {
    let dirs = path.map(|p| std::env::split_paths(p).collect::<Vec<_>>());
    dirs.unwrap_or_default()
        .into_iter()
        .chain(also.iter().map(|d| d.to_path_buf()))
        .map(|dir| dir.join("nats-server"))
        .find(|candidate| is_executable(candidate))
        .ok_or_else(|| {
            format!(
                "`nats-server` is not on the PATH (nor in {also:?}); install Debian's \
                 `{PACKAGE}` package: apt-get install -y {PACKAGE}"
            )
        })
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// A loopback port nobody listens on now (the OS picks it; freed for the child to bind).
fn free_port() -> Result<u16, String> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free loopback port: {e}"))
}

/// Waits (up to 60 s: the first start may still be linking) until `addr` accepts.
fn wait_listening(addr: SocketAddr) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
        if Instant::now() > deadline {
            return Err(format!("nothing listens on {addr} after 60 s"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_server_names_the_debian_package() {
        let empty = std::env::temp_dir().join(format!("xtask-empty-{}", std::process::id()));
        std::fs::create_dir_all(&empty).unwrap();
        let e = find_nats_server(Some(empty.as_os_str()), &[]).unwrap_err();
        assert!(e.contains("apt-get install -y nats-server"), "{e}");
        std::fs::remove_dir_all(&empty).unwrap();
    }

    #[test]
    fn the_server_is_found_on_the_path() {
        let dir = std::env::temp_dir().join(format!("xtask-path-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let fake = dir.join("nats-server");
        std::fs::write(&fake, "#!/bin/sh\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(
            find_nats_server(Some(dir.as_os_str()), &[]),
            Ok(fake.clone())
        );
        // The fallback folder is searched after the PATH.
        assert_eq!(find_nats_server(None, &[&dir]), Ok(fake));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_free_port_can_be_bound() {
        let port = free_port().unwrap();
        assert_ne!(port, 0);
        TcpListener::bind((Ipv4Addr::LOCALHOST, port)).expect("the port is free");
    }
}
