//! # Gallery: every element, rendered once
//!
//! What this shows: the element constructors (`Page`, `VStack`, `HStack`, `Card`, `Text`,
//! `Markdown`, `Divider`, `ProgressBar`, `Button`, `Fragment`, `ErrorBox`), a
//! `#[component]` with props and render-path state, and a contained panic, rendered to
//! the terminal as text. With `--html` it prints the HTML document instead.
//!
//! Run: `cargo xtask demo` or `cargo run --example gallery [-- --html]`.

use streamtree::prelude::*;

/// A card that greets someone; its render count lives in the session under its render
/// path, so each instance counts on its own.
#[component]
fn Greeting(name: String) -> Element {
    let seen = state("seen", || 0u32).update(|n| {
        *n += 1;
        *n
    });
    Card([
        Markdown(format!("### Hello, {name}!")),
        Text(format!(
            "rendered {seen} time(s) at {}",
            streamtree::session::render_path()
        )),
    ])
}

/// A component that fails: its panic shows in place, and its siblings still render.
#[component]
fn Flaky() -> Element {
    let values: Vec<u32> = Vec::new();
    Text(format!("first value: {}", values[0]))
}

fn app() -> Element {
    Page([
        Markdown(
            "streamtree renders an element tree on every **rerun**. This gallery shows each \
             element once; see the other examples for background tasks.",
        ),
        HStack([
            Greeting("Grace".into()).key("grace"),
            Greeting("Ada".into()).key("ada"),
        ]),
        Divider(),
        Card([
            Text("Progress bars clamp out-of-range values and show NaN as indeterminate:"),
            ProgressBar(0.35).message("downloading"),
            ProgressBar(1.0).message("done"),
            ProgressBar(f64::NAN).message("waiting for a worker"),
        ])
        .key("progress"),
        HStack([
            Button("Run").key("run"),
            Button("Stop").key("stop").disabled(true),
        ]),
        Flaky(),
        Text("<script>alert('escaped, never executed')</script>"),
    ])
    .title("streamtree gallery")
}

fn main() {
    let html = std::env::args().any(|a| a == "--html");
    let mut test = AppTest::new(app);
    test.run();
    if html {
        print!("{}", test.html());
    } else {
        print!("{}", test.text());
    }
}
