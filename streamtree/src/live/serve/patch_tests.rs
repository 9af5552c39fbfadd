//! Unit tests of `patch.rs`: diffs applied back give the new render, and incremental
//! outlines equal whole parses.

use super::*;
use crate::prelude::*;
use crate::render::html::fragment;

fn ops(old: &str, new: &str) -> Option<Vec<Op>> {
    let o = Outline::parse(old).unwrap();
    // `reparse` checks itself against a whole parse (debug builds).
    let n = o.reparse(old, new).unwrap();
    let ops = diff(&o, old, &n, new)?;
    assert_eq!(apply(old, &ops, new), new, "the patch turns old into new");
    Some(ops)
}

fn table(n: usize, progress: f64) -> String {
    let rows: Vec<Vec<String>> = (0..n)
        .map(|r| (0..n).map(|c| format!("r{r}c{c}")).collect())
        .collect();
    fragment(&Page([
        ProgressBar(progress).message(format!("{}%", progress * 100.0)),
        Table(rows),
    ]))
}

#[test]
fn unchanged_is_an_empty_patch() {
    let page = table(10, 0.5);
    assert_eq!(ops(&page, &page), Some(vec![]));
}

#[test]
fn a_progress_tick_replaces_only_the_progress_bar() {
    let (old, new) = (table(100, 0.25), table(100, 0.5));
    let ops = ops(&old, &new).unwrap();
    let size: usize = ops.iter().map(|op| op.html.len()).sum();
    assert!(size < 300, "{size} bytes: {ops:?}");
    assert!(
        ops.iter()
            .all(|op| !new[op.html.clone()].contains("<table")),
        "the table is not re-sent"
    );
}

#[test]
fn one_changed_cell_is_one_small_op() {
    let old = fragment(&Table(vec![vec!["a", "b"], vec!["c", "d"]]));
    let new = fragment(&Table(vec![vec!["a", "b"], vec!["c", "<e>"]]));
    let ops = ops(&old, &new).unwrap();
    assert_eq!(ops.len(), 1, "{ops:?}");
    // Escaping is preserved: the op is the new render's bytes.
    assert_eq!(&new[ops[0].html.clone()], "<td>&lt;e&gt;</td>");
}

#[test]
fn a_changed_child_count_replaces_the_parent() {
    let old = fragment(&Page([VStack([Text("a")]).key("list"), Text("z")]));
    let new = fragment(&Page([
        VStack([Text("a"), Text("b")]).key("list"),
        Text("z"),
    ]));
    let ops = ops(&old, &new).unwrap();
    assert_eq!(ops.len(), 1);
    assert!(new[ops[0].html.clone()].starts_with("<div class=\"st-vstack\" data-st-key=\"list\">"));
}

#[test]
fn a_changed_key_structure_at_the_root_is_the_whole_page() {
    let old = fragment(&Fragment([Text("a").key("x")]));
    let new = fragment(&Fragment([Text("a").key("x"), Text("b").key("y")]));
    assert_eq!(ops(&old, &new), None);
}

#[test]
fn opaque_elements_are_replaced_whole() {
    let old = fragment(&Page([Markdown("**a** and *b*"), Text("x")]));
    let new = fragment(&Page([Markdown("**a** and *c*"), Text("x")]));
    let ops = ops(&old, &new).unwrap();
    assert_eq!(ops.len(), 1);
    assert!(new[ops[0].html.clone()].starts_with("<div class=\"st-markdown\""));
}

#[test]
fn reparsing_the_changed_element_gives_the_whole_parse() {
    let pairs = [
        ("<div><p>a</p><p>b</p></div>", "<div><p>a</p><p>c</p></div>"),
        ("<div><p>a</p></div>", "<div><p>a</p><p>b</p></div>"),
        ("<div><p>a</p><p>b</p></div>", "<div><p>b</p></div>"),
        ("<div><hr><p>a</p></div>", "<div><hr><hr><p>a</p></div>"),
        ("<div><br></div><i>x</i>", "<div><br>t</div><i>x</i>"),
        ("<p></p><p></p>", "<p><b>x</b></p><p></p>"),
        ("<style>a</style><p>x</p>", "<style>a</b></style><p>x</p>"),
        (
            "<div><svg><g/></svg></div>",
            "<div><svg><g/><g/></svg></div>",
        ),
        ("<a>1</a>", "<b>1</b>"),
        ("", "<a></a>"),
    ];
    for (old, new) in pairs {
        let o = Outline::parse(old).unwrap();
        assert_eq!(o.reparse(old, new), Outline::parse(new), "{old} → {new}");
    }
    let o = Outline::parse("<a>").map(|_| ());
    assert_eq!(o, None);
    let old = "<div><p>a</p></div>";
    let o = Outline::parse(old).unwrap();
    assert_eq!(
        o.reparse(old, "<div><p>a</div>"),
        None,
        "unbalanced stays unparsed"
    );
}

#[test]
fn unbalanced_html_does_not_parse() {
    assert!(Outline::parse("<div><span></div>").is_none());
    assert!(Outline::parse("<div>").is_none());
    assert!(Outline::parse("</div>").is_none());
    assert!(Outline::parse("<div><br><input x=\">\"><svg><path/></svg></div>").is_some());
    assert!(Outline::parse("<style>a</b></style><p>x</p>").is_some());
}

/// Applies `ops` made by [`diff`] against `old`: the new render (browsers do it in
/// `script.js`).
fn apply(old: &str, ops: &[Op], new_html: &str) -> String {
    let mut page = old.to_owned();
    for op in ops {
        let outline = Outline::parse(&page).expect("a patched page stays balanced");
        let mut el = 0;
        for &i in &op.path {
            el = outline
                .children(el)
                .nth(i as usize)
                .expect("the path exists");
        }
        let e = outline.el(el);
        page.replace_range(e.start as usize..e.end as usize, &new_html[op.html.clone()]);
    }
    page
}
