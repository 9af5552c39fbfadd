//! Shared components and element trees for the integration tests.

use streamtree::prelude::*;

/// A component with a prop.
#[component]
pub fn Greeting(name: String) -> Element {
    Text(format!("Hello, {name}!"))
}

/// A component whose body panics with `message`.
#[component]
pub fn Boom(message: String) -> Element {
    panic!("{message}")
}

/// Every element kind once, nested, with keys and options: the gallery the snapshots
/// pin for each backend.
pub fn every_element() -> Element {
    Page([
        VStack([
            Text("plain text"),
            Text("two\nlines"),
            Markdown("# Heading\n\nSome *emphasis*, **strong** and `code`.\n\n- one\n- two\n\n1. first\n2. second\n\n[a link](https://example.com)"),
            Divider(),
        ])
        .key("intro"),
        HStack([
            Button("Run").key("run"),
            Button("Stop").key("stop").disabled(true),
            Button("Unkeyed"),
        ]),
        Card([
            ProgressBar(0.0),
            ProgressBar(0.5).message("half way"),
            ProgressBar(1.5).message("clamped"),
            ProgressBar(-1.0),
            ProgressBar(f64::NAN).message("indeterminate"),
        ])
        .key("progress"),
        Fragment([Greeting("Grace".to_string()), Greeting("Ada".to_string()).key("ada")]),
        ErrorBox("something went wrong"),
    ])
    .title("Every element")
}

/// Hostile input in every place text can go.
pub fn hostile() -> Element {
    Page([
        Text("<script>alert('x')</script> & \"quotes\""),
        Markdown("<script>alert(1)</script>\n\n<b>bold?</b> inline <i>html</i>\n\n[click](javascript:alert(1)) [ok](https://ok.example) [mail](mailto:a@b.c) [rel](/docs) ![img](javascript:evil) [tab](java\tscript:x)"),
        Button("<b>label</b>").key("k\"><script>"),
        ProgressBar(0.3).message("<img src=x onerror=alert(1)>"),
        ErrorBox("<error & stuff>"),
    ])
    .title("</title><script>alert(1)</script>")
}

/// Siblings around a component that panics.
pub fn contained_panic() -> Element {
    VStack([
        Text("before"),
        Boom("kaboom: <bad> input".to_string()),
        Greeting("after".to_string()),
    ])
}
