//! Sessions across reruns: state survives, render-path state is scoped and swept, panics
//! are contained, buttons dispatch.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use std::sync::mpsc::{Sender, channel};
use std::time::Duration;

use insta::{assert_json_snapshot, assert_snapshot};
use streamtree::prelude::*;
use streamtree::{ClickError, session::render_path};

#[component]
fn Counter(label: String) -> Element {
    let n = state("n", || 0u32).update(|n| {
        *n += 1;
        *n
    });
    Text(format!("{label}: rendered {n} times at {}", render_path()))
}

#[test]
fn session_state_survives_reruns() {
    let mut app = AppTest::new(|| {
        let runs = session_state("runs", || 0).update(|r| {
            *r += 1;
            *r
        });
        Text(format!("run {runs}"))
    });
    assert_eq!(app.run().text(), "run 1\n");
    assert_eq!(app.run().text(), "run 2\n");
    assert_eq!(app.run().text(), "run 3\n");
}

#[test]
fn render_path_state_is_per_instance_and_swept_when_unrendered() {
    let show_b = Arc::new(AtomicUsize::new(1));
    let flag = show_b.clone();
    let mut app = AppTest::new(move || {
        let b = (flag.load(Ordering::SeqCst) == 1).then(|| Counter("b".into()).key("b"));
        VStack([
            Counter("a".into()).key("a"),
            Counter("unkeyed".into()),
            b.into(),
        ])
    });
    app.run();
    assert_eq!(
        app.run().text(),
        "VStack\n  a: rendered 2 times at /Counter[a]\n  unkeyed: rendered 2 times at /Counter#0\n  b: rendered 2 times at /Counter[b]\n"
    );
    show_b.store(0, Ordering::SeqCst);
    app.run();
    show_b.store(1, Ordering::SeqCst);
    // b left the tree for one rerun, so its state started over.
    assert!(
        app.run()
            .text()
            .contains("b: rendered 1 times at /Counter[b]")
    );
}

#[test]
fn panic_in_app_function_is_contained_and_session_survives() {
    let fail = Arc::new(AtomicUsize::new(0));
    let f = fail.clone();
    let mut app = AppTest::new(move || {
        let n = session_state("n", || 0).update(|n| {
            *n += 1;
            *n
        });
        if f.load(Ordering::SeqCst) == 1 {
            panic!("bad rerun {n}");
        }
        Text(format!("ok {n}"))
    });
    assert_eq!(app.run().text(), "ok 1\n");
    fail.store(1, Ordering::SeqCst);
    assert_eq!(app.run().text(), "! error: the app panicked: bad rerun 2\n");
    fail.store(0, Ordering::SeqCst);
    assert_eq!(app.run().text(), "ok 3\n");
}

#[test]
fn wrong_type_for_a_state_key_is_shown_in_place() {
    #[component]
    fn Typed() -> Element {
        session_state("shared", || 1u8);
        let s: State<String> = session_state("shared", String::new);
        Text(s.get())
    }
    let mut app = AppTest::new(|| VStack([Typed(), Text("sibling")]));
    assert_eq!(
        app.run().text(),
        "VStack\n  ! error: component `Typed` panicked: state key `shared` holds a `u8`, not a `String`: use one type per key\n  sibling\n"
    );
}

#[test]
fn buttons_dispatch_to_the_last_reruns_handlers() {
    let mut app = AppTest::new(|| {
        let n = session_state("clicks", || 0);
        let shown = n.get();
        VStack([
            Text(format!("clicks: {shown}")),
            Button("+1")
                .key("inc")
                .on_click(move || n.update(|v| *v += 1)),
            Button("off").key("off").disabled(true),
            Button("boom")
                .key("boom")
                .on_click(|| panic!("handler failed")),
            Button("no handler"),
        ])
    });
    app.run();
    assert!(app.click("inc").unwrap().text().contains("clicks: 1"));
    assert!(app.click("inc").unwrap().text().contains("clicks: 2"));
    assert_eq!(
        app.click("nope").err(),
        Some(ClickError::UnknownKey("nope".into()))
    );
    assert_eq!(
        app.click("off").err(),
        Some(ClickError::Disabled("off".into()))
    );
    assert_eq!(
        app.click("boom").err(),
        Some(ClickError::Panicked {
            key: "boom".into(),
            message: "handler failed".into()
        })
    );
    // An unkeyed button is addressed by its label.
    assert!(
        app.click("no handler")
            .unwrap()
            .text()
            .contains("clicks: 2")
    );
}

