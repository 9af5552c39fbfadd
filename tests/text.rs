//! Text backend output, pinned as insta snapshots.

use insta::assert_snapshot;
use streamtree::prelude::*;
use streamtree_tests::{contained_panic, every_element, hostile};

#[test]
fn every_element_as_text() {
    assert_snapshot!("every_element", AppTest::new(every_element).run().text());
}

#[test]
fn hostile_input_as_text() {
    assert_snapshot!("hostile", render_text(&hostile()));
}

#[test]
fn contained_panic_as_text() {
    let mut app = AppTest::new(contained_panic);
    assert_snapshot!("contained_panic", app.run().text());
}

#[test]
fn misused_options_show_in_place() {
    let tree = VStack([
        Text("x").title("nope"),
        Divider().message("nope"),
        Page([Text("p")]).on_click(|| {}),
        Text("y").key("   "),
        Markdown("m").disabled(true),
    ]);
    assert_snapshot!("misused_options", render_text(&tree));
}

#[test]
fn no_trailing_whitespace_and_deterministic() {
    let a = AppTest::new(every_element).run().text();
    let b = AppTest::new(every_element).run().text();
    assert_eq!(a, b);
    for line in a.lines() {
        assert_eq!(line, line.trim_end(), "trailing whitespace in {line:?}");
    }
}

#[test]
fn markdown_edge_cases() {
    let md = "Intro line\nsoft-wrapped.  \nHard break.\n\n> quote *one*\n> more\n\n```\nfn main() {}\n```\n\n---\n\n- a\n  - nested\n- b\n\n![alt text](https://img.example/x.png)";
    assert_snapshot!("markdown_edge_cases", render_text(&Markdown(md)));
}
