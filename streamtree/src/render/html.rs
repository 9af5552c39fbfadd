//! HTML backend: fragments and full documents.
//!
//! Every text node and attribute value goes through [`escape`]; nothing user-supplied is
//! written any other way (Markdown's own output is built by pulldown-cmark from events we
//! have already made safe). Keyed elements carry a stable `data-st-key` marker. Buttons are
//! `type="submit"` with `name="key"` and their address as `value`, so the live server's
//! page form posts clicks without JavaScript.

use std::cell::Cell;
use std::fmt::Write as _;

use crate::element::{Element, ErrorKind, Node, StackKind, Str, unresolved};
use crate::render::{chart, display, input, markdown, table, text::progress_label};

/// The built-in stylesheet of [`document`]: no external assets.
///
/// # Example
/// ```
/// assert!(streamtree::render::html::STYLESHEET.contains(".st-card"));
/// ```
pub const STYLESHEET: &str = include_str!("style.css");

/// Escapes `text` for use as HTML text or a quoted attribute value (`& < > " '`), appending
/// to `out`. The one escaper of this crate.
///
/// # Example
/// ```
/// let mut out = String::new();
/// streamtree::render::html::escape(&mut out, r#"<a href="x">Tom & 'Jerry'</a>"#);
/// assert_eq!(out, "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;");
/// ```
pub fn escape(out: &mut String, text: &str) {
    // Short clean strings (most cells and labels) skip the escaper's per-call setup.
    if text.len() <= 64
        && !text
            .bytes()
            .any(|b| matches!(b, b'&' | b'<' | b'>' | b'"' | b'\''))
    {
        out.push_str(text);
        return;
    }
    // Writing to a String cannot fail.
    let _ = pulldown_cmark_escape::escape_html(out, text);
}

/// Whether `text` holds a byte [`escape`] rewrites. Scans 64-byte blocks without an early
/// exit inside one (so the compiler vectorises it): for whole buffers, not single words.
pub(crate) fn needs_escape(text: &str) -> bool {
    text.as_bytes().chunks(64).any(|block| {
        block.iter().fold(false, |found, &b| {
            found | matches!(b, b'&' | b'<' | b'>' | b'"' | b'\'')
        })
    })
}

/// Renders `el` as an HTML fragment. Pure: runs no component body (see [`crate::render`]).
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// assert_eq!(
///     streamtree::render::html::fragment(&VStack([Text("a & b")]).key("k")),
///     r#"<div class="st-vstack" data-st-key="k"><div class="st-text">a &amp; b</div></div>"#
/// );
/// ```
pub fn fragment(el: &Element) -> String {
    // Reruns of one app render similar sizes: start from the last size to skip regrowth.
    let mut out = String::with_capacity(LAST_LEN.with(Cell::get));
    write(el, &mut out);
    LAST_LEN.with(|l| l.set(out.len()));
    out
}

thread_local! {
    /// Length of the last fragment rendered on this thread, a capacity hint.
    static LAST_LEN: Cell<usize> = const { Cell::new(0) };
}

/// Renders `el` as a complete HTML document with the built-in stylesheet. The document's
/// title is the `Page`'s title when `el` is a titled `Page`, else `streamtree`.
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// let doc = streamtree::render::html::document(&Page([Text("hi")]).title("A < B"));
/// assert!(doc.starts_with("<!DOCTYPE html>"));
/// assert!(doc.contains("<title>A &lt; B</title>"));
/// ```
pub fn document(el: &Element) -> String {
    document_with(
        &fragment(el),
        title(el).unwrap_or("streamtree"),
        &Shell::default(),
    )
}

/// The title of `el` when it is a titled `Page`.
pub(crate) fn title(el: &Element) -> Option<&str> {
    match &el.node {
        Node::Page(p) => p.title.as_deref(),
        _ => None,
    }
}

/// Trusted markup a host (the live server) puts around a rendered body. Nothing
/// user-supplied goes here: the host builds these strings from its own constants and
/// [`escape`]d values.
#[derive(Default)]
pub(crate) struct Shell<'a> {
    /// Inserted at the end of `<head>`.
    pub head: &'a str,
    /// Inserted right after `<body>`.
    pub body_start: &'a str,
    /// Inserted right before `</body>`.
    pub body_end: &'a str,
}

/// A complete document around an already rendered `body`, with `title` escaped.
pub(crate) fn document_with(body: &str, title: &str, shell: &Shell<'_>) -> String {
    let extra = shell.head.len() + shell.body_start.len() + shell.body_end.len();
    let mut out = String::with_capacity(body.len() + STYLESHEET.len() + extra + 256);
    out.push_str(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>",
    );
    escape(&mut out, title);
    out.push_str("</title>\n<style>\n");
    out.push_str(STYLESHEET);
    out.push_str("</style>\n");
    out.push_str(shell.head);
    out.push_str("</head>\n<body>\n");
    out.push_str(shell.body_start);
    out.push_str(body);
    out.push_str(shell.body_end);
    out.push_str("\n</body>\n</html>\n");
    out
}

