//! # Retry of a flaky call
//!
//! What this shows: `.retry(Retry::times(2).backoff(..))` re-runs a failed attempt up to
//! two more times after a doubling, jittered delay, without any rerun and without holding
//! a worker while it waits. Between attempts the task stays Running and
//! `TaskHandle::attempt` counts; `error()` is only set once the last attempt failed. The
//! call here fails twice, then succeeds.
//!
//! Run: `cargo run --example retry`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use streamtree::prelude::*;

/// The call: gets the task's context, returns the answer or why it failed.
pub type Call = Arc<dyn Fn(&TaskContext) -> Result<u32, String> + Send + Sync>;

/// Retries after the first attempt.
pub const RETRIES: u32 = 2;

/// The flaky call, retried, with its attempt count while it runs.
#[component]
pub fn FlakyCall(call: Call, backoff: Duration) -> Element {
    let answer = task("flaky")
        .retry(Retry::times(RETRIES).backoff(backoff))
        .run(move |ctx: &TaskContext| call(ctx));
    let attempt = answer.attempt();
    let body: Element = match_task(&answer)
        .loading(Text(format!(
            "Calling… attempt {attempt} of {}",
            RETRIES + 1
        )))
        .ready(|n| Text(format!("Answer {n}, after {attempt} attempts.")))
        .error(|message| ErrorBox(format!("Gave up after {attempt} attempts: {message}")))
        .into();
    Card([Markdown("### Flaky call (retry)"), body])
}

/// A call that fails `failures` times, then answers 42; each attempt takes `ms` ms.
pub fn flaky(failures: u32, ms: u64) -> Call {
    let calls = Arc::new(AtomicU32::new(0));
    Arc::new(move |ctx| {
        ctx.wait_cancelled(Duration::from_millis(ms));
        let n = calls.fetch_add(1, Ordering::SeqCst) + 1;
        if n <= failures {
            Err(format!("connection reset (call {n})"))
        } else {
            Ok(42)
        }
    })
}

/// The page with a call that fails twice, then succeeds.
pub fn app() -> Element {
    Page([FlakyCall(flaky(2, 150), Duration::from_millis(100))]).title("Retry")
}

fn main() -> std::io::Result<()> {
    streamtree::live::terminal(app).run().map(drop)
}
