//! # Many tasks, one loading UI, a stable order
//!
//! What this shows: `submit_many_ordered` submits jobs in sorted key order and returns
//! their handles in that order, so the page lists them the same way on every rerun,
//! whatever order they were declared in. `match_task_many` shows one loading branch with
//! combined progress ("k of n done") until every job is done, then all results.
//!
//! Run: `cargo run --example async_ordered_loader_demo`.

use std::sync::Arc;
use std::time::Duration;

use streamtree::prelude::*;

/// One job's work: from its key, its result.
pub type Fetch = Arc<dyn Fn(&str) -> String + Send + Sync>;

/// Three fetches declared out of order, shown in key order once all are done.
#[component]
pub fn OrderedLoader(fetch: Fetch) -> Element {
    let jobs = ["reports", "alerts", "metrics"].map(|key| {
        let fetch = fetch.clone();
        (key, move || fetch(key))
    });
    let tasks = submit_many_ordered(jobs);
    let keys: Vec<String> = tasks.iter().map(|t| t.key().to_owned()).collect();
    let body: Element = match_task_many(&tasks)
        // The group's progress: its fraction and "k of n done".
        .loading_with(ProgressBar)
        .ready(move |values| {
            VStack(
                keys.iter()
                    .zip(values)
                    .map(|(k, v)| Text(format!("{k}: {v}"))),
            )
        })
        .error(ErrorBox)
        .into();
    Card([Markdown("### Ordered loader"), body])
}

/// The same with `view!` and a tuple of two handles with different result types.
#[component]
pub fn PairLoader(fetch: Fetch) -> Element {
    let name = submit("pair-name", {
        let fetch = fetch.clone();
        move || fetch("pair-name")
    });
    let count = submit("pair-count", || 3_u32);
    view! {
        Card {
            Markdown("### Pair loader (view!)")
            match_task_many((name, count)) {
                loading => { Text("Loading…") },
                ready((n, c)) => { Text(format!("{n} has {c} items")) },
                error(e) => { ErrorBox(e) },
            }
        }
    }
}

/// A fetch that sleeps a little longer for each key, so they finish at different times.
pub fn slow_fetch() -> Fetch {
    Arc::new(|key| {
        std::thread::sleep(Duration::from_millis(40 * key.len() as u64));
        format!("{} rows", key.len() * 7)
    })
}

/// The page with real (sleeping) work.
pub fn app() -> Element {
    Page([OrderedLoader(slow_fetch()), PairLoader(slow_fetch())]).title("Ordered loader")
}

fn main() -> std::io::Result<()> {
    streamtree::live::terminal(app).run().map(drop)
}
