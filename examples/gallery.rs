//! # The demo gallery
//!
//! What this shows: every seed demo on one page — `AsyncDemo`, `ManySmallJobs`,
//! `LoaderDemo`, the ordered loader, and the long job with progress, cancel, dismiss and
//! retry; the task life-cycle examples (keep_previous, refresh, retry, timeout, a shared
//! task, delayed loading); the sales dashboard (inputs driving a task, metrics, a table, a
//! chart) — with the task debug panel, plus every plain element once. In a terminal it
//! reruns live until all tasks settle, then exits; `--serve` serves it to a browser.
//!
//! Run: `cargo xtask demo` (terminal), `cargo xtask demo --serve [--host H] [--port N]`
//! (browser; the address may also come from `STREAMTREE_HOST`/`STREAMTREE_PORT`; Ctrl-C
//! or SIGTERM stops it gracefully), `cargo run --example gallery -- --html` (one HTML
//! document of the first rerun). In a terminal, Tab / Shift-Tab move among the buttons,
//! Enter or Space presses one, `q` quits; piped, it prints task status changes and the
//! final page, or every frame with `--frames`.

#[allow(dead_code)]
#[path = "async_bg.rs"]
mod async_bg;
#[allow(dead_code)]
#[path = "async_loader_demo.rs"]
mod async_loader_demo;
#[allow(dead_code)]
#[path = "async_ordered_loader_demo.rs"]
mod async_ordered_loader_demo;
#[allow(dead_code)]
#[path = "dashboard.rs"]
mod dashboard;
#[allow(dead_code)]
#[path = "delayed_loading.rs"]
mod delayed_loading;
#[allow(dead_code)]
#[path = "keep_previous.rs"]
mod keep_previous;
#[allow(dead_code)]
#[path = "progress_cancel.rs"]
mod progress_cancel;
#[allow(dead_code)]
#[path = "refresh.rs"]
mod refresh;
#[allow(dead_code)]
#[path = "retry.rs"]
mod retry;
#[allow(dead_code)]
#[path = "shared_task.rs"]
mod shared_task;
#[allow(dead_code)]
#[path = "timeout.rs"]
mod timeout;

use streamtree::prelude::*;

/// Every plain element once.
#[component]
fn Elements() -> Element {
    Card([
        Markdown(
            "### Elements\n\nText, *Markdown*, dividers, progress bars and buttons; all text is escaped.",
        ),
        Text("<script>alert('escaped, never executed')</script>"),
        Divider(),
        ProgressBar(0.35).message("a progress bar at 35%"),
        ProgressBar(f64::NAN).message("an indeterminate one"),
        HStack([Button("A button"), Button("Disabled").disabled(true)]),
    ])
}

/// The gallery page.
pub fn app() -> Element {
    Page([
        Markdown(
            "Every demo below runs its work on background threads. The page reruns \
             exactly when a task changes: no polling, no manual refresh.",
        ),
        async_bg::AsyncDemo(async_bg::sleepy(300, 42)),
        async_bg::ManySmallJobs(async_bg::sleepy(100, 10), async_bg::sleepy(200, 20)),
        async_loader_demo::LoaderDemo(async_loader_demo::stepped(300, Ok(42))),
        async_ordered_loader_demo::OrderedLoader(async_ordered_loader_demo::slow_fetch()),
        progress_cancel::LongJob(progress_cancel::timed_steps(300)),
        Markdown(
            "## Task life-cycle\n\nTasks keyed by their inputs, refreshed, retried, timed \
             out, shared and shown without flicker (short real timings, so the page settles \
             by itself).",
        ),
        keep_previous::RegionSales(keep_previous::slow_sales(300)),
        refresh::Quote(refresh::numbered_quotes(300)),
        retry::FlakyCall(retry::flaky(2, 150), std::time::Duration::from_millis(100)),
        timeout::HungCall(
            timeout::hung(std::time::Duration::from_secs(60)),
            std::time::Duration::from_millis(500),
        ),
        shared_task::SharedRate(shared_task::counted_rate(400)),
        delayed_loading::DelayedLoading(
            delayed_loading::takes(20, 1),
            delayed_loading::takes(700, 2),
            delayed_loading::DELAY,
        ),
        Markdown(
            "## A data app\n\nA region `Select` and a days `Slider` drive a task; the \
             previous figures stay shown while a new load runs.",
        ),
        dashboard::Dashboard(dashboard::loader(
            dashboard::sleepy(100),
            dashboard::wall_clock(),
        )),
        Elements(),
        progress_cancel::TaskDebugPanel(),
    ])
    .title("streamtree gallery")
}

/// `--port N`'s value, or the default 8501 (Streamlit's).
/// The value after `--flag`, else the environment variable `env`, else `default`.
fn setting(args: &[String], flag: &str, env: &str, default: &str) -> Result<String, String> {
    match args.iter().position(|a| a == flag) {
        Some(i) => args
            .get(i + 1)
            .cloned()
            .ok_or_else(|| format!("`{flag}` needs a value")),
        None => Ok(std::env::var(env).unwrap_or_else(|_| default.to_owned())),
    }
}

/// Where to serve: `--host`/`--port`, else `STREAMTREE_HOST`/`STREAMTREE_PORT`, else
/// `127.0.0.1:8501`.
fn address(args: &[String]) -> Result<std::net::SocketAddr, String> {
    let host = setting(args, "--host", "STREAMTREE_HOST", "127.0.0.1")?;
    let port = setting(args, "--port", "STREAMTREE_PORT", "8501")?;
    let port: u16 = port
        .parse()
        .map_err(|_| format!("port `{port}`: not a port number (1 to 65535)"))?;
    let ip: std::net::IpAddr = host
        .parse()
        .map_err(|_| format!("host `{host}`: not an IP address (as in 127.0.0.1 or ::)"))?;
    Ok((ip, port).into())
}

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = if args.iter().any(|a| a == "--serve") {
        match address(&args) {
            Ok(addr) => {
                eprintln!("gallery: serving on http://{addr}/ (Ctrl-C stops)");
                streamtree::serve(app).bind(addr).inspector(true).run()
            }
            Err(e) => {
                eprintln!("gallery: {e}");
                return std::process::ExitCode::from(2);
            }
        }
    } else if args.iter().any(|a| a == "--html") {
        let mut test = AppTest::new(app);
        print!("{}", test.run().html());
        Ok(())
    } else {
        streamtree::live::terminal(app)
            .follow(args.iter().any(|a| a == "--follow"))
            .frames(args.iter().any(|a| a == "--frames"))
            .run()
            .map(drop)
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gallery: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