#[test]
fn duplicate_button_keys_are_an_error_in_place() {
    let mut app = AppTest::new(|| VStack([Button("A").key("same"), Button("B").key("same")]));
    assert_eq!(
        app.run().text(),
        "VStack\n  [ A ]\n  ! error: duplicate button key `same`: two buttons in one rerun share it; give each a distinct `.key(..)`\n"
    );
}

#[test]
fn no_current_session_panics_with_a_fix() {
    let err = std::panic::catch_unwind(|| session_state("x", || 0)).unwrap_err();
    let msg = err
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| err.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    assert!(msg.contains("no streamtree Session is current"), "{msg}");
    assert!(msg.contains("session.enter"), "{msg}");
}

#[test]
fn rerun_tree_structure() {
    let mut app = AppTest::new(|| {
        Page([
            Card([Counter("x".into())]).key("c"),
            ProgressBar(0.25).message("q"),
        ])
        .title("T")
    });
    assert_json_snapshot!("rerun_tree", app.run().tree());
}

#[test]
fn sessions_are_isolated() {
    let a = Session::new();
    let b = Session::new();
    a.enter(|| session_state("k", || 1).set(10));
    b.enter(|| assert_eq!(session_state("k", || 1).get(), 1));
    a.enter(|| assert_eq!(session_state("k", || 1).get(), 10));
}

const WAIT: Duration = Duration::from_secs(10);

/// Starts a task and says so: a body with a side effect worth noticing.
#[component]
fn Loader(ran: Sender<&'static str>) -> Element {
    ran.send("body").unwrap();
    let h = submit("load", || 42);
    match_task(&h).ready(|n| Text(format!("loaded {n}"))).into()
}

/// Bug 5: rendering outside a rerun ran the body in a throwaway session, which started
/// the task and cancelled it at once. Renderers are pure now: the body does not run, and
/// the component shows an error naming the fix.
#[test]
fn rendering_outside_a_rerun_runs_no_body() {
    let (tx, ran) = channel();
    let tree = VStack([Text("before"), Loader(tx.clone())]);
    assert_snapshot!("unresolved_component_text", render_text(&tree));
    assert_snapshot!("unresolved_component_html", render_html(&tree));
    assert_json_snapshot!(
        "unresolved_component_tree",
        streamtree::render_to_tree(&tree)
    );
    assert_eq!(format!("{tree:?}").matches("only a rerun runs").count(), 1);
    assert!(ran.try_recv().is_err(), "a renderer ran a component body");
    // The same tree through a rerun runs the body once, in the rerun's session.
    let session = Session::new();
    let resolved = session.rerun(|| tree);
    assert_eq!(ran.try_recv(), Ok("body"));
    assert!(session.wait_idle(WAIT));
    let again = session.rerun(|| Loader(tx));
    assert_eq!(render_text(&again), "loaded 42\n");
    assert!(render_text(&resolved).starts_with("VStack\n  before\n"));
}

/// Bug 8: two threads rendering one unresolved tree: the first took the body and ran it,
/// the second saw the body gone and rendered an empty component. Now rendering runs no
/// body, so both see the same thing, and resolution (by `&mut`, in a rerun) cannot be
/// shared. The body waits on a gate the test opens only after the second render, so the
/// old interleaving is forced, not hoped for.
#[test]
fn threads_rendering_one_unresolved_tree_see_the_same() {
    #[component]
    fn Gated(
        events: Sender<&'static str>,
        gate: Arc<std::sync::Mutex<std::sync::mpsc::Receiver<()>>>,
    ) -> Element {
        events.send("body started").unwrap();
        gate.lock()
            .unwrap()
            .recv_timeout(WAIT)
            .expect("the test opens the gate");
        Text("resolved")
    }
    let (events_tx, events) = channel();
    let (open, gate) = channel();
    let tree = Arc::new(VStack([Gated(
        events_tx.clone(),
        Arc::new(std::sync::Mutex::new(gate)),
    )]));
    let first = {
        let (tree, events) = (tree.clone(), events_tx.clone());
        std::thread::spawn(move || {
            let out = render_text(&tree);
            events.send("first rendered").unwrap();
            out
        })
    };
    // Either the first render finished, or (old code) it is inside the body.
    let event = events
        .recv_timeout(WAIT)
        .expect("the first render made progress");
    let second = render_text(&tree);
    open.send(()).ok();
    let first = first.join().unwrap();
    assert_eq!(event, "first rendered", "a render ran the body");
    assert_eq!(first, second, "both threads see the same tree");
    assert!(
        second.contains("only a rerun runs component bodies"),
        "{second}"
    );
}

