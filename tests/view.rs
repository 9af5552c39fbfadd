//! `view!` behaviour: every construct renders exactly what the hand-written tree renders.
//! `match_task` lives in `view_match_task.rs`, with the tasks it needs.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use streamtree::prelude::*;
use streamtree::session::render_path;
use streamtree_tests::Greeting;

/// Both trees render the same text and HTML, each resolved by a rerun of its own.
#[track_caller]
fn same(from_macro: Element, by_hand: Element) {
    let from_macro = Session::new().rerun(|| from_macro);
    let by_hand = Session::new().rerun(|| by_hand);
    assert_eq!(render_text(&from_macro), render_text(&by_hand));
    assert_eq!(render_html(&from_macro), render_html(&by_hand));
}

/// A component that takes its children as the array `Name { .. }` passes.
#[component]
fn Panel(children: [Element; 2]) -> Element {
    Card(children).key("panel")
}

/// A component with a generic children prop and a plain prop.
#[component]
fn Section(title: String, children: impl IntoIterator<Item = Element> + Send + 'static) -> Element {
    VStack([Text(title), Fragment(children)])
}

#[test]
fn nothing_is_empty_and_several_nodes_are_a_fragment() {
    assert_eq!(render_text(&view! {}), "");
    same(view! { "a" }, Text("a"));
    same(
        view! { "a" Divider() "b" },
        Fragment([Text("a"), Divider(), Text("b")]),
    );
}

#[test]
fn the_issue_example() {
    let names = vec!["Ada".to_string(), "Alan".to_string()];
    let cond = true;
    let value = Some("here");
    let some_expression = Markdown("*spliced*");
    let tree = view! {
        Page {
            VStack {
                "a string literal becomes Text"
                Greeting("Grace".to_string())
                Card { Text("nested") }
                {some_expression}
                for n in names.clone() { Greeting(n) }
                if cond { Markdown("**yes**") } else { "no" }
                match value { Some(v) => { Text(v) } None => { "none" } }
            }
        }
    };
    let by_hand = Page([VStack([
        Text("a string literal becomes Text"),
        Greeting("Grace".to_string()),
        Card([Text("nested")]),
        Markdown("*spliced*"),
        Fragment(names.into_iter().map(Greeting)),
        Markdown("**yes**"),
        Text("here"),
    ])]);
    same(tree, by_hand);
}

#[test]
fn chains_follow_the_call_or_the_children() {
    let clicks = Arc::new(AtomicUsize::new(0));
    let counter = clicks.clone();
    let tree = view! {
        Page {
            Button("Go").key("go").on_click(move || { counter.fetch_add(1, Ordering::SeqCst); })
            Button("Off").disabled(true)
            ProgressBar(0.5).message("half")
            Markdown("<b>x</b>").unsafe_allow_html(true)
            Card { "in a card" }.key("card")
            Greeting("Ada".to_string()).key("ada")
        }.title("Options")
    };
    let by_hand = Page([
        Button("Go").key("go"),
        Button("Off").disabled(true),
        ProgressBar(0.5).message("half"),
        Markdown("<b>x</b>").unsafe_allow_html(true),
        Card([Text("in a card")]).key("card"),
        Greeting("Ada".to_string()).key("ada"),
    ])
    .title("Options");
    same(tree, by_hand);

    let seen = clicks.clone();
    let mut app = AppTest::new(move || {
        let counter = clicks.clone();
        view! { Button("Go").key("go").on_click(move || { counter.fetch_add(1, Ordering::SeqCst); }) }
    });
    app.run().click("go").unwrap();
    assert_eq!(
        seen.load(Ordering::SeqCst),
        1,
        "the handler from `view!` ran"
    );
}

#[test]
fn children_blocks_pass_one_array() {
    same(
        view! { Panel { "left" Divider() } },
        Card([Text("left"), Divider()]).key("panel"),
    );
    same(
        view! { HStack {} Fragment { "only" } },
        Fragment([HStack(Vec::<Element>::new()), Fragment([Text("only")])]),
    );
    let intro = view! { "one" "two" };
    same(
        view! { Section("Intro".to_string(), [intro]) },
        VStack([Text("Intro"), Text("one"), Text("two")]),
    );
}

/// Shows its own render path.
#[component]
fn Where() -> Element {
    Text(render_path())
}

