//! The readable text format the terminal draws (`streamtree::render::readable`), beside
//! the structural snapshot format (`render_text`, pinned in `tests/text.rs`): every
//! element kind, a narrow width (a horizontal stack that no longer fits stacks), focus,
//! and the gallery's first state.

use std::time::Duration;

use std::sync::Arc;

use insta::assert_snapshot;
use streamtree::prelude::*;
use streamtree::render::readable::{self, Style};
use streamtree_tests::{
    LONG_JOB_GATE, QUICK_JOB_GATE, async_loader_demo, every_element, progress_cancel,
};

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
        editing: None,
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

/// The gallery's loader and long job (the demo's own components), their work held by the
/// fixtures' gates; without the task panel, whose real timings would change its box.
fn gallery_demos() -> Element {
    let loader: async_loader_demo::Loader = Arc::new(|key| {
        QUICK_JOB_GATE.wait(|| is_task_cancel_requested(key));
        Ok(42)
    });
    let step: progress_cancel::Step = Arc::new(|_| {
        LONG_JOB_GATE.wait(|| is_task_cancel_requested(progress_cancel::LONG_JOB));
    });
    Page([
        async_loader_demo::LoaderDemo(loader),
        progress_cancel::LongJob(step),
    ])
    .title("streamtree gallery")
}

#[test]
fn gallery_first_state() {
    // The loader done, the long job held at its first step (its gate stays shut): a
    // state the page settles in, whatever the timing.
    let mut app = AppTest::new(gallery_demos);
    app.run_until(Duration::from_secs(10), |text| {
        text.contains("result=42") && text.contains("step 1 of 10")
    });
    assert_snapshot!("gallery_first_80", readable::render(app.element(), 80));
}
