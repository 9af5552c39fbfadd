//! Sessions across reruns: state survives, render-path state is scoped and swept, panics
//! are contained, buttons dispatch.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use insta::assert_json_snapshot;
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
        "VStack\n  ! error: component `Typed` panicked: state key `shared` holds a `u8`, not a `alloc::string::String`: use one type per key\n  sibling\n"
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
