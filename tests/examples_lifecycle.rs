//! The task life-cycle examples (issue 9) in every state they reach, as text and HTML
//! snapshots: keep_previous, refresh, retry, timeout, a shared task, delayed loading.
//! Work is gated with channels and reruns wait on task notifications; the only real
//! timers are the features under test (a timeout's and a loading delay's deadlines).

use streamtree_tests::{
    delayed_loading, keep_previous, progress_cancel, refresh, retry, shared_task, timeout,
};

use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use insta::assert_snapshot;
use streamtree::prelude::*;

const WAIT: Duration = Duration::from_secs(10);

/// The test's side of a gate: learn that the worker reached it, then let it through.
struct Gate {
    reached: Receiver<String>,
    open: Sender<()>,
}

impl Gate {
    /// Waits for a worker at the gate; returns what it said.
    fn reached(&self) -> String {
        self.reached
            .recv_timeout(WAIT)
            .expect("the worker never reached the gate")
    }
    /// Lets one worker through.
    fn open(&self) {
        self.open.send(()).expect("the worker is gone");
    }
    /// Asserts no worker arrived (no new run started).
    fn idle(&self) {
        assert!(
            self.reached.try_recv().is_err(),
            "a run started unexpectedly"
        );
    }
}

/// The worker's side: announce arrival, wait to be let through.
#[derive(Clone)]
struct Pass {
    reached: Sender<String>,
    open: Arc<Mutex<Receiver<()>>>,
}

impl Pass {
    fn wait(&self, what: &str) {
        let _ = self.reached.send(what.to_owned());
        // Bounded: a test that fails before opening the gate does not strand the worker.
        let _ = self.open.lock().unwrap().recv_timeout(WAIT);
    }
}

fn gate() -> (Gate, Pass) {
    let (reached_tx, reached_rx) = channel();
    let (open_tx, open_rx) = channel();
    (
        Gate {
            reached: reached_rx,
            open: open_tx,
        },
        Pass {
            reached: reached_tx,
            open: Arc::new(Mutex::new(open_rx)),
        },
    )
}

/// Snapshots the last rerun as text and as an HTML fragment.
fn snap(name: &str, app: &AppTest) {
    assert_snapshot!(format!("{name}_text"), app.text());
    assert_snapshot!(format!("{name}_html"), render_html(app.element()));
}

#[test]
fn keep_previous_shows_the_old_region_while_the_new_one_loads() {
    let (g, pass) = gate();
    let load: keep_previous::Load = Arc::new(move |_, region| {
        pass.wait(region);
        Ok(region.len() as u32 * 100)
    });
    let mut app = AppTest::with_workers(1, move || keep_previous::RegionSales(load.clone()));
    app.run();
    assert_eq!(g.reached(), "north");
    snap("keep_previous_first_load", app.run());
    g.open();
    app.run_until(WAIT, |t| t.contains("Sales of north: 500"));

    app.click("region-south").unwrap();
    assert_eq!(g.reached(), "south");
    // The ready arm, not the loading one: match_task shows the value kept meanwhile.
    assert!(
        app.run()
            .text()
            .contains("Sales: 500 (previous region; loading south…)"),
        "{}",
        app.text()
    );
    snap("keep_previous_switching", &app);
    g.open();
    app.run_until(WAIT, |t| t.contains("Sales of south: 500"));
    snap("keep_previous_switched", &app);

    // Back to north: its finished result is cached and shows at once, with no new run.
    app.click("region-north").unwrap();
    assert!(app.text().contains("Sales of north: 500"), "{}", app.text());
    assert!(app.wait_idle(WAIT));
    g.idle();
}

#[test]
fn refresh_keeps_the_old_quote_while_the_new_one_loads() {
    let (g, pass) = gate();
    let count = Arc::new(Mutex::new(0));
    let fetch: refresh::Fetch = Arc::new(move |_| {
        pass.wait("fetch");
        let mut n = count.lock().unwrap();
        *n += 1;
        Ok(format!("Quote #{n}"))
    });
    let mut app = AppTest::with_workers(1, move || refresh::Quote(fetch.clone()));
    app.run();
    g.reached();
    snap("refresh_loading", app.run());
    g.open();
    app.run_until(WAIT, |t| t.contains("Quote #1"));
    snap("refresh_ready", &app);

    app.click("quote-refresh").unwrap();
    g.reached();
    assert!(
        app.run().text().contains("Quote #1 (refreshing…)"),
        "{}",
        app.text()
    );
    snap("refresh_refreshing", &app);
    g.open();
    app.run_until(WAIT, |t| t.contains("Quote #2"));
    snap("refresh_refreshed", &app);
}

