//! Display widgets in both backends: `Columns`, `Expander`, the alert boxes and `Metric`.

use std::fmt::Write as _;

use unicode_width::UnicodeWidthStr;

use crate::element::Element;
use crate::element::display::{AlertKind, ColumnsNode, ExpanderNode, MetricNode};
use crate::render::html::{self, escape};
use crate::render::text;

/// The gap between side-by-side columns in the text backend.
const GAP: usize = 2;

/// A CSS grid whose `grid-template-columns` comes from the weights (plain numbers, so
/// nothing user-supplied reaches the style attribute); each child in its own cell.
pub(crate) fn columns_html(out: &mut String, el: &Element, c: &ColumnsNode) {
    out.push_str("<div class=\"st-columns\" style=\"grid-template-columns:");
    for i in 0..c.children.len() {
        let sep = if i == 0 { "" } else { " " };
        let _ = write!(out, "{sep}minmax(0,{}fr)", c.weight(i));
    }
    out.push('"');
    html::key_attr(out, el);
    out.push('>');
    for child in &c.children {
        out.push_str("<div class=\"st-column\">");
        html::write_children(std::slice::from_ref(child), out);
        out.push_str("</div>");
    }
    out.push_str("</div>");
}

/// `<details>` with a `<summary>`: opens and closes without JavaScript.
pub(crate) fn expander_html(out: &mut String, el: &Element, e: &ExpanderNode) {
    out.push_str("<details class=\"st-expander\"");
    if e.expanded {
        out.push_str(" open");
    }
    html::key_attr(out, el);
    out.push_str("><summary>");
    escape(out, &e.label);
    out.push_str("</summary><div class=\"st-expander-body\">");
    html::write_children(&e.children, out);
    out.push_str("</div></details>");
}

pub(crate) fn alert_html(out: &mut String, el: &Element, kind: AlertKind, message: &str) {
    out.push_str(match kind {
        AlertKind::Info => "<div class=\"st-info\" role=\"status\"",
        AlertKind::Success => "<div class=\"st-success\" role=\"status\"",
        AlertKind::Warning => "<div class=\"st-warning\" role=\"status\"",
    });
    html::key_attr(out, el);
    out.push('>');
    escape(out, message);
    out.push_str("</div>");
}

pub(crate) fn metric_html(out: &mut String, el: &Element, m: &MetricNode) {
    out.push_str("<div class=\"st-metric\"");
    html::key_attr(out, el);
    out.push_str("><div class=\"st-metric-label\">");
    escape(out, &m.label);
    out.push_str("</div><div class=\"st-metric-value\">");
    escape(out, &m.value);
    out.push_str("</div>");
    if let Some(d) = &m.delta {
        if MetricNode::down(d) {
            out.push_str(
                "<div class=\"st-metric-delta st-down\"><span aria-hidden=\"true\">▼</span> ",
            );
        } else {
            out.push_str(
                "<div class=\"st-metric-delta st-up\"><span aria-hidden=\"true\">▲</span> ",
            );
        }
        escape(out, d);
        out.push_str("</div>");
    }
    out.push_str("</div>");
}

/// The first line of an alert box, as `ErrorBox` writes `! error: ..`.
pub(crate) fn alert_prefix(kind: AlertKind) -> &'static str {
    match kind {
        AlertKind::Info => "i info: ",
        AlertKind::Success => "✓ success: ",
        AlertKind::Warning => "! warning: ",
    }
}

/// `Label: value (▲ delta)`.
pub(crate) fn metric_text(m: &MetricNode) -> String {
    let mut s = format!("{}: {}", m.label, m.value);
    if let Some(d) = &m.delta {
        let arrow = if MetricNode::down(d) { '▼' } else { '▲' };
        let _ = write!(s, " ({arrow} {d})");
    }
    s
}

/// `Columns` (and its key) as a header, then the columns side by side if every child's
/// lines fit its share of `text_width` (less the indentation and gaps), else stacked.
pub(crate) fn columns_text(out: &mut String, depth: usize, el: &Element, c: &ColumnsNode) {
    text::header(out, depth, el, "Columns");
    let inner = depth + 1;
    let rendered: Vec<String> = c
        .children
        .iter()
        .map(|child| {
            let mut s = String::new();
            text::write(child, 0, &mut s);
            s
        })
        .collect();
    let n = rendered.len();
    let room = c
        .text_width
        .saturating_sub(2 * inner + GAP * n.saturating_sub(1));
    let total: f64 = (0..n).map(|i| c.weight(i)).sum();
    let shares: Vec<usize> = (0..n)
        .map(|i| (room as f64 * c.weight(i) / total).floor() as usize)
        .collect();
    let fits = rendered
        .iter()
        .zip(&shares)
        .all(|(s, &w)| s.lines().all(|l| l.width() <= w));
    if !fits {
        for s in &rendered {
            for l in s.lines() {
                text::line(out, inner, l);
            }
        }
        return;
    }
    let cols: Vec<Vec<&str>> = rendered.iter().map(|s| s.lines().collect()).collect();
    let height = cols.iter().map(Vec::len).max().unwrap_or(0);
    for row in 0..height {
        let mut l = String::new();
        for (i, (col, &w)) in cols.iter().zip(&shares).enumerate() {
            if i > 0 {
                l.extend(std::iter::repeat_n(' ', GAP));
            }
            let cell = col.get(row).copied().unwrap_or("");
            l.push_str(cell);
            l.extend(std::iter::repeat_n(' ', w - cell.width()));
        }
        text::line(out, inner, &l);
    }
}

/// `▾ label` (and the key), then the children indented: the text backend shows it open.
pub(crate) fn expander_text(out: &mut String, depth: usize, el: &Element, e: &ExpanderNode) {
    text::header(out, depth, el, &format!("▾ {}", e.label));
    for child in &e.children {
        text::write(child, depth + 1, out);
    }
}
