//! # The demo gallery
//!
//! What this shows: every seed demo on one page — `AsyncDemo`, `ManySmallJobs`,
//! `LoaderDemo`, the ordered loader, and the long job with progress, cancel, dismiss and
//! retry — with the task debug panel, plus every plain element once. In a terminal it
//! reruns live until all tasks settle, then exits; `--serve` serves it to a browser.
//!
//! Run: `cargo xtask demo` (terminal), `cargo xtask demo --serve [--port N]` (browser),
//! `cargo run --example gallery -- --html` (one HTML document of the first rerun).

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
#[path = "progress_cancel.rs"]
mod progress_cancel;

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
        Elements(),
        progress_cancel::TaskDebugPanel(),
    ])
    .title("streamtree gallery")
}

/// `--port N`'s value, or the default 8501 (Streamlit's).
fn port(args: &[String]) -> Result<u16, String> {
    match args.iter().position(|a| a == "--port") {
        None => Ok(8501),
        Some(i) => {
            let value = args
                .get(i + 1)
                .ok_or("`--port` needs a number, as in `--port 8502`")?;
            value
                .parse()
                .map_err(|_| format!("`--port {value}`: not a port number (1 to 65535)"))
        }
    }
}

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = if args.iter().any(|a| a == "--serve") {
        match port(&args) {
            // `run` prints the URL once the port is bound.
            Ok(port) => streamtree::serve(app).bind(([127, 0, 0, 1], port)).run(),
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
