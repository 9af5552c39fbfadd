//! Keyed partial updates: what changed between two renders of a page, as replacements of
//! elements addressed by their path from the page root.
//!
//! A render is parsed once into [`Outline`], the element tree of our own HTML (start tag,
//! children, end tag, as byte offsets). [`diff`] walks the old and the new outline in step
//! and, for each pair of elements whose bytes differ, either replaces the new element whole
//! (its *own* markup changed: start tag, text between its children, or the number of its
//! element children; or it is opaque) or descends into its children. So a progress tick
//! replaces the `<progress>` and its label, never the table beside them.
//!
//! Invariants:
//! - an address is the list of element-child indexes from the page root (what
//!   `element.children[i]` walks in the browser: text and comments do not count); it is
//!   only meaningful against the render the patch was made from, which is why every patch
//!   names its base seq;
//! - applying the ops in order to the old render (replace the addressed element's
//!   outerHTML) gives the new render, byte for byte: elements and the text between them
//!   outside replaced elements are equal, checked on the way down;
//! - parsing is conservative: anything but balanced tags (a stray end tag, an unclosed
//!   element) fails, and the caller sends the whole page. Elements a browser may parse
//!   differently from a plain tag tree (SVG and MathML, raw-text elements, Markdown's
//!   output, which may hold an app's own HTML) are opaque: replaced whole, never entered.
//!
//! Keys (`data-st-key`) are part of the start tag: a keyed element whose key changed is
//! replaced whole, and a list whose length changed is replaced by its parent.

use std::ops::Range;

/// An element or the page root in an [`Outline`].
#[derive(Debug, Clone, Copy)]
struct El {
    /// Offset of its `<`, and just past the `>` of its start tag.
    start: u32,
    open_end: u32,
    /// Offset of its end tag's `<` (`== open_end` for void and self-closed elements), and
    /// just past the end tag's `>`.
    close_start: u32,
    end: u32,
    /// Its first element child and next element sibling, as indexes into `els`.
    first_child: u32,
    next: u32,
    /// Replaced whole, never entered (see the module docs).
    opaque: bool,
}

const NONE: u32 = u32::MAX;

/// The element tree of one render: index 0 is the page root (the whole fragment).
#[derive(Debug, Default)]
pub(super) struct Outline {
    els: Vec<El>,
}

/// One replacement: the element at `path` (element-child indexes from the root) becomes
/// the new render's bytes `html`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Op {
    pub(super) path: Vec<u32>,
    pub(super) html: Range<usize>,
}

/// How a browser parses an element's content.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Child elements and text.
    Normal,
    /// No content, no end tag.
    Void,
    /// Text up to its end tag (with scripting on).
    RawText,
    /// Other rules (foreign content, templates): opaque.
    Foreign,
}

/// The [`Kind`] of the element named `tag` (any case); one `match`, as this runs per tag.
fn kind(tag: &str) -> Kind {
    let mut lower = [0u8; 10];
    let Some(buf) = lower.get_mut(..tag.len()) else {
        return Kind::Normal;
    };
    buf.copy_from_slice(tag.as_bytes());
    buf.make_ascii_lowercase();
    match &*buf {
        b"area" | b"base" | b"br" | b"col" | b"embed" | b"hr" | b"img" | b"input" | b"keygen"
        | b"link" | b"meta" | b"param" | b"source" | b"track" | b"wbr" => Kind::Void,
        b"script" | b"style" | b"textarea" | b"title" | b"xmp" | b"iframe" | b"noembed"
        | b"noframes" | b"noscript" | b"plaintext" => Kind::RawText,
        b"svg" | b"math" | b"template" => Kind::Foreign,
        _ => Kind::Normal,
    }
}

/// The start tag of Markdown's output (`render/html.rs`), which may hold an app's own
/// HTML.
const MARKDOWN: &str = "<div class=\"st-markdown\"";

