//! # Loading UI: one task, four branches
//!
//! What this shows: `match_task` maps a task's status to a subtree: loading (with the
//! worker's progress), ready (with the result), error (with the message) and cancelled.
//! The job runs with `submit_fallible`; from its worker thread it reports progress with
//! `set_task_progress` and honours a cooperative cancel with `is_task_cancel_requested`
//! and `complete_cancelled`, the calls that silently do nothing in the Python reference.
//!
//! Run: `cargo run --example async_loader_demo`.

use std::sync::Arc;
use std::time::Duration;

use streamtree::prelude::*;

/// The loader's work: gets its task key, returns the value or an error message.
pub type Loader = Arc<dyn Fn(&str) -> Result<i32, String> + Send + Sync>;

/// Starts the load once, then shows whichever branch its status calls for.
#[component]
pub fn LoaderDemo(load: Loader) -> Element {
    let task = submit_fallible("loader", move || load("loader"));
    let running = !task.status().is_terminal();
    let cancel = {
        let task = task.clone();
        move || task.cancel()
    };
    let body: Element = match_task(&task)
        .loading_with(|progress| match progress {
            Some(p) => VStack([Text("Loading…"), ProgressBar(p)]),
            None => Text("Loading…"),
        })
        .ready(|n| Text(format!("Ready: result={n}")))
        .error(|message| ErrorBox(format!("Failed: {message}")))
        .cancelled(Text("Cancelled."))
        .into();
    Card([
        Markdown("### LoaderDemo"),
        body,
        Button("Cancel")
            .key("loader-cancel")
            .disabled(!running)
            .on_click(cancel),
    ])
}

/// The same with `view!`: the four arms of `match_task`.
#[component]
pub fn LoaderDemoView(load: Loader) -> Element {
    let task = submit_fallible("loader-view", move || load("loader-view"));
    view! {
        Card {
            Markdown("### LoaderDemo (view!)")
            match_task(task) {
                loading(p) => {
                    Text("Loading…")
                    if let Some(p) = p {
                        ProgressBar(p)
                    }
                },
                ready(n) => { Text(format!("Ready: result={n}")) },
                error(e) => { ErrorBox(format!("Failed: {e}")) },
                cancelled => { Text("Cancelled.") },
            }
        }
    }
}

/// Five steps of `step_ms` each, reporting progress and stopping early when cancelled;
/// then `result`.
pub fn stepped(step_ms: u64, result: Result<i32, String>) -> Loader {
    Arc::new(move |key| {
        for step in 0..5 {
            if is_task_cancel_requested(key) {
                complete_cancelled(key);
                return Err("cancelled".into());
            }
            set_task_progress(
                key,
                (f64::from(step) / 5.0, format!("step {} of 5", step + 1)),
            );
            std::thread::sleep(Duration::from_millis(step_ms));
        }
        result.clone()
    })
}

/// The page: both versions, with real (sleeping) work.
pub fn app() -> Element {
    Page([
        LoaderDemo(stepped(60, Ok(42))),
        LoaderDemoView(stepped(60, Ok(42))),
    ])
    .title("Loader")
}

fn main() -> std::io::Result<()> {
    streamtree::live::terminal(app).run().map(drop)
}
