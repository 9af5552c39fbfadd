//! The task inspector component (`streamtree::live::TaskInspector`): its text and HTML in
//! each state, driven deterministically (one worker, tasks held by channels), and its
//! Cancel, Refresh and Dismiss buttons.

use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use insta::assert_snapshot;
use streamtree::Runtime;
use streamtree::live::TaskInspector;
use streamtree::live::inspector::with_task_inspector;
use streamtree::prelude::*;

/// Every wait's bound.
const WAIT: Duration = Duration::from_secs(10);

/// Snapshot settings: real durations and table padding that follows their widths, and
/// input fingerprints (hashes), are masked.
fn settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r"\d+ ms", "[n] ms");
    settings.add_filter(r"[0-9a-f]{16}", "[fingerprint]");
    settings.add_filter(r"─+", "─");
    settings.add_filter(r"(\S) {2,}", "$1  ");
    settings
}

fn snap(name: &str, app: &AppTest) {
    settings().bind(|| {
        assert_snapshot!(format!("{name}_text"), app.text());
        assert_snapshot!(format!("{name}_html"), app.html());
    });
}

/// A hold for a task: the task reports `started` and blocks until `release` (or `WAIT`).
struct Hold {
    started: Receiver<()>,
    release: Sender<()>,
}

/// A task body half of a [`Hold`]: the receiver it blocks on and the sender it reports on.
type Held = Arc<Mutex<Option<(Sender<()>, Receiver<()>)>>>;

fn hold() -> (Hold, Held) {
    let (started_tx, started) = channel();
    let (release, release_rx) = channel();
    (
        Hold { started, release },
        Arc::new(Mutex::new(Some((started_tx, release_rx)))),
    )
}

/// Blocks the calling task as its [`Hold`] says (once: a later run does not block).
fn held(h: &Held) {
    let taken = h.lock().unwrap().take();
    if let Some((started, release)) = taken {
        started.send(()).expect("the test waits for the start");
        release
            .recv_timeout(WAIT)
            .expect("the test releases the task in time");
    }
}

#[test]
fn empty() {
    let mut app = AppTest::new(|| Page([TaskInspector()]));
    app.run();
    snap("inspector_empty", &app);
}

#[test]
fn running_with_progress_and_eta_and_pending_with_queue_position() {
    let (h, body) = hold();
    let mut app = AppTest::with_workers(1, move || {
        let body = body.clone();
        submit_with("load", move |ctx: &TaskContext| {
            ctx.set_progress((0.5, "half way"));
            held(&body);
        });
        submit("queued", || 1);
        Page([TaskInspector()])
    });
    app.run();
    h.started.recv_timeout(WAIT).expect("the load task starts");
    app.run();
    let text = app.text();
    assert!(
        text.contains("#1"),
        "the queued task shows its position:\n{text}"
    );
    assert!(text.contains("50% half way"), "progress shows:\n{text}");
    snap("inspector_running_and_pending", &app);

    // Cancel from the inspector: the queued task ends Cancelled before it ever runs.
    app.click("st-cancel-queued")
        .expect("the queued task has a Cancel button");
    app.run();
    let text = app.text();
    let row = |key: &str| {
        let key = format!("{key} ");
        text.lines()
            .find(|l| l.trim_start().starts_with(&key))
            .map(str::to_owned)
            .unwrap_or_default()
    };
    assert!(row("queued").contains("cancelled"), "{text}");
    // The running one gets a request; it honours none, so it finishes Done.
    app.click("st-cancel-load")
        .expect("the running task has a Cancel button");
    app.run();
    assert!(
        app.text().contains("running (cancel requested)"),
        "{}",
        app.text()
    );
    h.release.send(()).unwrap();
    assert!(app.wait_idle(WAIT), "the tasks finish");
    app.run();
    snap("inspector_finished", &app);
}

#[test]
fn error_then_dismiss() {
    let mut app = AppTest::new(|| {
        submit_fallible("fails", || Err::<(), _>("boom: the service said no"));
        Page([TaskInspector()])
    });
    app.run();
    assert!(app.wait_idle(WAIT), "the task fails in time");
    app.run();
    snap("inspector_error", &app);
    app.click("st-dismiss-fails")
        .expect("a finished task has Dismiss");
    // The dismissed task is gone; this rerun submits it again (the app asks for it).
    app.run();
    assert!(app.wait_idle(WAIT));
    assert_eq!(app.session().enter(summarize_async_tasks).len(), 1);
}

#[test]
fn refresh_reruns_a_finished_task() {
    let runs = Arc::new(Mutex::new(0u32));
    let counted = runs.clone();
    let mut app = AppTest::new(move || {
        let counted = counted.clone();
        task("count").run(move |_| {
            *counted.lock().unwrap() += 1;
            Ok::<_, String>(())
        });
        Page([TaskInspector()])
    });
    app.run();
    assert!(app.wait_idle(WAIT));
    app.run();
    app.click("st-refresh-count")
        .expect("a finished task has Refresh");
    assert!(app.wait_idle(WAIT), "the refreshed run finishes");
    assert_eq!(*runs.lock().unwrap(), 2, "Refresh ran the task again");
}

#[test]
fn shared_task_with_input() {
    let runtime = Runtime::builder().max_workers(1).build();
    let other = Session::builder().runtime(runtime.clone()).build();
    let (h, body) = hold();
    let load = move || {
        let body = body.clone();
        task("rates").input(&"EUR").shared().run(move |_| {
            held(&body);
            Ok::<_, String>(1.1)
        });
    };
    other.enter(load.clone());
    h.started
        .recv_timeout(WAIT)
        .expect("the shared task starts");
    let session = Session::builder().runtime(runtime).build();
    let mut app = AppTest::with_session(session, move || {
        load();
        Page([TaskInspector()])
    });
    app.run();
    assert!(
        app.text().contains("yes"),
        "the shared task shows:\n{}",
        app.text()
    );
    snap("inspector_shared", &app);
    h.release.send(()).unwrap();
    assert!(app.wait_idle(WAIT));
}

/// The terminal runner's toggle: the app keeps its state when the panel is shown or
/// hidden, and the panel's buttons work in the same rerun.
#[test]
fn toggling_the_panel_keeps_the_apps_state() {
    #[component]
    fn Counter() -> Element {
        let n = state("n", || 0);
        let shown = n.get();
        VStack([
            Text(format!("count {shown}")),
            Button("+1")
                .key("inc")
                .on_click(move || n.update(|v| *v += 1)),
        ])
    }
    let shown = Arc::new(Mutex::new(false));
    let toggle = shown.clone();
    let mut app = AppTest::new(move || {
        submit("job", || ());
        with_task_inspector(Counter(), *toggle.lock().unwrap())
    });
    app.run();
    app.click("inc").unwrap();
    assert!(app.text().contains("count 1"), "{}", app.text());
    assert!(!app.text().contains("Tasks ("), "hidden: {}", app.text());
    *shown.lock().unwrap() = true;
    app.run();
    assert!(app.text().contains("count 1"), "state kept: {}", app.text());
    assert!(app.text().contains("Tasks (1)"), "shown: {}", app.text());
    assert!(app.wait_idle(WAIT));
    app.run();
    app.click("st-dismiss-job")
        .expect("the panel's buttons work");
    *shown.lock().unwrap() = false;
    app.run();
    assert!(app.text().contains("count 1"), "state kept: {}", app.text());
    assert!(
        !app.text().contains("Tasks ("),
        "hidden again: {}",
        app.text()
    );
}