/// Writes an opening tag given as its static start (`<div class="st-text"`): the common
/// unkeyed case is one copy of the whole tag, `>` included.
macro_rules! open {
    ($out:expr, $start:literal, $el:expr) => {
        if $el.key.is_none() {
            $out.push_str(concat!($start, ">"));
        } else {
            $out.push_str($start);
            key_attr($out, $el);
            $out.push('>');
        }
    };
}

/// An unkeyed text node, the bulk of most trees: inlined into the children loops.
#[inline(always)]
fn text(out: &mut String, t: &str) {
    out.push_str("<div class=\"st-text\">");
    escape(out, t);
    out.push_str("</div>");
}

#[inline]
pub(super) fn write_children(children: &[Element], out: &mut String) {
    for c in children {
        match (&c.node, &c.key) {
            (Node::Text(t), None) => text(out, t),
            _ => write(c, out),
        }
    }
}

pub(super) fn key_attr(out: &mut String, el: &Element) {
    if let Some(k) = &el.key {
        out.push_str(" data-st-key=\"");
        escape(out, k);
        out.push('"');
    }
}

fn write(el: &Element, out: &mut String) {
    match &el.node {
        Node::Page(p) => {
            open!(out, "<main class=\"st-page\"", el);
            if let Some(t) = &p.title {
                out.push_str("<h1 class=\"st-title\">");
                escape(out, t);
                out.push_str("</h1>");
            }
            write_children(&p.children, out);
            out.push_str("</main>");
        }
        Node::Stack { kind, children, .. } => {
            match kind {
                StackKind::VStack => open!(out, "<div class=\"st-vstack\"", el),
                StackKind::HStack => open!(out, "<div class=\"st-hstack\"", el),
                StackKind::Card => open!(out, "<div class=\"st-card\"", el),
            }
            write_children(children, out);
            out.push_str("</div>");
        }
        Node::Fragment { children, .. } => write_children(children, out),
        Node::Component(c) => {
            let keyed = el.key.is_some();
            if keyed {
                open!(out, "<div class=\"st-component\"", el);
            }
            match c.output() {
                Some(output) => write(output, out),
                None => write(&unresolved(c.name), out),
            }
            if keyed {
                out.push_str("</div>");
            }
        }
        Node::Text(t) => {
            open!(out, "<div class=\"st-text\"", el);
            escape(out, t);
            out.push_str("</div>");
        }
        Node::Markdown { source, allow_html } => {
            open!(out, "<div class=\"st-markdown\"", el);
            pulldown_cmark::html::push_html(out, markdown::safe_events(source, *allow_html));
            out.push_str("</div>");
        }
        Node::Divider => {
            out.push_str("<hr class=\"st-divider\"");
            key_attr(out, el);
            out.push('>');
        }
        Node::Progress { value, message } => {
            open!(out, "<div class=\"st-progress\"", el);
            let label = progress_label(*value, message.as_deref().map(Str::as_str));
            if value.is_nan() {
                out.push_str("<progress aria-label=\"");
            } else {
                let _ = write!(out, "<progress max=\"1\" value=\"{value}\" aria-label=\"");
            }
            escape(out, &label);
            out.push_str("\"></progress><span class=\"st-progress-label\">");
            escape(out, &label);
            out.push_str("</span></div>");
        }
        Node::Button(b) => {
            // A submit button naming its address: inside the live server's form a click
            // posts `key=<address>` with or without JavaScript; elsewhere it does nothing.
            out.push_str("<button class=\"st-button\" type=\"submit\" name=\"key\" value=\"");
            escape(out, el.key.as_deref().unwrap_or(&b.label));
            out.push('"');
            key_attr(out, el);
            if b.disabled {
                out.push_str(" disabled");
            }
            out.push('>');
            escape(out, &b.label);
            out.push_str("</button>");
        }
        Node::Chart(c) => {
            open!(out, "<figure class=\"st-chart\"", el);
            chart::svg::figure(out, c);
            out.push_str("</figure>");
        }
        Node::Error { message, kind } => {
            if *kind == ErrorKind::Panic {
                // Marks a contained panic (whose text a server may hide).
                open!(
                    out,
                    "<div class=\"st-error\" role=\"alert\" data-st-panic",
                    el
                );
            } else {
                open!(out, "<div class=\"st-error\" role=\"alert\"", el);
            }
            escape(out, message);
            out.push_str("</div>");
        }
        Node::Table(t) => table::html(out, el, t),
        Node::Columns(c) => display::columns_html(out, el, c),
        Node::Expander(e) => display::expander_html(out, el, e),
        Node::Alert { kind, message } => display::alert_html(out, el, *kind, message),
        Node::Metric(m) => display::metric_html(out, el, m),
        Node::Input(i) => input::html(out, el, i),
    }
}
