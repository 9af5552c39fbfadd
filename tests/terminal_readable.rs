//! The readable text format the terminal draws (`streamtree::render::readable`), beside
//! the structural snapshot format (`render_text`, pinned in `tests/text.rs`): every
//! element kind, a narrow width (a horizontal stack that no longer fits stacks), focus,
//! and the gallery's first state.

use insta::{assert_snapshot, with_settings};
use streamtree::prelude::*;
use streamtree::render::readable::{self, Style};
use streamtree_tests::{browser_demo, every_element};

fn widgets() -> Element {
    Page([
        Columns([
            VStack([Metric("Users", 1204).delta("+3%"), Info("all systems go")]),
            VStack([Metric("Errors", 7).delta("-2"), Warning("disk 91% full")]),
        ]),
        Success("saved"),
        Table([
            vec!["EU".to_string(), 1200.to_string()],
            vec!["Asia".into(), 80.to_string()],
        ])
        .header(["Region", "Sales"])
        .align([Align::Left, Align::Right]),
        LineChart([
            Series::new("EU", [(1, 3.0), (2, 5.0), (3, 4.0)]),
            Series::new("US", [(1, 2.0), (2, 2.5), (3, 6.0)]),
        ])
        .title("Units per day"),
        BarChart([Series::new("Units", [("Q1", 10), ("Q2", 5)])]),
        Expander("Details", [Text("hidden by default in a browser")]),
        HStack([
            Card([Text("left card")]),
            Card([Text("right card"), ProgressBar(0.5)]),
        ]),
    ])
    .title("Widgets")
}

fn resolved(root: impl Fn() -> Element + 'static) -> AppTest {
    let mut app = AppTest::new(root);
    app.run();
    app
}

#[test]
fn every_element_wide_and_narrow() {
    let app = resolved(every_element);
    assert_snapshot!("every_element_80", readable::render(app.element(), 80));
    assert_snapshot!("every_element_24", readable::render(app.element(), 24));
}

#[test]
fn display_widgets() {
    let app = resolved(widgets);
    assert_snapshot!("widgets_80", readable::render(app.element(), 80));
    assert_snapshot!("widgets_30", readable::render(app.element(), 30));
}

#[test]
fn focused_button_is_marked_and_reversed_on_a_tty() {
    let app = resolved(every_element);
    let plain = Style {
        width: 80,
        focused: Some("Unkeyed"),
        ansi: false,
    };
    let out = readable::render_with(app.element(), &plain);
    assert!(out.contains("[>Unkeyed<]"), "{out}");
    assert!(out.contains("[ Run ]"), "{out}");
    let tty = Style {
        ansi: true,
        ..plain
    };
    let out = readable::render_with(app.element(), &tty);
    assert!(out.contains("\u{1b}[7m[>Unkeyed<]\u{1b}[27m"), "{out:?}");
}

#[test]
fn gallery_first_state() {
    let app = resolved(browser_demo);
    // Timings in the debug panel are real durations: the one unstable part.
    with_settings!({filters => vec![(r"\d+ ms", "[n] ms")]}, {
        assert_snapshot!("gallery_first_80", readable::render(app.element(), 80));
    });
}