impl Outline {
    /// Parses a rendered fragment; `None` when its tags are not balanced.
    pub(super) fn parse(html: &str) -> Option<Outline> {
        let bytes = html.as_bytes();
        let len = u32::try_from(bytes.len()).ok()?;
        // About one element per 16 bytes of a table's HTML.
        let mut els = Vec::with_capacity(bytes.len() / 16 + 1);
        els.push(El {
            start: 0,
            open_end: 0,
            close_start: len,
            end: len,
            first_child: NONE,
            next: NONE,
            opaque: false,
        });
        // Open elements, innermost last: (index, name range, last child so far).
        let mut stack: Vec<(u32, Range<usize>, u32)> = vec![(0, 0..0, NONE)];
        let mut at = 0;
        while let Some(found) = html[at..].find('<') {
            let lt = at + found;
            let rest = &bytes[lt + 1..];
            match rest.first() {
                Some(b'/') => {
                    let name = name_at(bytes, lt + 2);
                    let gt = lt + html[lt..].find('>')?;
                    let (index, open_name, _) = stack.pop()?;
                    if index == 0 || !eq_name(&html[open_name], &html[name]) {
                        return None;
                    }
                    let el = &mut els[index as usize];
                    el.close_start = lt as u32;
                    el.end = gt as u32 + 1;
                    at = gt + 1;
                }
                Some(b'!') if rest.starts_with(b"!--") => {
                    at = lt + 4 + html[lt + 4..].find("-->")? + 3;
                }
                Some(b'!' | b'?') => at = lt + html[lt..].find('>')? + 1,
                Some(b) if b.is_ascii_alphabetic() => {
                    let name = name_at(bytes, lt + 1);
                    let gt = tag_end(bytes, name.end)?;
                    let open_end = gt + 1;
                    let tag = &html[name.clone()];
                    let self_closed = bytes[gt - 1] == b'/';
                    let kind = kind(tag);
                    let raw = kind == Kind::RawText;
                    let opaque = matches!(kind, Kind::RawText | Kind::Foreign)
                        || html[lt..].starts_with(MARKDOWN);
                    let index = els.len() as u32;
                    els.push(El {
                        start: lt as u32,
                        open_end: open_end as u32,
                        close_start: open_end as u32,
                        end: open_end as u32,
                        first_child: NONE,
                        next: NONE,
                        opaque,
                    });
                    let parent = stack.last_mut().expect("the root is never popped here");
                    match parent.2 {
                        NONE => els[parent.0 as usize].first_child = index,
                        last => els[last as usize].next = index,
                    }
                    parent.2 = index;
                    at = open_end;
                    if self_closed || kind == Kind::Void {
                        continue;
                    }
                    if raw {
                        // Up to the first `</name`, as a browser reads raw text.
                        let close = find_end_tag(html, open_end, tag)?;
                        let gt = close + html[close..].find('>')?;
                        let el = &mut els[index as usize];
                        el.close_start = close as u32;
                        el.end = gt as u32 + 1;
                        at = gt + 1;
                    } else {
                        stack.push((index, name, NONE));
                    }
                }
                // A `<` that starts no tag is text (we escape ours; this is Markdown's).
                _ => at = lt + 1,
            }
        }
        (stack.len() == 1).then_some(Outline { els })
    }

    fn el(&self, i: u32) -> &El {
        &self.els[i as usize]
    }

    fn children(&self, i: u32) -> impl Iterator<Item = u32> + '_ {
        let first = self.el(i).first_child;
        std::iter::successors((first != NONE).then_some(first), |&c| {
            let next = self.el(c).next;
            (next != NONE).then_some(next)
        })
    }
}

fn eq_name(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// The tag name starting at `from`.
fn name_at(bytes: &[u8], from: usize) -> Range<usize> {
    let len = bytes[from.min(bytes.len())..]
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b':' | b'_'))
        .count();
    from..from + len
}

/// The offset of the `>` closing a start tag, skipping quoted attribute values.
fn tag_end(bytes: &[u8], from: usize) -> Option<usize> {
    let mut quote = None;
    for (i, &b) in bytes.iter().enumerate().skip(from) {
        match (quote, b) {
            (None, b'>') => return Some(i),
            (None, b'"' | b'\'') => quote = Some(b),
            (Some(q), _) if q == b => quote = None,
            _ => {}
        }
    }
    None
}

/// The offset of the first `</tag` (any case) at or after `from`.
fn find_end_tag(html: &str, from: usize, tag: &str) -> Option<usize> {
    let bytes = html.as_bytes();
    let mut at = from;
    while let Some(found) = html[at..].find("</") {
        let lt = at + found;
        let name = bytes.get(lt + 2..lt + 2 + tag.len())?;
        if name.eq_ignore_ascii_case(tag.as_bytes()) {
            return Some(lt);
        }
        at = lt + 2;
    }
    None
}

/// The replacements that turn `old` into `new`, or `None` when the root's own structure
/// changed (then only the whole page will do). Empty when nothing changed.
pub(super) fn diff(
    old: &Outline,
    old_html: &str,
    new: &Outline,
    new_html: &str,
) -> Option<Vec<Op>> {
    let walk = Walk {
        old,
        old_html: old_html.as_bytes(),
        new,
        new_html: new_html.as_bytes(),
    };
    if !walk.same_shape(0, 0) {
        return None;
    }
    let mut ops = Vec::new();
    let mut path = Vec::new();
    walk.children(0, 0, &mut path, &mut ops);
    Some(ops)
}

