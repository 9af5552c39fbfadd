//! Readable text backend: the page as a person reads it in a terminal.
//!
//! This is what the terminal runner shows. The structural format in [`text`]
//! (one element per line, type names, keys) stays the snapshot format for tests; both are
//! tested. Here there are no type names and no keys: children of a horizontal stack sit
//! on one line when they fit the width, cards are boxes (`┌─┐`), errors are boxes titled
//! `error`, buttons are `[ Label ]` and the focused one `[>Label<]` (in reverse video too
//! when ANSI styling is on); a focused input's line starts with `>` (reverse video too),
//! and while it is being edited its field shows the edit buffer and a caret (`▏`). Tables, charts, progress bars, alerts and metrics reuse the
//! structural backend's lines, which already read well.
//!
//! Layout: every element becomes a block of lines; a block never needs more columns than
//! it was given unless one of its own lines (a long word, a wide table) does. No line ends
//! in whitespace.

use unicode_width::UnicodeWidthStr;

use crate::element::{Element, Node, StackKind, unresolved};
use crate::render::{chart, input, markdown, text};

/// Columns between side-by-side children.
const GAP: usize = 2;

/// How to draw: the width to fit, which button has focus, and whether to use ANSI styles.
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// use streamtree::render::readable::{Style, render_with};
/// let page = HStack([Button("Go").key("go"), Button("Stop")]);
/// let style = Style { width: 40, focused: Some("go"), editing: None, ansi: false };
/// assert_eq!(render_with(&page, &style), "[>Go<]  [ Stop ]\n");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style<'a> {
    /// Columns to fit (side-by-side layout and box widths).
    pub width: usize,
    /// The address of the focused button (key, else label) or input (key), if any.
    pub focused: Option<&'a str>,
    /// The edit buffer of the focused text or number input, shown in its field with a
    /// caret instead of its value.
    pub editing: Option<&'a str>,
    /// Reverse video on the focused button (for a TTY).
    pub ansi: bool,
}

/// Renders `el` to fit `width` columns, nothing focused, no ANSI styles. Pure: runs no
/// component body (see [`crate::render`]).
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// let page = Page([Card([Text("hi"), HStack([Button("A"), Button("B")])])]).title("Demo");
/// assert_eq!(
///     streamtree::render::readable::render(&page, 40),
///     "Demo\n════\n┌──────────────┐\n│ hi           │\n│ [ A ]  [ B ] │\n└──────────────┘\n",
/// );
/// ```
pub fn render(el: &Element, width: usize) -> String {
    render_with(
        el,
        &Style {
            width,
            focused: None,
            editing: None,
            ansi: false,
        },
    )
}

/// Renders `el` with `style` (focus and ANSI): what the interactive terminal draws.
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// use streamtree::render::readable::{Style, render_with};
/// let style = Style { width: 20, focused: Some("Go"), editing: None, ansi: true };
/// assert_eq!(render_with(&Button("Go"), &style), "\u{1b}[7m[>Go<]\u{1b}[27m\n");
/// let style = Style { width: 30, focused: Some("name"), editing: Some("Al"), ansi: false };
/// let page = Session::new().rerun(|| TextInput("Name").key("name").into());
/// assert_eq!(render_with(&page, &style), "> Name: [Al▏         ]\n");
/// ```
pub fn render_with(el: &Element, style: &Style<'_>) -> String {
    let mut out = String::new();
    for l in block(el, style.width.max(8), style) {
        out.push_str(l.trim_end());
        out.push('\n');
    }
    out
}

/// Display width of `s`, skipping ANSI escape sequences (`ESC [ ... letter`).
pub(crate) fn width(s: &str) -> usize {
    if !s.contains('\u{1b}') {
        return s.width();
    }
    let mut total = 0;
    let mut rest = s;
    while let Some(i) = rest.find('\u{1b}') {
        total += rest[..i].width();
        let tail = &rest[i + 1..];
        let end = tail
            .char_indices()
            .skip(1)
            .find(|(_, c)| c.is_ascii_alphabetic())
            .map_or(tail.len(), |(j, c)| j + c.len_utf8());
        rest = &tail[end..];
    }
    total + rest.width()
}

