//! HTML backend output, pinned as insta snapshots; escaping checked outright as well.

#[allow(dead_code)]
#[path = "../streamtree/benches/common/table.rs"]
mod table;

use insta::assert_snapshot;
use streamtree::prelude::*;
use streamtree_tests::{contained_panic, every_element, hostile};

#[test]
fn every_element_as_html() {
    assert_snapshot!(
        "every_element",
        render_html(AppTest::new(every_element).run().element())
    );
}

#[test]
fn hostile_input_as_html() {
    let html = render_html_document(&hostile());
    assert!(html.contains("<title>&lt;/title&gt;&lt;script&gt;alert(1)&lt;/script&gt;</title>"));
    assert_snapshot!("hostile", render_html(&hostile()));
    assert!(!html.contains("<script>"), "a script tag got through");
    assert!(
        !html.contains("javascript:"),
        "a javascript: URL got through"
    );
    assert!(!html.contains("<b>"), "raw HTML got through");
    assert!(
        !html.contains("<img src=x"),
        "attribute injection got through"
    );
}

#[test]
fn contained_panic_as_html() {
    let mut app = AppTest::new(contained_panic);
    assert_snapshot!("contained_panic", render_html(app.run().element()));
}

#[test]
fn markdown_unsafe_allow_html_opts_out() {
    let md = Markdown("<b>bold</b> [x](javascript:void(0))").unsafe_allow_html(true);
    assert_snapshot!("markdown_unsafe_allow_html", render_html(&md));
}

#[test]
fn document_shell() {
    let doc = render_html_document(&Page([Text("body")]).title("Doc"));
    // The stylesheet is long and pinned by its own file; snapshot the shell around it.
    let start = doc.find("<style>").unwrap() + "<style>".len();
    let end = doc.find("</style>").unwrap();
    let shell = format!("{}/* stylesheet */{}", &doc[..start], &doc[end..]);
    assert_snapshot!("document_shell", shell);
    assert_eq!(
        &doc[start..end],
        format!("\n{}", streamtree::render::html::STYLESHEET)
    );
}

#[test]
fn untitled_or_non_page_root_gets_default_title() {
    assert!(render_html_document(&Text("x")).contains("<title>streamtree</title>"));
    assert!(render_html_document(&Page([Text("x")])).contains("<title>streamtree</title>"));
}

#[test]
fn benchmark_table_matches_maud_markup() {
    // The render benchmark compares against maud; this keeps the comparison honest.
    assert_eq!(render_html(&table::table()), table::maud_table());
}
