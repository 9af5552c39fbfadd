//! The seed examples in every state they reach — loading, with progress, ready, error,
//! cancelled, dismissed, retried — as text and HTML snapshots. States are driven by
//! gated work (channels) and `wait_idle`, never by timing.

use streamtree_tests::{async_bg, async_loader_demo, async_ordered_loader_demo, progress_cancel};

use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use insta::{assert_snapshot, with_settings};
use streamtree::prelude::*;

const WAIT: Duration = Duration::from_secs(10);

/// The test's side of a gate: learn that the worker reached it, then let it through.
struct Gate {
    reached: Receiver<()>,
    open: Sender<()>,
}

impl Gate {
    fn reached(&self) {
        self.reached
            .recv_timeout(WAIT)
            .expect("the worker never reached the gate");
    }
    fn open(&self) {
        self.open.send(()).expect("the worker is gone");
    }
}

/// The worker's side: announce arrival, wait to be let through.
#[derive(Clone)]
struct Pass {
    reached: Sender<()>,
    open: Arc<Mutex<Receiver<()>>>,
}

impl Pass {
    fn wait(&self) {
        let _ = self.reached.send(());
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
    // Timings in the debug panel are real durations: the one unstable part.
    with_settings!({filters => vec![(r"\d+ ms", "[n] ms")]}, {
        assert_snapshot!(format!("{name}_text"), app.text());
        assert_snapshot!(format!("{name}_html"), render_html(app.element()));
    });
}

fn app(root: impl Fn() -> Element + 'static) -> AppTest {
    AppTest::with_session(Session::builder().max_workers(4).build(), root)
}

#[test]
fn async_demo_running_then_done() {
    let (g, pass) = gate();
    let work: async_bg::Work<i32> = Arc::new(move || {
        pass.wait();
        42
    });
    let mut app = app(move || async_bg::AsyncDemo(work.clone()));
    app.run();
    g.reached();
    snap("async_demo_running", app.run());
    g.open();
    assert!(app.wait_idle(WAIT));
    snap("async_demo_done", app.run());
}

#[test]
fn many_small_jobs_waiting_then_summed() {
    let (g1, p1) = gate();
    let (g2, p2) = gate();
    let first: async_bg::Work<i32> = Arc::new(move || {
        p1.wait();
        10
    });
    let second: async_bg::Work<i32> = Arc::new(move || {
        p2.wait();
        20
    });
    let mut app = app(move || async_bg::ManySmallJobs(first.clone(), second.clone()));
    app.run();
    g1.reached();
    g2.reached();
    g1.open();
    // Wait for the first job to finish, with the second still gated.
    app.run_until(WAIT, |text| text.contains("1 of 2 done"));
    snap("many_small_jobs_waiting", &app);
    g2.open();
    assert!(app.wait_idle(WAIT));
    snap("many_small_jobs_done", app.run());
}

/// A loader whose steps the test drives: before progress, with progress, then `result`.
fn gated_loader(result: Result<i32, String>) -> (Gate, async_loader_demo::Loader) {
    let (g, pass) = gate();
    let loader: async_loader_demo::Loader = Arc::new(move |key| {
        pass.wait();
        set_task_progress(key, (0.4, "step 2 of 5"));
        pass.wait();
        if is_task_cancel_requested(key) {
            complete_cancelled(key);
            return Err("cancelled".into());
        }
        result.clone()
    });
    (g, loader)
}

#[test]
fn loader_demo_loading_progress_ready() {
    let (g, loader) = gated_loader(Ok(42));
    let mut app = app(move || async_loader_demo::LoaderDemo(loader.clone()));
    app.run();
    g.reached();
    snap("loader_loading", app.run());
    g.open();
    g.reached();
    snap("loader_progress", app.run());
    g.open();
    assert!(app.wait_idle(WAIT));
    snap("loader_ready", app.run());
}

#[test]
fn loader_demo_error() {
    let (g, loader) = gated_loader(Err("disk full".into()));
    let mut app = app(move || async_loader_demo::LoaderDemo(loader.clone()));
    app.run();
    g.reached();
    g.open();
    g.reached();
    g.open();
    assert!(app.wait_idle(WAIT));
    snap("loader_error", app.run());
}

#[test]
fn loader_demo_cancelled_by_the_button() {
    let (g, loader) = gated_loader(Ok(42));
    let mut app = app(move || async_loader_demo::LoaderDemo(loader.clone()));
    app.run();
    g.reached();
    g.open();
    g.reached();
    app.click("loader-cancel").unwrap();
    g.open();
    assert!(app.wait_idle(WAIT));
    snap("loader_cancelled", app.run());
    assert_eq!(
        app.click("loader-cancel").err(),
        Some(streamtree::ClickError::Disabled("loader-cancel".into()))
    );
}

#[test]
fn ordered_loader_combined_progress_then_ready_in_key_order() {
    let gates: Arc<Mutex<Vec<(String, Pass)>>> = Arc::new(Mutex::new(Vec::new()));
    let mut test_side = Vec::new();
    for key in ["alerts", "metrics", "reports"] {
        let (g, pass) = gate();
        gates.lock().unwrap().push((key.to_owned(), pass));
        test_side.push(g);
    }
    let fetch: async_ordered_loader_demo::Fetch = Arc::new(move |key| {
        let pass = gates
            .lock()
            .unwrap()
            .iter()
            .find(|(k, _)| k == key)
            .unwrap()
            .1
            .clone();
        pass.wait();
        format!("{key} loaded")
    });
    let mut app = app(move || async_ordered_loader_demo::OrderedLoader(fetch.clone()));
    app.run();
    test_side.iter().for_each(Gate::reached);
    snap("ordered_loading", app.run());
    test_side[1].open();
    app.run_until(WAIT, |text| text.contains("1 of 3 done"));
    snap("ordered_one_done", &app);
    test_side[0].open();
    test_side[2].open();
    assert!(app.wait_idle(WAIT));
    snap("ordered_ready", app.run());
}

/// The long job with each step gated.
fn long_job_app() -> (Gate, AppTest) {
    let (g, pass) = gate();
    let step: progress_cancel::Step = Arc::new(move |_| pass.wait());
    let app = app(move || {
        VStack([
            progress_cancel::LongJob(step.clone()),
            progress_cancel::TaskDebugPanel(),
        ])
    });
    (g, app)
}

#[test]
fn long_job_progress_cancel_dismiss_retry() {
    let (g, mut app) = long_job_app();
    app.run();
    g.reached();
    snap("long_job_progress", app.run());
    app.click("long-job-cancel").unwrap();
    snap("long_job_cancelling", &app);
    g.open();
    assert!(app.wait_idle(WAIT));
    snap("long_job_cancelled", app.run());

    // Retry: the old task is dismissed and a fresh one starts on the rerun.
    app.click("long-job-retry").unwrap();
    g.reached();
    assert!(app.run().text().contains("step 1 of 10"));

    // Let it finish.
    for _ in 1..progress_cancel::STEPS {
        g.open();
        g.reached();
    }
    g.open();
    assert!(app.wait_idle(WAIT));
    snap("long_job_finished", app.run());

    app.click("long-job-dismiss").unwrap();
    snap("long_job_dismissed", &app);
    app.click("long-job-start").unwrap();
    g.reached();
    assert!(app.run().text().contains("step 1 of 10"));
    g.open();
    for _ in 1..progress_cancel::STEPS {
        g.reached();
        g.open();
    }
    assert!(app.wait_idle(WAIT));
}

#[test]
fn view_versions_loading_then_ready() {
    let (g, pass) = gate();
    let work: async_bg::Work<i32> = Arc::new(move || {
        pass.wait();
        42
    });
    let (lg, loader) = gated_loader(Ok(42));
    let (pg, pair_pass) = gate();
    let fetch: async_ordered_loader_demo::Fetch = Arc::new(move |key| {
        pair_pass.wait();
        format!("{key}!")
    });
    let mut app = app(move || {
        VStack([
            async_bg::AsyncDemoView(work.clone()),
            async_loader_demo::LoaderDemoView(loader.clone()),
            async_ordered_loader_demo::PairLoader(fetch.clone()),
        ])
    });
    app.run();
    g.reached();
    lg.reached();
    lg.open();
    lg.reached();
    pg.reached();
    snap("view_versions_loading", app.run());
    g.open();
    lg.open();
    pg.open();
    assert!(app.wait_idle(WAIT));
    snap("view_versions_ready", app.run());
}
