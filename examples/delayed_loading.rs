//! # Loading without flicker
//!
//! What this shows: `match_task(&h).delay(d)` shows nothing for the first `d` of a run
//! instead of the loading arm, so a task that finishes within `d` never flashes a
//! spinner; a slower one shows the loading arm from `d` on (the live runners rerun at the
//! deadline by themselves). The same in `view!` is `match_task(h, delay = d) { .. }`.
//!
//! Run: `cargo run --example delayed_loading`.

use std::sync::Arc;
use std::time::Duration;

use streamtree::prelude::*;

/// The work: gets the task's context, returns the answer.
pub type Work = Arc<dyn Fn(&TaskContext) -> Result<u32, String> + Send + Sync>;

/// How long a run may take before the loading arm shows.
pub const DELAY: Duration = Duration::from_millis(200);

/// A quick and a slow task, both behind the same loading delay.
#[component]
pub fn DelayedLoading(quick: Work, slow: Work, delay: Duration) -> Element {
    let fast = task("quick").run(move |ctx: &TaskContext| quick(ctx));
    let fast: Element = match_task(&fast)
        .delay(delay)
        .loading(Text("Quick: loading…"))
        .ready(|n| Text(format!("Quick: {n}")))
        .into();
    let slow = task("slow").run(move |ctx: &TaskContext| slow(ctx));
    view! {
        Card {
            Markdown("### Delayed loading")
            {fast}
            match_task(slow, delay = delay) {
                loading => { Text("Slow: loading…") },
                ready(n, refreshing) => {
                    Text(format!("Slow: {n}"))
                    if refreshing {
                        Text("(refreshing)")
                    }
                },
                error(e) => { ErrorBox(e) },
            }
        }
    }
}

/// Work that takes `ms` milliseconds and answers `n`.
pub fn takes(ms: u64, n: u32) -> Work {
    Arc::new(move |ctx| {
        if ctx.wait_cancelled(Duration::from_millis(ms)) {
            return Err("cancelled".to_owned());
        }
        Ok(n)
    })
}

/// The page: a 20 ms task (never shows loading) and a 700 ms one (shows it from 200 ms).
pub fn app() -> Element {
    Page([DelayedLoading(takes(20, 1), takes(700, 2), DELAY)]).title("Delayed loading")
}

fn main() -> std::io::Result<()> {
    streamtree::live::terminal(app).run().map(drop)
}
