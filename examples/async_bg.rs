//! # Background tasks: submit once, poll on every rerun
//!
//! What this shows: `submit` starts a job on a worker thread the first time a rerun asks
//! for its key; later reruns get a handle to the same task and read its status and
//! result. `AsyncDemo` runs one 0.3 s job returning 42; `ManySmallJobs` starts two jobs
//! with `submit_many` and shows their sum once both are done. The live runner reruns
//! exactly when a task changes: no polling, no manual refresh.
//!
//! Run: `cargo run --example async_bg`.

use std::sync::Arc;
use std::time::Duration;

use streamtree::prelude::*;

/// The work a demo runs, passed in so tests can gate it.
pub type Work<T> = Arc<dyn Fn() -> T + Send + Sync>;

/// One job: its status on every rerun, then its result.
#[component]
pub fn AsyncDemo(work: Work<i32>) -> Element {
    let task = submit("async-demo", move || work());
    let mut lines = vec![
        Markdown("### AsyncDemo"),
        Text(format!("Status: {}", task.status())),
    ];
    if let Some(value) = task.result() {
        lines.push(Text(format!("Result: {value}")));
        lines.push(Markdown("_Task finished._"));
    }
    Card(lines)
}

/// Two jobs started together; the sum once both are done.
#[component]
pub fn ManySmallJobs(first: Work<i32>, second: Work<i32>) -> Element {
    let jobs = [("small-a", first), ("small-b", second)].map(|(key, work)| (key, move || work()));
    let tasks = submit_many(jobs);
    let summary = match (tasks[0].result(), tasks[1].result()) {
        (Some(a), Some(b)) => Text(format!("{a} + {b} = {}", a + b)),
        _ => {
            let done = tasks
                .iter()
                .filter(|t| t.status() == TaskStatus::Done)
                .count();
            Text(format!("Waiting for jobs: {done} of {} done", tasks.len()))
        }
    };
    Card([Markdown("### ManySmallJobs"), summary])
}

/// The same, with `view!`.
#[component]
pub fn AsyncDemoView(work: Work<i32>) -> Element {
    let task = submit("async-demo-view", move || work());
    let result = task.result();
    view! {
        Card {
            Markdown("### AsyncDemo (view!)")
            Text(format!("Status: {}", task.status()))
            if let Some(value) = result {
                Text(format!("Result: {value}"))
                Markdown("_Task finished._")
            }
        }
    }
}

/// A job that sleeps for `ms` milliseconds, then returns `value`.
pub fn sleepy(ms: u64, value: i32) -> Work<i32> {
    Arc::new(move || {
        std::thread::sleep(Duration::from_millis(ms));
        value
    })
}

/// The page: both demos with real (sleeping) work.
pub fn app() -> Element {
    Page([
        AsyncDemo(sleepy(300, 42)),
        AsyncDemoView(sleepy(300, 42)),
        ManySmallJobs(sleepy(100, 10), sleepy(200, 20)),
    ])
    .title("Background tasks")
}

fn main() -> std::io::Result<()> {
    streamtree::live::terminal(app).run().map(drop)
}
