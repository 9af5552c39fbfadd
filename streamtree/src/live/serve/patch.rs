//! Keyed partial updates: what changed between two renders of a page, as replacements of
//! elements addressed by their path from the page root.
//!
//! A render is parsed once into [`Outline`], the element tree of our own HTML (start tag,
//! children, end tag, as byte offsets). [`diff`] walks the old and the new outline in step
//! and, for each pair of elements whose bytes differ, either replaces the new element whole
//! (its *own* markup changed: start tag, text between its children, or the number of its
//! element children; or it is opaque) or descends into its children. So a progress tick
//! replaces the `<progress>` and its label, never the table beside them. A render's
//! outline is made from the previous one's ([`Outline::reparse`]): only the content of the
//! innermost element holding every changed byte is parsed again (checked against a whole
//! parse in debug builds).
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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
#[derive(Debug, Default, Clone, PartialEq, Eq)]
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

    /// The outline of `new`, given that `self` is the outline of `old`: only the content
    /// of the innermost element holding every changed byte is parsed again (a progress
    /// tick beside a large table parses the progress bar, not the table). `None` when
    /// `new` does not parse.
    pub(super) fn reparse(&self, old: &str, new: &str) -> Option<Outline> {
        if old == new {
            return Some(self.clone());
        }
        let (o, n) = (old.as_bytes(), new.as_bytes());
        let prefix = common(o.chunks(64).zip(n.chunks(64)), o.iter().zip(n));
        let room = o.len().min(n.len()) - prefix;
        let (o_rest, n_rest) = (&o[o.len() - room..], &n[n.len() - room..]);
        let suffix = common(
            o_rest.rchunks(64).zip(n_rest.rchunks(64)),
            o_rest.iter().rev().zip(n_rest.iter().rev()),
        );
        let (changed_end, delta) = (o.len() - suffix, n.len() as i64 - o.len() as i64);
        // The innermost element whose content holds the change; never inside an opaque
        // one (raw text does not parse as tags).
        let holds = |e: &El| {
            e.open_end as usize <= prefix
                && changed_end <= e.close_start as usize
                && e.close_start < e.end
                && !e.opaque
        };
        let mut at = 0;
        while let Some(c) = self.children(at).find(|&c| holds(self.el(c))) {
            at = c;
        }
        let e = *self.el(at);
        let content_end = usize::try_from(e.close_start as i64 + delta).ok()?;
        let sub = Outline::parse(new.get(e.open_end as usize..content_end)?)?;
        // `at`'s descendants are the pre-order run after it, up to the first element that
        // starts at or after its end.
        let after = (at as usize + 1..self.els.len())
            .find(|&i| self.els[i].start >= e.end)
            .unwrap_or(self.els.len());
        let added = sub.els.len() - 1;
        let shift = |i: u32, base: u32| if i == NONE { NONE } else { i + base };
        let moved = |i: u32| -> u32 {
            if i == NONE || (i as usize) < after {
                i
            } else {
                (i as i64 + added as i64 - (after as i64 - at as i64 - 1)) as u32
            }
        };
        let offset = |x: u32, by: i64| (x as i64 + by) as u32;
        let mut els = Vec::with_capacity(self.els.len() - (after - at as usize - 1) + added);
        for (i, el) in self.els[..=at as usize].iter().enumerate() {
            // `at` and its ancestors (the earlier elements that end after it) end after
            // the change; the others end before it.
            let by = if el.end >= e.end { delta } else { 0 };
            els.push(El {
                close_start: offset(el.close_start, by),
                end: offset(el.end, by),
                first_child: if i == at as usize {
                    shift(sub.els[0].first_child, at)
                } else {
                    moved(el.first_child)
                },
                next: moved(el.next),
                ..*el
            });
        }
        let base = e.open_end as i64;
        els.extend(sub.els[1..].iter().map(|el| El {
            start: offset(el.start, base),
            open_end: offset(el.open_end, base),
            close_start: offset(el.close_start, base),
            end: offset(el.end, base),
            first_child: shift(el.first_child, at),
            next: shift(el.next, at),
            opaque: el.opaque,
        }));
        els.extend(self.els[after..].iter().map(|el| El {
            start: offset(el.start, delta),
            open_end: offset(el.open_end, delta),
            close_start: offset(el.close_start, delta),
            end: offset(el.end, delta),
            first_child: moved(el.first_child),
            next: moved(el.next),
            opaque: el.opaque,
        }));
        let outline = Outline { els };
        debug_assert_eq!(
            Some(&outline),
            Outline::parse(new).as_ref(),
            "reparsing only the changed element gives the whole parse"
        );
        Some(outline)
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

/// The length of the common start of two byte sequences, given as aligned 64-byte
/// chunks (compared whole, fast) and as bytes (to finish inside the first unequal chunk).
fn common<'a>(
    chunks: impl Iterator<Item = (&'a [u8], &'a [u8])>,
    bytes: impl Iterator<Item = (&'a u8, &'a u8)>,
) -> usize {
    let equal: usize = chunks
        .take_while(|(a, b)| a == b)
        .map(|(a, _)| a.len())
        .sum();
    equal + bytes.skip(equal).take_while(|(a, b)| a == b).count()
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

#[cfg(test)]
#[path = "patch_tests.rs"]
mod tests;
