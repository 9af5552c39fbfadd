//! `#[component]` behaviour: deferred bodies, props, patterns, generics, keys and render
//! paths, as users write them.

use std::sync::Arc;
use std::sync::mpsc::{Sender, channel};

use streamtree::Str;
use streamtree::prelude::*;
use streamtree::session::render_path;
use streamtree_tests::Greeting;

/// Shows its own render path.
#[component]
fn Where() -> Element {
    Text(render_path())
}

#[component]
fn Probe(log: Sender<&'static str>) -> Element {
    log.send("body").unwrap();
    Text("probe")
}

#[test]
fn body_runs_at_render_not_at_construction() {
    let (tx, rx) = channel();
    let el = Probe(tx.clone());
    assert!(
        rx.try_recv().is_err(),
        "calling a component must not run its body"
    );
    let tree = Session::new().rerun(move || {
        tx.send("root").unwrap();
        VStack([el])
    });
    assert_eq!(rx.try_iter().collect::<Vec<_>>(), ["root", "body"]);
    assert_eq!(render_text(&tree), "VStack\n  probe\n");
}

#[component]
fn Holder(value: Arc<String>) -> Element {
    Text(value.as_str())
}

#[test]
fn props_move_into_the_body_until_it_runs() {
    let value = Arc::new("kept".to_string());
    let el = Holder(value.clone());
    assert_eq!(
        Arc::strong_count(&value),
        2,
        "the body owns the prop until render"
    );
    assert_eq!(render_text(&Session::new().rerun(|| el)), "kept\n");
    assert_eq!(
        Arc::strong_count(&value),
        1,
        "the body and its prop are dropped once run"
    );
}

struct Point {
    x: i32,
    y: i32,
}

#[component]
fn Patterns((a, b): (i32, i32), mut n: u32, Point { x, y }: Point, _: (), ref r: u8) -> Element {
    n += 1;
    Text(format!("{a} {b} {n} {x} {y} {r}"))
}

#[test]
fn parameter_patterns_are_destructured_in_the_body() {
    let el = Patterns((1, 2), 3, Point { x: 5, y: 6 }, (), 7);
    assert_eq!(render_text(&Session::new().rerun(|| el)), "1 2 4 5 6 7\n");
}

#[component]
fn List<T>(items: Vec<T>) -> Element
where
    T: Into<Element> + Send + 'static,
{
    VStack(items.into_iter().map(Into::into))
}

#[component]
fn Label(text: impl Into<Str> + Send + 'static) -> Element {
    Text(text)
}

#[test]
fn generic_and_impl_trait_props() {
    let el = List(vec![Label("a"), Label(String::from("b")), Label('c')]);
    assert_eq!(
        render_text(&Session::new().rerun(|| el)),
        "VStack\n  a\n  b\n  c\n"
    );
    assert_eq!(
        render_text(&Session::new().rerun(|| List(vec!["x", "y"]))),
        "VStack\n  x\n  y\n"
    );
}

#[test]
fn calls_get_keyed_or_positional_segments() {
    let app = || VStack([Where(), Where().key("k"), Where(), Greeting("Ada".into())]);
    assert_eq!(
        AppTest::new(app).run().text(),
        "VStack\n  /Where#0\n  /Where[k]\n  /Where#1\n  Hello, Ada!\n"
    );
}

#[component]
fn Inner() -> Element {
    Fragment([Where(), Where()])
}

#[component]
fn Outer() -> Element {
    VStack([Where(), Inner().key("i"), Inner()])
}

#[test]
fn nested_components_extend_the_path() {
    let app = || Fragment([Outer(), Outer().key("o")]);
    assert_eq!(
        AppTest::new(app).run().text(),
        "VStack\n  /Outer#0/Where#0\n  /Outer#0/Inner[i]/Where#0\n  /Outer#0/Inner[i]/Where#1\n  \
         /Outer#0/Inner#0/Where#0\n  /Outer#0/Inner#0/Where#1\n\
         VStack\n  /Outer[o]/Where#0\n  /Outer[o]/Inner[i]/Where#0\n  /Outer[o]/Inner[i]/Where#1\n  \
         /Outer[o]/Inner#0/Where#0\n  /Outer[o]/Inner#0/Where#1\n"
    );
}

#[component]
fn Early(done: bool) -> Element {
    #![deny(unused_variables)]
    if done {
        return Text("early");
    }
    Text("late")
}

#[test]
fn return_leaves_the_body() {
    assert_eq!(
        render_text(&Session::new().rerun(|| VStack([Early(true), Early(false)]))),
        "VStack\n  early\n  late\n"
    );
}

#[component]
fn Counter() -> Element {
    let n = state("n", || 0).update(|n| {
        *n += 1;
        *n
    });
    Text(format!("{} {n}", render_path()))
}

#[test]
fn component_state_survives_reruns() {
    let mut app = AppTest::new(|| VStack([Counter().key("a"), Counter()]));
    app.run();
    assert_eq!(
        app.run().text(),
        "VStack\n  /Counter[a] 2\n  /Counter#0 2\n"
    );
}

#[component]
fn Boom() -> Element {
    panic!("kaboom")
}

#[test]
fn a_panicking_body_becomes_an_error_in_place() {
    let app = || VStack([Text("before"), Boom(), Text("after")]);
    assert_eq!(
        AppTest::new(app).run().text(),
        "VStack\n  before\n  ! error: component `Boom` panicked: kaboom\n  after\n"
    );
}

