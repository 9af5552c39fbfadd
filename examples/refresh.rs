//! # Refresh with a button
//!
//! What this shows: `TaskHandle::refresh` from a button handler runs a finished task
//! again on the next rerun, while the old result stays on screen (`ready_with` gets
//! `refreshing = true`). The button is disabled while the refresh runs.
//!
//! Run: `cargo run --example refresh` (`cargo xtask demo --serve` gives you the button).

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use streamtree::prelude::*;

/// The fetch: gets the task's context, returns the quote to show.
pub type Fetch = Arc<dyn Fn(&TaskContext) -> Result<String, String> + Send + Sync>;

/// The quote with a Refresh button.
#[component]
pub fn Quote(fetch: Fetch) -> Element {
    let quote = task("quote").run(move |ctx: &TaskContext| fetch(ctx));
    let body: Element = match_task(&quote)
        .loading(Text("Fetching the quote…"))
        .ready_with(|text, refreshing| {
            if refreshing {
                Text(format!("{text} (refreshing…)"))
            } else {
                Text(text)
            }
        })
        .error(|message| ErrorBox(format!("Fetch failed: {message}")))
        .into();
    let busy = !quote.status().is_terminal();
    let label = match (busy, quote.is_refreshing()) {
        (false, _) => "Refresh",
        (true, true) => "Refreshing…",
        (true, false) => "Loading…",
    };
    let handle = quote.clone();
    let button = Button(label)
        .key("quote-refresh")
        .disabled(busy)
        .on_click(move || handle.refresh());
    Card([Markdown("### Quote (refresh)"), body, button])
}

/// A fetch that takes `ms` milliseconds and numbers its quotes.
pub fn numbered_quotes(ms: u64) -> Fetch {
    let count = Arc::new(AtomicU32::new(0));
    Arc::new(move |ctx| {
        if ctx.wait_cancelled(Duration::from_millis(ms)) {
            return Err("cancelled".to_owned());
        }
        Ok(format!(
            "Quote #{}",
            count.fetch_add(1, Ordering::SeqCst) + 1
        ))
    })
}

/// The page with a real (waiting) fetch.
pub fn app() -> Element {
    Page([Quote(numbered_quotes(300))]).title("Refresh")
}

fn main() -> std::io::Result<()> {
    streamtree::live::terminal(app).run().map(drop)
}