/// Runs `f` on its own thread and fails the test if it does not return within `WAIT`
/// (a deadlock would otherwise hang the test run).
#[track_caller]
fn within_wait(what: &str, f: impl FnOnce() + Send + 'static) {
    let (done, finished) = channel();
    std::thread::spawn(move || {
        f();
        done.send(()).unwrap();
    });
    finished
        .recv_timeout(WAIT)
        .unwrap_or_else(|_| panic!("{what} did not finish within {WAIT:?} (deadlock?)"));
}

/// A user value whose `Drop` uses the current session: it takes the state lock (a
/// `session_state` lookup) and the button lock (a click).
struct UsesSessionOnDrop(Sender<&'static str>);

impl Drop for UsesSessionOnDrop {
    fn drop(&mut self) {
        let session = Session::current();
        session_state("dropped", || 0).update(|n| *n += 1);
        let _ = session.click("nowhere");
        self.0.send("dropped").unwrap();
    }
}

/// Bug 10 (session part): the sweep dropped unrendered state under the store's lock, so a
/// value whose `Drop` used the session deadlocked the rerun.
#[test]
fn swept_state_is_dropped_outside_the_lock() {
    #[component]
    fn Holder(tx: Sender<&'static str>) -> Element {
        state("guard", move || UsesSessionOnDrop(tx));
        Element::empty()
    }
    let (tx, dropped) = channel();
    within_wait(
        "a rerun that sweeps a value using the session on drop",
        move || {
            let session = Session::new();
            let show = Arc::new(AtomicUsize::new(1));
            let flag = show.clone();
            let app = move || {
                let holder = (flag.load(Ordering::SeqCst) == 1).then(|| Holder(tx.clone()));
                VStack([holder])
            };
            session.rerun(&app);
            show.store(0, Ordering::SeqCst);
            session.rerun(&app); // Holder left the tree: its state is swept.
            session.enter(|| assert_eq!(session_state("dropped", || 0).get(), 1));
        },
    );
    assert_eq!(dropped.recv_timeout(WAIT), Ok("dropped"));
}

/// Bug 10 (session part): a rerun replaced the button map under its lock, dropping the
/// last rerun's handlers there; a handler capturing a value whose `Drop` clicks deadlocked.
#[test]
fn replaced_button_handlers_are_dropped_outside_the_lock() {
    let (tx, dropped) = channel();
    within_wait(
        "a rerun that replaces a handler using the session on drop",
        move || {
            let session = Session::new();
            let guard = UsesSessionOnDrop(tx);
            // The returned tree is dropped at once: the session's map holds the last handler.
            drop(session.rerun(move || {
                Button("Go").key("go").on_click(move || {
                    let _held = &guard;
                })
            }));
            drop(session.rerun(Element::empty));
        },
    );
    assert_eq!(dropped.recv_timeout(WAIT), Ok("dropped"));
}

/// `AppTest::run_until` reruns on task changes until the page shows what the test waits
/// for; when it never does, the failure shows the last output.
#[test]
fn run_until_waits_on_task_changes_and_reports_the_last_output() {
    let (open, gate) = channel::<()>();
    let gate = Arc::new(std::sync::Mutex::new(Some(gate)));
    let mut app = AppTest::with_workers(1, move || {
        let gate = gate.clone();
        let h = submit("job", move || {
            let gate = gate.lock().unwrap().take().expect("submitted once");
            gate.recv_timeout(WAIT).expect("the test opens the gate");
            7
        });
        match_task(&h)
            .loading("working")
            .ready(|n| Text(format!("got {n}")))
            .into()
    });
    assert_eq!(app.run().text(), "working\n");
    let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        app.run_until(Duration::from_millis(50), |text| text == "never\n");
    }))
    .unwrap_err();
    let msg = err.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(msg.contains("the last rerun showed:\nworking\n"), "{msg}");
    open.send(()).unwrap();
    assert_eq!(
        app.run_until(WAIT, |text| text.starts_with("got")).text(),
        "got 7\n"
    );
}
