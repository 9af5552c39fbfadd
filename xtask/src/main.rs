//! Project tasks, run as `cargo xtask <task>`: a small `match` on the task name, one file
//! per task. Every check `ci` runs is also a `#[test]` (see `tests/tidy.rs`), so
//! `cargo test --workspace` stays the single source of truth.

mod bench;
mod ci;
mod demo;
mod distributed;
mod screenshot;
mod util;

use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let task = args.next();
    let rest: Vec<String> = args.collect();
    let result = match task.as_deref() {
        Some("demo") => demo::run(&rest),
        Some("ci") => ci::run(&rest),
        Some("bench") => bench::run(&rest),
        Some("screenshot") => screenshot::run(&rest),
        Some("help" | "--help" | "-h") | None => {
            print_help();
            Ok(())
        }
        Some(other) => {
            print_help();
            Err(format!("unknown task `{other}`"))
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

fn print_help() {
    eprintln!(
        "\
cargo xtask <task>

tasks:
  demo [ARGS..]  run the demo gallery (arguments go to the gallery example:
                 --serve [--host H] [--port N], or STREAMTREE_HOST/STREAMTREE_PORT)
  demo --distributed [--port N]
                 nats-server (Debian package `nats-server`), two workers and the
                 web server of examples/distributed.rs on 8501; Ctrl-C stops all
  ci             fmt --check, clippy -D warnings (all targets and features),
                 rustdoc -D warnings, test --workspace with CI=true, loom models
  bench [ARGS..] run the benchmarks of the streamtree crate, release build, with
                 serve_abuse (the demo server under hostile clients; ARGS go to cargo),
                 then the NATS figures (--distributed: only those)
  screenshot     the README's pictures, docs/dashboard.png and docs/screenshot.png,
                 taken in headless Chromium by the browser tests"
    );
}