/// A call that fails its first `failures` attempts, each attempt held at the gate.
fn gated_flaky(failures: u32) -> (Gate, retry::Call) {
    let (g, pass) = gate();
    let calls = Arc::new(Mutex::new(0));
    let call: retry::Call = Arc::new(move |_| {
        let n = {
            let mut calls = calls.lock().unwrap();
            *calls += 1;
            *calls
        };
        pass.wait(&format!("call {n}"));
        if n <= failures {
            Err(format!("connection reset (call {n})"))
        } else {
            Ok(42)
        }
    });
    (g, call)
}

#[test]
fn retry_counts_attempts_until_the_flaky_call_succeeds() {
    let (g, call) = gated_flaky(2);
    let mut app = AppTest::with_workers(1, move || {
        retry::FlakyCall(call.clone(), Duration::from_millis(1))
    });
    app.run();
    assert_eq!(g.reached(), "call 1");
    g.open();
    assert_eq!(g.reached(), "call 2");
    app.run_until(WAIT, |t| t.contains("attempt 2 of 3"));
    snap("retry_attempt_2", &app);
    g.open();
    assert_eq!(g.reached(), "call 3");
    g.open();
    app.run_until(WAIT, |t| t.contains("Answer 42"));
    snap("retry_succeeded", &app);
}

#[test]
fn retry_gives_up_after_the_last_attempt() {
    let (g, call) = gated_flaky(u32::MAX);
    let mut app = AppTest::with_workers(1, move || {
        retry::FlakyCall(call.clone(), Duration::from_millis(1))
    });
    app.run();
    for n in 1..=retry::RETRIES + 1 {
        assert_eq!(g.reached(), format!("call {n}"));
        g.open();
    }
    app.run_until(WAIT, |t| t.contains("Gave up"));
    snap("retry_gave_up", &app);
    assert!(app.wait_idle(WAIT));
    g.idle();
}

#[test]
fn timeout_fails_the_hung_call_at_the_deadline_and_asks_it_to_stop() {
    let (returned_tx, returned) = channel();
    let call: timeout::Call = Arc::new(move |ctx| {
        let asked = ctx.wait_cancelled(WAIT);
        let _ = returned_tx.send(asked);
        Err("gave up".to_owned())
    });
    // The limit is the real timer under test; the first rerun reads the status right
    // after submitting, far inside it.
    let limit = Duration::from_millis(500);
    let mut app = AppTest::with_workers(1, move || timeout::HungCall(call.clone(), limit));
    snap("timeout_waiting", app.run());
    app.run_until(WAIT, |t| t.contains("timed out"));
    snap("timeout_timed_out", &app);
    let asked = returned
        .recv_timeout(WAIT)
        .expect("the hung call never returned");
    assert!(asked, "the hung call was asked to cancel at the deadline");
}

fn both(a: &AppTest, b: &AppTest, html: bool) -> String {
    let show = |app: &AppTest| {
        if html {
            render_html(app.element())
        } else {
            app.text()
        }
    };
    format!("session A:\n{}\nsession B:\n{}", show(a), show(b))
}

#[test]
fn a_shared_task_is_one_run_seen_by_two_sessions() {
    let (g, pass) = gate();
    let runs = Arc::new(Mutex::new(0));
    let compute: shared_task::Compute = Arc::new(move |ctx| {
        let run = {
            let mut runs = runs.lock().unwrap();
            *runs += 1;
            *runs
        };
        ctx.set_progress((0.5, "averaging"));
        pass.wait("compute");
        Ok(format!("1 EUR = 1.08 USD (computed by run #{run})"))
    });
    let runtime = streamtree::Runtime::builder().max_workers(1).build();
    let session = || Session::builder().runtime(runtime.clone()).build();
    let page = move || shared_task::SharedRate(compute.clone());
    let mut a = AppTest::with_session(session(), page.clone());
    let mut b = AppTest::with_session(session(), page);
    a.run();
    g.reached();
    b.run();
    a.run();
    assert_snapshot!("shared_running_text", both(&a, &b, false));
    assert_snapshot!("shared_running_html", both(&a, &b, true));
    g.open();
    a.run_until(WAIT, |t| t.contains("computed"));
    b.run_until(WAIT, |t| t.contains("computed"));
    assert_snapshot!("shared_ready_text", both(&a, &b, false));
    assert_snapshot!("shared_ready_html", both(&a, &b, true));
    g.idle();
}

fn gated_work(pass: &Pass, what: &'static str, n: u32) -> delayed_loading::Work {
    let pass = pass.clone();
    Arc::new(move |_| {
        pass.wait(what);
        Ok(n)
    })
}

