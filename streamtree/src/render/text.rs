//! Plain-text backend: readable, deterministic, and our snapshot format.
//!
//! One element per line, nesting by two-space indentation; `Fragment`s and component
//! calls are transparent; container keys show as `[key]`. No line ends in whitespace, and
//! nothing depends on time, addresses or hash order.

use std::fmt::Write as _;

use crate::element::{Element, Node, Str, unresolved};
use crate::render::{chart, display, input, markdown, table};

/// Cells in a text progress bar.
const BAR: usize = 20;

/// Renders `el` as plain text. Pure: runs no component body (see [`crate::render`]).
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// let page = Page([VStack([Text("a"), Button("Go")]), ProgressBar(0.25).message("loading")]).title("Demo");
/// assert_eq!(
///     streamtree::render::text::render(&page),
///     "Page \"Demo\"\n  VStack\n    a\n    [ Go ]\n  [#####...............] 25% loading\n"
/// );
/// ```
pub fn render(el: &Element) -> String {
    let mut out = String::new();
    write(el, 0, &mut out);
    out
}

pub(super) fn line(out: &mut String, depth: usize, text: &str) {
    let text = text.trim_end();
    if !text.is_empty() {
        for _ in 0..depth {
            out.push_str("  ");
        }
        out.push_str(text);
    }
    out.push('\n');
}

fn lines(out: &mut String, depth: usize, text: &str) {
    if text.is_empty() {
        out.push('\n');
    }
    for l in text.lines() {
        line(out, depth, l);
    }
}

pub(super) fn header(out: &mut String, depth: usize, el: &Element, name: &str) {
    match &el.key {
        Some(k) => line(out, depth, &format!("{name} [{k}]")),
        None => line(out, depth, name),
    }
}

/// The label of a progress bar: `50%` or `working`, then the message.
pub(crate) fn progress_label(value: f64, message: Option<&str>) -> String {
    let mut label = if value.is_nan() {
        "working".to_owned()
    } else {
        format!("{}%", (value * 100.0).round() as u32)
    };
    if let Some(m) = message.filter(|m| !m.is_empty()) {
        label.push(' ');
        label.push_str(m);
    }
    label
}

pub(super) fn write(el: &Element, depth: usize, out: &mut String) {
    match &el.node {
        Node::Page(p) => {
            let name = match &p.title {
                Some(t) => format!("Page {:?}", t.as_str()),
                None => "Page".to_owned(),
            };
            header(out, depth, el, &name);
            p.children.iter().for_each(|c| write(c, depth + 1, out));
        }
        Node::Stack { kind, children, .. } => {
            header(out, depth, el, kind.name());
            children.iter().for_each(|c| write(c, depth + 1, out));
        }
        Node::Fragment { children, .. } => children.iter().for_each(|c| write(c, depth, out)),
        Node::Component(c) => match c.output() {
            Some(output) => write(output, depth, out),
            None => write(&unresolved(c.name), depth, out),
        },
        Node::Text(t) => lines(out, depth, t),
        Node::Markdown { source, allow_html } => {
            for l in markdown::to_text_lines(source, *allow_html) {
                line(out, depth, &l);
            }
        }
        Node::Divider => line(out, depth, &"─".repeat(2 * BAR)),
        Node::Progress { value, message } => {
            let mut bar = String::with_capacity(BAR + 2);
            bar.push('[');
            if value.is_nan() {
                bar.push_str("<=>");
                bar.push_str(&".".repeat(BAR - 3));
            } else {
                let filled = (value * BAR as f64).round() as usize;
                bar.push_str(&"#".repeat(filled));
                bar.push_str(&".".repeat(BAR - filled));
            }
            bar.push(']');
            let _ = write!(
                bar,
                " {}",
                progress_label(*value, message.as_deref().map(Str::as_str))
            );
            line(out, depth, &bar);
        }
        Node::Button(b) => {
            let suffix = if b.disabled { " (disabled)" } else { "" };
            line(out, depth, &format!("[ {} ]{suffix}", b.label));
        }
        Node::Chart(c) => {
            header(out, depth, el, &chart::text::heading(c));
            for l in chart::text::body(c) {
                line(out, depth + 1, &l);
            }
        }
        Node::Error { message, .. } => {
            let mut it = message.lines();
            line(out, depth, &format!("! error: {}", it.next().unwrap_or("")));
            for rest in it {
                line(out, depth + 1, rest);
            }
        }
        Node::Table(t) => {
            for l in table::text(t) {
                line(out, depth, &l);
            }
        }
        Node::Columns(c) => display::columns_text(out, depth, el, c),
        Node::Expander(e) => display::expander_text(out, depth, el, e),
        Node::Alert { kind, message } => {
            let mut it = message.lines();
            let first = it.next().unwrap_or("");
            line(
                out,
                depth,
                &format!("{}{first}", display::alert_prefix(*kind)),
            );
            for rest in it {
                line(out, depth + 1, rest);
            }
        }
        Node::Metric(m) => line(out, depth, &display::metric_text(m)),
        Node::Input(i) => line(out, depth, &input::text(i)),
    }
}