/// The cost of an op in a push, for choosing between children's ops and their parent's.
fn cost(op: &Op) -> usize {
    op.html.len() + 4 * op.path.len() + 8
}

struct Walk<'a> {
    old: &'a Outline,
    old_html: &'a [u8],
    new: &'a Outline,
    new_html: &'a [u8],
}

impl Walk<'_> {
    fn bytes(html: &[u8], r: Range<u32>) -> &[u8] {
        &html[r.start as usize..r.end as usize]
    }

    /// Whether `o` and `n` have the same own markup: start and end tags, the number of
    /// element children, and the text between them.
    fn same_shape(&self, o: u32, n: u32) -> bool {
        let (oe, ne) = (self.old.el(o), self.new.el(n));
        if oe.opaque
            || ne.opaque
            || Self::bytes(self.old_html, oe.start..oe.open_end)
                != Self::bytes(self.new_html, ne.start..ne.open_end)
            || Self::bytes(self.old_html, oe.close_start..oe.end)
                != Self::bytes(self.new_html, ne.close_start..ne.end)
        {
            return false;
        }
        // The text before each child and after the last, pairwise.
        let (mut oc, mut nc) = (oe.first_child, ne.first_child);
        let (mut ot, mut nt) = (oe.open_end, ne.open_end);
        loop {
            let (ogap_end, ngap_end) = match (oc, nc) {
                (NONE, NONE) => (oe.close_start, ne.close_start),
                (NONE, _) | (_, NONE) => return false,
                (o, n) => (self.old.el(o).start, self.new.el(n).start),
            };
            if Self::bytes(self.old_html, ot..ogap_end) != Self::bytes(self.new_html, nt..ngap_end)
            {
                return false;
            }
            if oc == NONE {
                return true;
            }
            ot = self.old.el(oc).end;
            nt = self.new.el(nc).end;
            oc = self.old.el(oc).next;
            nc = self.new.el(nc).next;
        }
    }

    /// Ops for the children of `o` and `n`, which have the same shape.
    fn children(&self, o: u32, n: u32, path: &mut Vec<u32>, ops: &mut Vec<Op>) {
        for (i, (oc, nc)) in self.old.children(o).zip(self.new.children(n)).enumerate() {
            path.push(i as u32);
            self.element(oc, nc, path, ops);
            path.pop();
        }
    }

    /// Ops for the element pair `o`, `n` at `path`: none when equal, one replacement when
    /// its own markup changed, else its children's (or one replacement, if smaller).
    fn element(&self, o: u32, n: u32, path: &mut Vec<u32>, ops: &mut Vec<Op>) {
        let (oe, ne) = (self.old.el(o), self.new.el(n));
        if Self::bytes(self.old_html, oe.start..oe.end)
            == Self::bytes(self.new_html, ne.start..ne.end)
        {
            return;
        }
        let whole = Op {
            path: path.clone(),
            html: ne.start as usize..ne.end as usize,
        };
        if !self.same_shape(o, n) {
            ops.push(whole);
            return;
        }
        let mark = ops.len();
        self.children(o, n, path, ops);
        debug_assert!(
            ops.len() > mark,
            "equal shapes with unequal bytes differ in a child"
        );
        if ops[mark..].iter().map(cost).sum::<usize>() >= cost(&whole) {
            ops.truncate(mark);
            ops.push(whole);
        }
    }
}

/// Applies `ops` made by [`diff`] against `old`: the new render (for tests and debug
/// checks; browsers do it in `script.js`).
#[cfg(test)]
pub(super) fn apply(old: &str, ops: &[Op], new_html: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelude::*;
    use crate::render::html::fragment;

    fn ops(old: &str, new: &str) -> Option<Vec<Op>> {
        let (o, n) = (Outline::parse(old).unwrap(), Outline::parse(new).unwrap());
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
        assert!(
            new[ops[0].html.clone()].starts_with("<div class=\"st-vstack\" data-st-key=\"list\">")
        );
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
    fn unbalanced_html_does_not_parse() {
        assert!(Outline::parse("<div><span></div>").is_none());
        assert!(Outline::parse("<div>").is_none());
        assert!(Outline::parse("</div>").is_none());
        assert!(Outline::parse("<div><br><input x=\">\"><svg><path/></svg></div>").is_some());
        assert!(Outline::parse("<style>a</b></style><p>x</p>").is_some());
    }
}