#[test]
fn delayed_loading_shows_nothing_then_loading_then_ready() {
    // A long delay: a task that finishes inside it never shows its loading arm.
    let (g, pass) = gate();
    let (quick, slow) = (gated_work(&pass, "quick", 1), gated_work(&pass, "slow", 2));
    let mut app = AppTest::with_workers(2, move || {
        delayed_loading::DelayedLoading(quick.clone(), slow.clone(), Duration::from_secs(60))
    });
    app.run();
    let mut arrived = [g.reached(), g.reached()];
    arrived.sort();
    assert_eq!(arrived, ["quick", "slow"]);
    snap("delayed_nothing", app.run());
    drop(app);
    g.open();
    g.open();

    // A short delay (the deadline under test): loading from the deadline on, then ready.
    let (g, pass) = gate();
    let (quick, slow) = (gated_work(&pass, "quick", 1), gated_work(&pass, "slow", 2));
    let mut app = AppTest::with_workers(2, move || {
        delayed_loading::DelayedLoading(quick.clone(), slow.clone(), Duration::from_millis(50))
    });
    app.run();
    g.reached();
    g.reached();
    app.run_until(WAIT, |t| t.contains("Slow: loading…"));
    snap("delayed_loading", &app);
    g.open();
    g.open();
    app.run_until(WAIT, |t| t.contains("Quick: 1") && t.contains("Slow: 2"));
    snap("delayed_ready", &app);
}

/// The task debug panel's lines only (the rest of the page is snapshotted above).
fn panel(app: &AppTest) -> String {
    let text = app.text();
    let (_, rest) = text
        .split_once("Tasks (")
        .expect("the page shows the task debug panel");
    format!("Tasks ({rest}")
}

/// Snapshot settings for the panel: real durations and the input's fingerprint (a hash)
/// are filtered out.
fn panel_settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r"\d+ ms", "[n] ms");
    settings.add_filter(r"input [0-9a-f]{16}", "input [fingerprint]");
    settings
}

#[test]
fn task_debug_panel_shows_input_queue_position_refreshing_attempt_and_eta() {
    let (g, pass) = gate();
    let sales_pass = pass.clone();
    let load: keep_previous::Load = Arc::new(move |_, region| {
        sales_pass.wait(region);
        Ok(1)
    });
    let fetch: refresh::Fetch = Arc::new(move |_| {
        pass.wait("fetch");
        Ok("Quote".to_owned())
    });
    // One worker: the quote waits in the queue behind the gated sales task.
    let mut app = AppTest::with_workers(1, move || {
        VStack([
            keep_previous::RegionSales(load.clone()),
            refresh::Quote(fetch.clone()),
            progress_cancel::TaskDebugPanel(),
        ])
    });
    app.run();
    assert_eq!(g.reached(), "north");
    app.run();
    panel_settings().bind(|| assert_snapshot!("task_panel_input_and_queue", panel(&app)));
    g.open();
    assert_eq!(g.reached(), "fetch");
    g.open();
    app.run_until(WAIT, |t| t.contains("Quote\n"));
    app.click("quote-refresh").unwrap();
    assert_eq!(g.reached(), "fetch");
    app.run();
    panel_settings().bind(|| assert_snapshot!("task_panel_refreshing", panel(&app)));
    g.open();
    assert!(app.wait_idle(WAIT));

    let (g, call) = gated_flaky(1);
    let mut app = AppTest::with_workers(1, move || {
        VStack([
            retry::FlakyCall(call.clone(), Duration::from_millis(1)),
            progress_cancel::TaskDebugPanel(),
        ])
    });
    app.run();
    assert_eq!(g.reached(), "call 1");
    g.open();
    assert_eq!(g.reached(), "call 2");
    app.run_until(WAIT, |t| t.contains("attempt 2 of 3"));
    panel_settings().bind(|| assert_snapshot!("task_panel_retrying", panel(&app)));
    g.open();
    assert!(app.wait_idle(WAIT));

    // A progress fraction above 0 gives an ETA: the long job held at its third step (20%).
    let (g, pass) = gate();
    let step: progress_cancel::Step = Arc::new(move |i| pass.wait(&format!("step {i}")));
    let mut app = AppTest::with_workers(1, move || {
        VStack([
            progress_cancel::LongJob(step.clone()),
            progress_cancel::TaskDebugPanel(),
        ])
    });
    app.run();
    for i in 0..2 {
        assert_eq!(g.reached(), format!("step {i}"));
        g.open();
    }
    assert_eq!(g.reached(), "step 2");
    app.run();
    panel_settings().bind(|| assert_snapshot!("task_panel_eta", panel(&app)));
    app.click("long-job-cancel").unwrap();
    g.open();
    assert!(app.wait_idle(WAIT));
}
