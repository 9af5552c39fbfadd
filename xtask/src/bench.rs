//! `cargo xtask bench`: every benchmark of the runtime crate, release build: render
//! beside maud, the task runtime beside rayon and thread-per-task, the live server's push
//! latency and memory, `push_bytes` (bytes and CPU per progress tick beside a 100 × 100
//! table, whole pages against keyed partial updates, and their push latency at 100
//! sessions), and `serve_abuse` (the demo server, built here in release, under
//! hostile clients). Extra arguments go to cargo (`--bench serve_abuse` runs that one).
//! `STREAMTREE_DEMO_BIN` aims `serve_abuse` at another server binary;
//! `STREAMTREE_ABUSE_N` sets its connection counts (default 1,000). Then the NATS figures
//! (`tests/benches/distributed.rs`: round trip, jobs/s, progress, cancel, failover, with
//! a real `nats-server` and two worker processes); `--distributed` runs only those.

use crate::util::{cargo, exec, project_root};

pub fn run(args: &[String]) -> Result<(), String> {
    if args.iter().any(|a| a == "--distributed") {
        return distributed();
    }
    let demo = match std::env::var("STREAMTREE_DEMO_BIN") {
        Ok(path) => path,
        Err(_) => {
            exec(cargo().args([
                "build",
                "--release",
                "--package",
                "streamtree-examples",
                "--example",
                "gallery",
            ]))?;
            let target = std::env::var_os("CARGO_TARGET_DIR")
                .map_or_else(|| project_root().join("target"), Into::into);
            let bin = target.join("release").join("examples").join("gallery");
            bin.to_string_lossy().into_owned()
        }
    };
    exec(
        cargo()
            .args(["bench", "--package", "streamtree", "--features", "serve"])
            .args(args)
            .env("STREAMTREE_DEMO_BIN", demo),
    )?;
    distributed()
}

/// The NATS figures: the bench profile, one run, printed beside the Celery reference.
fn distributed() -> Result<(), String> {
    exec(cargo().args([
        "bench",
        "--package",
        "streamtree-tests",
        "--bench",
        "distributed",
    ]))
}