fn pad(line: &mut String, to: usize) {
    let w = width(line);
    line.extend(std::iter::repeat_n(' ', to.saturating_sub(w)));
}

/// `line` broken at spaces into lines of at most `width` columns (a longer word stays
/// whole on its own line); leading indentation is kept on the first line only.
fn wrap(line: &str, width: usize) -> Vec<String> {
    if line.width() <= width {
        return vec![line.to_owned()];
    }
    let mut out = Vec::new();
    let mut cur = String::new();
    for word in line.split(' ') {
        if !cur.is_empty() && cur.width() + 1 + word.width() > width {
            out.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(word);
    }
    out.push(cur);
    out
}

fn block_width(lines: &[String]) -> usize {
    lines.iter().map(|l| width(l)).max().unwrap_or(0)
}

/// `s` in reverse video when the style uses ANSI.
fn reverse(s: String, style: &Style<'_>) -> String {
    if style.ansi {
        format!(
            "{}{s}{}",
            crossterm::style::Attribute::Reverse,
            crossterm::style::Attribute::NoReverse
        )
    } else {
        s
    }
}

/// The structural backend's lines for a leaf that already reads well (no type name).
fn structural(el: &Element) -> Vec<String> {
    let mut s = String::new();
    text::write(el, 0, &mut s);
    s.lines().map(str::to_owned).collect()
}

fn stacked(children: &[Element], width: usize, style: &Style<'_>) -> Vec<String> {
    children
        .iter()
        .flat_map(|c| block(c, width, style))
        .collect()
}

/// Blocks side by side, each padded to its column width; `None` if they do not fit.
fn side_by_side(blocks: &[Vec<String>], widths: &[usize], room: usize) -> Option<Vec<String>> {
    let total = widths.iter().sum::<usize>() + GAP * widths.len().saturating_sub(1);
    if total > room {
        return None;
    }
    let height = blocks.iter().map(Vec::len).max().unwrap_or(0);
    let rows = (0..height)
        .map(|row| {
            let mut l = String::new();
            for (i, b) in blocks.iter().enumerate() {
                if i > 0 {
                    l.extend(std::iter::repeat_n(' ', GAP));
                }
                l.push_str(b.get(row).map_or("", String::as_str));
                let target = widths[..=i].iter().sum::<usize>() + GAP * i;
                pad(&mut l, target);
            }
            l
        })
        .collect();
    Some(rows)
}

/// A box around `inner`, with `title` in its top border if given.
fn boxed(inner: Vec<String>, title: Option<&str>) -> Vec<String> {
    let title_w = title.map_or(0, |t| t.width() + 3);
    let w = block_width(&inner).max(title_w);
    let mut out = Vec::with_capacity(inner.len() + 2);
    let mut top = String::from("┌");
    if let Some(t) = title {
        top.push_str("─ ");
        top.push_str(t);
        top.push(' ');
    }
    top.extend(std::iter::repeat_n('─', w + 2 - title_w));
    top.push('┐');
    out.push(top);
    for mut l in inner {
        pad(&mut l, w);
        out.push(format!("│ {l} │"));
    }
    out.push(format!("└{}┘", "─".repeat(w + 2)));
    out
}

fn block(el: &Element, width: usize, style: &Style<'_>) -> Vec<String> {
    match &el.node {
        Node::Page(p) => {
            let mut out = Vec::new();
            if let Some(t) = &p.title {
                out.push(t.to_string());
                out.push("═".repeat(t.width()));
            }
            out.extend(stacked(&p.children, width, style));
            out
        }
        Node::Stack { kind, children, .. } => match kind {
            StackKind::VStack => stacked(children, width, style),
            StackKind::HStack => {
                let blocks: Vec<Vec<String>> = children
                    .iter()
                    .map(|c| block(c, width, style))
                    .filter(|b| !b.is_empty())
                    .collect();
                let widths: Vec<usize> = blocks.iter().map(|b| block_width(b)).collect();
                side_by_side(&blocks, &widths, width)
                    .unwrap_or_else(|| blocks.into_iter().flatten().collect())
            }
            StackKind::Card => boxed(stacked(children, width.saturating_sub(4), style), None),
        },
        Node::Fragment { children, .. } => stacked(children, width, style),
        Node::Component(c) => match c.output() {
            Some(output) => block(output, width, style),
            None => block(&unresolved(c.name), width, style),
        },
        Node::Text(t) => t.lines().flat_map(|l| wrap(l, width)).collect(),
        Node::Markdown { source, allow_html } => markdown::to_text_lines(source, *allow_html)
            .iter()
            .flat_map(|l| wrap(l, width))
            .collect(),
        Node::Divider => vec!["─".repeat(width)],
        Node::Button(b) => {
            let address = el.key.as_deref().unwrap_or(&b.label);
            let focused = style.focused == Some(address.as_str());
            let mut s = if focused {
                format!("[>{}<]", b.label)
            } else {
                format!("[ {} ]", b.label)
            };
            if focused {
                s = reverse(s, style);
            }
            if b.disabled {
                s.push_str(" (disabled)");
            }
            vec![s]
        }
        Node::Chart(c) => {
            let mut out: Vec<String> = c.title.iter().map(|t| t.to_string()).collect();
            out.extend(chart::text::body(c));
            out
        }
        Node::Error { message, .. } => {
            boxed(message.lines().map(str::to_owned).collect(), Some("error"))
        }
        Node::Columns(c) => {
            let n = c.children.len();
            let room = width.saturating_sub(GAP * n.saturating_sub(1));
            let total: f64 = (0..n).map(|i| c.weight(i)).sum();
            let shares: Vec<usize> = (0..n)
                .map(|i| (room as f64 * c.weight(i) / total).floor() as usize)
                .collect();
            let blocks: Vec<Vec<String>> = c
                .children
                .iter()
                .zip(&shares)
                .map(|(child, &w)| block(child, w, style))
                .collect();
            let fits = blocks
                .iter()
                .zip(&shares)
                .all(|(b, &w)| block_width(b) <= w);
            let laid = fits
                .then(|| side_by_side(&blocks, &shares, width))
                .flatten();
            laid.unwrap_or_else(|| stacked(&c.children, width, style))
        }
        Node::Expander(e) => {
            let mut out = vec![format!("▾ {}", e.label)];
            out.extend(
                stacked(&e.children, width.saturating_sub(2), style)
                    .into_iter()
                    .map(|l| format!("  {l}")),
            );
            out
        }
        Node::Input(i) if style.focused == Some(i.key.as_str()) => {
            let line = match style.editing {
                Some(text) => {
                    let mut shown = (**i).clone();
                    shown.value = format!("{text}▏");
                    input::text(&shown)
                }
                None => input::text(i),
            };
            vec![reverse(format!("> {line}"), style)]
        }
        Node::Progress { .. }
        | Node::Table(_)
        | Node::Alert { .. }
        | Node::Metric(_)
        | Node::Input(_) => structural(el),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_wrap_at_spaces() {
        assert_eq!(wrap("aa bb cc", 5), ["aa bb", "cc"]);
        assert_eq!(wrap("averylongword x", 4), ["averylongword", "x"]);
        assert_eq!(wrap("short", 10), ["short"]);
    }

    #[test]
    fn width_skips_ansi() {
        assert_eq!(width("\u{1b}[7m[>Go<]\u{1b}[27m"), 6);
        assert_eq!(width("héllo"), 5);
    }
}
