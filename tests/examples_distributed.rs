//! `examples/distributed.rs` with the in-process backend (the same page and jobs the
//! NATS processes run; `tests/distributed.rs` runs them as processes): the finished page
//! and a cancelled report, as text snapshots. Reruns wait on task notifications with a
//! deadline; the jobs' own 200 ms steps are the only timers.

use streamtree_tests::distributed;

use std::time::Duration;

use insta::assert_snapshot;
use streamtree::prelude::*;

const WAIT: Duration = Duration::from_secs(20);

fn app() -> AppTest {
    let runtime = streamtree::Runtime::builder()
        .max_workers(2)
        .jobs(distributed::jobs())
        .build();
    AppTest::with_session(
        Session::builder().runtime(runtime).build(),
        distributed::app,
    )
}

#[test]
fn distributed_page_shows_both_results_and_the_worker() {
    let mut app = app();
    let text = app
        .run_until(WAIT, |t| {
            t.contains("Report ready") && t.contains("Totals ready")
        })
        .text();
    assert_snapshot!("distributed_ready_text", text);
}

#[test]
fn distributed_report_cancel_ends_cancelled() {
    let mut app = app();
    app.run_until(WAIT, |t| t.contains("step"));
    app.click("report-cancel")
        .expect("the Cancel button is live");
    let text = app
        .run_until(WAIT, |t| {
            t.contains("Cancelled.") && t.contains("Totals ready")
        })
        .text();
    assert_snapshot!("distributed_cancelled_text", text);
}