#[component]
fn r#type() -> Element {
    Where()
}

#[test]
fn raw_identifiers_name_the_segment_without_prefix() {
    assert_eq!(AppTest::new(r#type).run().text(), "/type#0/Where#0\n");
}

mod elsewhere {
    use streamtree::prelude::*;

    /// Visibility and attributes are kept: callable from the parent module.
    #[component]
    #[must_use]
    pub(super) fn Visible(n: u8) -> Element {
        Text(n.to_string())
    }
}

#[test]
fn visibility_and_attributes_are_kept() {
    assert_eq!(
        render_text(&Session::new().rerun(|| elsewhere::Visible(9))),
        "9\n"
    );
}

/// Counts its reruns in component state `n`, labelled `label`.
fn tally(label: &str) -> Element {
    let n = state("n", || 0).update(|n| {
        *n += 1;
        *n
    });
    Text(format!("{label} {n}"))
}

mod ui {
    use streamtree::prelude::*;

    #[component]
    pub(super) fn Card() -> Element {
        super::tally("ui")
    }
}

mod admin {
    use streamtree::prelude::*;

    #[component]
    pub(super) fn Card() -> Element {
        super::tally("admin")
    }
}

#[test]
fn same_named_components_in_two_modules_keep_separate_state() {
    let mut app = AppTest::new(|| VStack([ui::Card().key("c"), admin::Card().key("c")]));
    app.run();
    assert_eq!(app.run().text(), "VStack\n  ui 2\n  admin 2\n");
}

#[test]
fn inserting_another_same_named_component_keeps_positions() {
    let first = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let flag = first.clone();
    let mut app = AppTest::new(move || {
        if flag.load(std::sync::atomic::Ordering::SeqCst) {
            VStack([ui::Card()])
        } else {
            VStack([admin::Card(), ui::Card()])
        }
    });
    assert_eq!(app.run().text(), "VStack\n  ui 1\n");
    first.store(false, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(
        app.run().text(),
        "VStack\n  admin 1\n  ui 2\n",
        "`admin::Card` is not `ui::Card`: it neither takes its state nor shifts its position"
    );
}

#[component]
fn Typed<T: 'static>() -> Element {
    tally(std::any::type_name::<T>())
}

#[test]
fn generic_instances_keep_separate_state() {
    let mut app = AppTest::new(|| VStack([Typed::<i32>().key("t"), Typed::<String>().key("t")]));
    app.run();
    assert_eq!(
        app.run().text(),
        "VStack\n  i32 2\n  alloc::string::String 2\n"
    );
}

#[component]
fn Nest(inner: bool) -> Element {
    let own = tally("own");
    if inner {
        VStack([own, Nest(false).key("y")])
    } else {
        own
    }
}

#[test]
fn a_key_cannot_forge_another_path() {
    // Unescaped, `/Nest[x]/Nest[y]` would be both the forged key's path and the path of
    // the `Nest` inside `Nest[x]`.
    let app = || VStack([Nest(true).key("x"), Nest(false).key("x]/Nest[y")]);
    assert_eq!(
        AppTest::new(app).run().text(),
        "VStack\n  VStack\n    own 1\n    own 1\n  own 1\n"
    );
}

#[test]
fn hostile_keys_are_escaped_in_the_render_path() {
    let keys = ["x]/Where#0", r"a\", r"a\]", "a]", "#/[]", "two\nlines"];
    let app = move || VStack(keys.map(|k| Where().key(k)));
    assert_eq!(
        AppTest::new(app).run().text(),
        "VStack\n  /Where[x\\]\\/Where\\#0]\n  /Where[a\\\\]\n  /Where[a\\\\\\]]\n  \
         /Where[a\\]]\n  /Where[\\#\\/\\[\\]]\n  /Where[two\\nlines]\n"
    );
}

/// Sends `"dropped"` when dropped.
struct DropLog(Sender<&'static str>);

impl Drop for DropLog {
    fn drop(&mut self) {
        self.0.send("dropped").unwrap();
    }
}

#[component]
fn Guarded(
    _: DropLog,
    (n, _): (u8, DropLog),
    _unused: DropLog,
    log: Sender<&'static str>,
) -> Element {
    log.send("body").unwrap();
    Text(n.to_string())
}

#[test]
fn props_live_until_the_body_has_run() {
    let (tx, rx) = channel();
    let el = Guarded(
        DropLog(tx.clone()),
        (1, DropLog(tx.clone())),
        DropLog(tx.clone()),
        tx,
    );
    assert_eq!(
        rx.try_iter().collect::<Vec<_>>(),
        Vec::<&str>::new(),
        "building the element must drop no prop"
    );
    assert_eq!(render_text(&Session::new().rerun(|| el)), "1\n");
    assert_eq!(
        rx.try_iter().collect::<Vec<_>>(),
        ["body", "dropped", "dropped", "dropped"]
    );
}

#[test]
fn unused_props_are_dropped_with_the_element() {
    let (tx, rx) = channel();
    let el = Guarded(
        DropLog(tx.clone()),
        (1, DropLog(tx.clone())),
        DropLog(tx.clone()),
        tx,
    );
    assert_eq!(
        rx.try_iter().count(),
        0,
        "building the element drops no prop"
    );
    drop(el);
    assert_eq!(rx.try_iter().collect::<Vec<_>>(), ["dropped"; 3]);
}