#[test]
fn nested_components_keep_their_render_paths() {
    let from_macro = || {
        view! {
            VStack {
                Where()
                Card { Where() Where().key("k") for _ in 0..2 { Where() } }
            }
        }
    };
    let by_hand = || {
        VStack([
            Where(),
            Card([Where(), Where().key("k"), Fragment((0..2).map(|_| Where()))]),
        ])
    };
    let text = render_text(&Session::new().rerun(from_macro));
    assert_eq!(text, render_text(&Session::new().rerun(by_hand)));
    assert!(text.contains("Where[k]"), "{text}");
}

#[test]
fn splices_take_values_and_blocks() {
    let owned = String::from("owned");
    let maybe: Option<&str> = None;
    let list = vec![Text("x"), Text("y")];
    let tree = view! {
        {"borrowed"}
        {owned}
        {maybe}
        {Some("some")}
        {list}
        {()}
        { let n = 40 + 2; Text(n) }
        {..["i", "j"]}
        {..(1..=2).map(|i| Text(i * 10))}
    };
    let by_hand = Fragment([
        Text("borrowed"),
        Text("owned"),
        Text("some"),
        Text("x"),
        Text("y"),
        Text("42"),
        Text("i"),
        Text("j"),
        Text("10"),
        Text("20"),
    ]);
    same(tree, by_hand);
}

#[test]
fn for_takes_patterns_and_flattens_bodies() {
    let pairs = [("a", 1), ("b", 2)];
    let tree = view! {
        VStack {
            for (name, n) in pairs { Text(name) Text(n) }
            for _ in std::iter::empty::<u8>() { "never" }
            for _x in [1, 2] {}
            for row in [[1, 2], [3, 4]] { HStack { for cell in row { Text(cell) } } }
        }
    };
    let by_hand = VStack([
        Fragment([Text("a"), Text("1"), Text("b"), Text("2")]),
        Element::empty(),
        Element::empty(),
        Fragment([
            HStack([Text("1"), Text("2")]),
            HStack([Text("3"), Text("4")]),
        ]),
    ]);
    same(tree, by_hand);
}

/// `?` in a `for` body returns from the enclosing function, as in a hand-written loop.
fn parse_all(inputs: &[&str]) -> Result<Element, std::num::ParseIntError> {
    Ok(view! { for s in inputs { Text(s.parse::<i32>()?) } })
}

#[test]
fn for_bodies_are_plain_loops() {
    same(
        parse_all(&["1", "2"]).unwrap(),
        Fragment([Text("1"), Text("2")]),
    );
    assert!(parse_all(&["1", "x"]).is_err());
}

#[test]
fn if_else_if_let_and_missing_else() {
    let pick = |n: i32, o: Option<&'static str>| {
        view! {
            if n > 1 { "big" } else if n == 1 { "one" Divider() } else { "small" }
            if let Some(s) = o && !s.is_empty() { Text(s) }
            if n < 0 { "negative" }
        }
    };
    same(pick(2, Some("s")), Fragment([Text("big"), Text("s")]));
    same(pick(1, None), Fragment([Text("one"), Divider()]));
    same(
        pick(-1, Some("")),
        Fragment([Text("small"), Text("negative")]),
    );
}

#[test]
fn match_arms_take_guards_and_blocks() {
    let show = |v: Option<i32>| {
        view! {
            match v {
                Some(n) if n > 9 => { "many" },
                Some(n) => { Text(n) Text("!") }
                None => {}
            }
        }
    };
    same(show(Some(10)), Text("many"));
    same(show(Some(3)), Fragment([Text("3"), Text("!")]));
    assert_eq!(render_text(&show(None)), "");
}

#[test]
fn paths_and_turbofish_calls() {
    fn wrap<T: Into<Element>>(v: T) -> Element {
        Card([v.into()])
    }
    let tree = view! {
        streamtree::elements::Divider()
        ::streamtree::elements::VStack { "in" }
        wrap::<&str>("w")
    };
    same(
        tree,
        Fragment([Divider(), VStack([Text("in")]), Card([Text("w")])]),
    );
}

#[test]
fn a_view_is_an_app() {
    let mut app = AppTest::new(|| {
        let items = ["x", "y"];
        view! { Page { for i in items { Text(i) } }.title("T") }
    });
    assert_eq!(app.run().text(), "Page \"T\"\n  x\n  y\n");
}
