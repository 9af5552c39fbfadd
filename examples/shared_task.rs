//! # A task shared by sessions
//!
//! What this shows: `.shared()` puts a task in the runtime instead of the session, so
//! every session (every browser tab of `serve`) that runs the same (key, input) gets the
//! same task: one computation, the same progress and the same result. Closing a session
//! does not cancel it; `cancel()` from any session cancels it for all.
//!
//! Run: `cargo run --example shared_task` (two sessions on one runtime, printed side by
//! side), or `cargo run --example shared_task -- --serve` and open two tabs.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use streamtree::prelude::*;

/// The computation: gets the task's context, returns the rate.
pub type Compute = Arc<dyn Fn(&TaskContext) -> Result<String, String> + Send + Sync>;

/// The exchange rate, computed once for every session of the runtime.
#[component]
pub fn SharedRate(compute: Compute) -> Element {
    let rate = task("rate")
        .input("EUR/USD")
        .shared()
        .run(move |ctx: &TaskContext| compute(ctx));
    let body: Element = match_task(&rate)
        .loading_with(|p| match p {
            Some(p) => ProgressBar(p),
            None => Text("Queued…"),
        })
        .ready(Text)
        .error(ErrorBox)
        .into();
    Card([Markdown("### EUR/USD (shared by every session)"), body])
}

/// A computation that takes `ms` milliseconds in two halves and counts its runs, so the
/// page shows that sessions share one run.
pub fn counted_rate(ms: u64) -> Compute {
    let runs = Arc::new(AtomicU32::new(0));
    Arc::new(move |ctx| {
        let run = runs.fetch_add(1, Ordering::SeqCst) + 1;
        ctx.set_progress((0.0, "asking the bank"));
        ctx.wait_cancelled(Duration::from_millis(ms / 2));
        ctx.set_progress((0.5, "averaging"));
        ctx.wait_cancelled(Duration::from_millis(ms / 2));
        ctx.check_cancelled().map_err(|c| c.to_string())?;
        Ok(format!("1 EUR = 1.08 USD (computed by run #{run})"))
    })
}

/// The page, one per session.
pub fn app() -> Element {
    Page([SharedRate(counted_rate(300))]).title("Shared task")
}

fn main() -> std::io::Result<()> {
    if std::env::args().any(|a| a == "--serve") {
        eprintln!("shared_task: serving on http://127.0.0.1:8501/ (open two tabs)");
        return streamtree::serve(app).run();
    }
    // Two sessions on one runtime, as two browser tabs of one server would be.
    let runtime = streamtree::Runtime::builder().build();
    let compute = counted_rate(300);
    let page = move || Page([SharedRate(compute.clone())]);
    let mut tabs = [
        AppTest::with_session(
            Session::builder().runtime(runtime.clone()).build(),
            page.clone(),
        ),
        AppTest::with_session(Session::builder().runtime(runtime).build(), page),
    ];
    for (i, tab) in tabs.iter_mut().enumerate() {
        let text = tab
            .run_until(Duration::from_secs(10), |t| t.contains("computed"))
            .text();
        println!("session {}:\n{text}", i + 1);
    }
    Ok(())
}
