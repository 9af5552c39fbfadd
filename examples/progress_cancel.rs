//! # Progress, cooperative cancel, dismiss and retry
//!
//! What this shows: a long job reports progress from its worker (`TaskContext::
//! set_progress`) and checks for a cancel request between steps. The Cancel button asks it
//! to stop; it then ends as Cancelled. Once the job has ended, Dismiss removes it and
//! Retry removes it and starts a fresh one on the next rerun. A debug panel lists
//! `summarize_async_tasks()`: every task of the session with status, progress, attempt,
//! queue position, input fingerprint, staleness and timings (queued, ran, elapsed, ETA,
//! age).
//!
//! Run: `cargo run --example progress_cancel` (in the terminal the job runs to the end;
//! `cargo xtask demo --serve` gives you the buttons).

use std::sync::Arc;
use std::time::Duration;

use streamtree::asyncio::TaskSummary;
use streamtree::prelude::*;

/// One step of the long job (step number, 0-based); passed in so tests can gate it.
pub type Step = Arc<dyn Fn(u32) + Send + Sync>;

/// The key of the long job.
pub const LONG_JOB: &str = "long-job";

/// Steps in the long job.
pub const STEPS: u32 = 10;

/// The long job with its buttons: Cancel while it runs, Dismiss and Retry once it ended.
#[component]
pub fn LongJob(step: Step) -> Element {
    let enabled = session_state("long-job-enabled", || true);
    if !enabled.get() {
        let start = enabled.clone();
        return Card([
            Markdown("### Long job"),
            Text("Dismissed."),
            Button("Start")
                .key("long-job-start")
                .on_click(move || start.set(true)),
        ]);
    }
    let task = submit_fallible_with(LONG_JOB, move |ctx| {
        for i in 0..STEPS {
            // A cancel request ends the task Cancelled here: no dummy value to return.
            ctx.check_cancelled()?;
            ctx.set_progress((
                f64::from(i) / f64::from(STEPS),
                format!("step {} of {STEPS}", i + 1),
            ));
            step(i);
        }
        Ok::<_, Cancelled>(STEPS)
    });
    let status: Element = match_task(&task)
        .loading_with(|p| match p {
            Some(p) => ProgressBar(p),
            None => Text("Queued…"),
        })
        .ready(|steps| Text(format!("Finished all {steps} steps.")))
        .cancelled(Text("Cancelled."))
        .into();
    let buttons = if task.status().is_terminal() {
        let (dismiss_flag, retry_flag) = (enabled.clone(), enabled);
        HStack([
            Button("Dismiss").key("long-job-dismiss").on_click(move || {
                dismiss_task(LONG_JOB);
                dismiss_flag.set(false);
            }),
            Button("Retry").key("long-job-retry").on_click(move || {
                // The next rerun finds no task under the key and submits a fresh one.
                dismiss_task(LONG_JOB);
                retry_flag.set(true);
            }),
        ])
    } else {
        let handle = task.clone();
        let requested = task.is_cancel_requested();
        HStack([Button(if requested { "Cancelling…" } else { "Cancel" })
            .key("long-job-cancel")
            .disabled(requested)
            .on_click(move || handle.cancel())])
    };
    Card([Markdown("### Long job"), status, buttons])
}

/// Every task of the session, one line each: what a debugging panel needs, including
/// the life-cycle's timing data (attempt, elapsed, ETA, queue position, input
/// fingerprint, staleness).
#[component]
pub fn TaskDebugPanel() -> Element {
    let rows = summarize_async_tasks();
    let mut lines = vec![Markdown(format!("### Tasks ({})", rows.len()))];
    lines.extend(rows.into_iter().map(|row| Text(debug_line(&row))));
    Card(lines).key("task-debug")
}

/// One task's line in the debug panel: identity and status first, then what is going on,
/// then the timings.
pub fn debug_line(row: &TaskSummary) -> String {
    let mut line = row.key.clone();
    if let Some(input) = &row.input {
        line.push_str(&format!(" [input {input}]"));
    }
    line.push_str(&format!(" · {}", row.status));
    if row.shared {
        line.push_str(" · shared");
    }
    if row.attempt > 1 {
        line.push_str(&format!(" · attempt {}", row.attempt));
    }
    if let Some(position) = row.queue_position {
        line.push_str(&format!(" · queue #{}", position + 1));
    }
    if !row.progress.is_empty() {
        line.push_str(&format!(" · {}", row.progress));
    }
    if row.cancel_requested {
        line.push_str(" · cancel requested");
    }
    if row.refreshing {
        line.push_str(" · refreshing");
    } else if row.stale {
        line.push_str(" · stale");
    }
    if let Some(error) = &row.error_preview {
        line.push_str(&format!(" · error: {error}"));
    }
    line.push_str(&format!(" · queued {:.0} ms", row.queued_ms));
    if let Some(ms) = row.running_ms {
        line.push_str(&format!(" · ran {ms:.0} ms"));
    }
    if let Some(ms) = row.elapsed_ms {
        line.push_str(&format!(" · elapsed {ms:.0} ms"));
    }
    if let Some(ms) = row.eta_ms {
        line.push_str(&format!(" · eta {ms:.0} ms"));
    }
    if let Some(ms) = row.age_ms {
        line.push_str(&format!(" · age {ms:.0} ms"));
    }
    line
}

/// Steps that take `ms` milliseconds each.
pub fn timed_steps(ms: u64) -> Step {
    Arc::new(move |_| std::thread::sleep(Duration::from_millis(ms)))
}

/// The page with real (sleeping) steps.
pub fn app() -> Element {
    Page([LongJob(timed_steps(150)), TaskDebugPanel()]).title("Progress and cancel")
}

fn main() -> std::io::Result<()> {
    streamtree::live::terminal(app).run().map(drop)
}
