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

#[test]
fn distributed_command_line() {
    use distributed::{Command, parse};
    let args = |s: &str| s.split(' ').map(str::to_owned).collect::<Vec<_>>();
    assert_eq!(
        parse(&args("worker --nats nats://h:1 --name w1")),
        Ok(Command::Worker {
            nats: "nats://h:1".to_owned(),
            name: "w1".to_owned()
        })
    );
    assert_eq!(
        parse(&args("web --port 0 --nats nats://h:1")),
        Ok(Command::Web {
            nats: "nats://h:1".to_owned(),
            port: 0
        })
    );
    assert_eq!(
        parse(&args("web --nats nats://h:1")),
        Ok(Command::Web {
            nats: "nats://h:1".to_owned(),
            port: 8501
        })
    );
    assert_eq!(
        parse(&args("web --port 1")),
        Err("--nats URL is required".to_owned())
    );
    assert_eq!(
        parse(&args("web --nats u --name w1")),
        Err("unknown option --name for `web`".to_owned())
    );
    assert_eq!(
        parse(&args("worker --nats")),
        Err("--nats needs a value".to_owned())
    );
    assert_eq!(
        parse(&args("serve --nats u")),
        Err("unknown subcommand `serve`".to_owned())
    );
}
