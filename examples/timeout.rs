//! # Timeout of a hung call
//!
//! What this shows: `.timeout(limit)` fails an attempt still running after `limit`, at
//! the deadline: the handle reports Error ("timed out after …") at once, without waiting
//! for the closure, which is asked to cancel. The call here hangs until cancelled
//! (`TaskContext::wait_cancelled`), as a well-behaved blocking call should.
//!
//! Run: `cargo run --example timeout`.

use std::sync::Arc;
use std::time::Duration;

use streamtree::prelude::*;

/// The call: gets the task's context, returns the answer or why it failed.
pub type Call = Arc<dyn Fn(&TaskContext) -> Result<u32, String> + Send + Sync>;

/// The hung call under a time limit.
#[component]
pub fn HungCall(call: Call, limit: Duration) -> Element {
    let answer = task("hung")
        .timeout(limit)
        .run(move |ctx: &TaskContext| call(ctx));
    let body: Element = match_task(&answer)
        .loading(Text(format!("Waiting for the call (limit {limit:?})…")))
        .ready(|n| Text(format!("Answer {n}.")))
        .error(|message| ErrorBox(format!("The call failed: {message}")))
        .into();
    Card([Markdown("### Hung call (timeout)"), body])
}

/// A call that never answers: it waits until asked to cancel (at most `max`, so a
/// forgotten one still ends) and then gives up.
pub fn hung(max: Duration) -> Call {
    Arc::new(move |ctx| {
        ctx.wait_cancelled(max);
        Err("gave up".to_owned())
    })
}

/// The page with a call that hangs, limited to 300 ms.
pub fn app() -> Element {
    Page([HungCall(
        hung(Duration::from_secs(60)),
        Duration::from_millis(300),
    )])
    .title("Timeout")
}

fn main() -> std::io::Result<()> {
    streamtree::live::terminal(app).run().map(drop)
}
