//! Tables in both backends: `Table`/`DataTable` as HTML, and the aligned text layout that
//! `Table` and Markdown tables share.

use std::borrow::Cow;

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use crate::element::{Align, Element, TableNode};
use crate::render::html::{escape, needs_escape};

/// The column gap of the text layout.
const GAP: &str = "  ";

fn class(align: Align) -> &'static str {
    match align {
        Align::Left => "",
        Align::Right => " class=\"st-right\"",
        Align::Center => " class=\"st-center\"",
    }
}

/// The markup before a body cell: `<tr><td..>` for a row's first, `</td><td..>` after.
/// Each arm is one literal, so the copy is a few fixed-size moves, not a `memcpy` call
/// (as in maud's template, whose static text is merged at compile time).
#[inline(always)]
fn open_cell(out: &mut String, first: bool, align: Align) {
    match (first, align) {
        (true, Align::Left) => out.push_str("<tr><td>"),
        (true, Align::Right) => out.push_str("<tr><td class=\"st-right\">"),
        (true, Align::Center) => out.push_str("<tr><td class=\"st-center\">"),
        (false, Align::Left) => out.push_str("</td><td>"),
        (false, Align::Right) => out.push_str("</td><td class=\"st-right\">"),
        (false, Align::Center) => out.push_str("</td><td class=\"st-center\">"),
    }
}

/// Writes `t` as `<table>` with `<thead>` (when it has a header) and `<tbody>`.
pub(crate) fn html(out: &mut String, el: &Element, t: &TableNode) {
    out.push_str("<table class=\"st-table\"");
    if let Some(k) = &el.key {
        out.push_str(" data-st-key=\"");
        escape(out, k);
        out.push('"');
    }
    out.push('>');
    if !t.header.is_empty() {
        out.push_str("<thead><tr>");
        for (i, h) in t.header.iter().enumerate() {
            out.push_str("<th");
            out.push_str(class(t.align(i)));
            out.push('>');
            escape(out, h);
            out.push_str("</th>");
        }
        out.push_str("</tr></thead>");
    }
    out.push_str("<tbody>");
    // Reserve once: a cell's markup is its text plus a dozen bytes.
    let cells = t.row_count() * t.columns;
    out.reserve(t.text_len() + 12 * cells + 16 * t.row_count());
    // One vectorised scan of all cells' text instead of one per cell: most tables hold
    // nothing to escape.
    let clean = !needs_escape(t.text());
    let aligns: Vec<Align> = (0..t.columns).map(|i| t.align(i)).collect();
    let last = t.columns.saturating_sub(1);
    let mut column = 0;
    for cell in t.cells() {
        open_cell(out, column == 0, aligns[column]);
        if clean {
            out.push_str(cell);
        } else {
            escape(out, cell);
        }
        if column == last {
            out.push_str("</td></tr>");
            column = 0;
        } else {
            column += 1;
        }
    }
    out.push_str("</tbody></table>");
}

/// `t` as aligned text lines.
pub(crate) fn text(t: &TableNode) -> Vec<String> {
    let header: Vec<&str> = t.header.iter().map(|h| h.as_str()).collect();
    let rows = t.rows();
    let rows: Vec<&[&str]> = rows.iter().map(Vec::as_slice).collect();
    text_lines(&header, &rows, t.columns, &|i| t.align(i), t.max_cell_width)
}

/// A table as text lines: columns two spaces apart, each as wide as its widest cell (by
/// Unicode display width); a header, when given, underlined with `─`; cells wider than
/// `max` display columns cut to `max` with a final `…`; line breaks and tabs inside a cell
/// shown as spaces; no trailing spaces. A table with no columns is `(empty table)`.
pub(crate) fn text_lines<S: AsRef<str>>(
    header: &[S],
    rows: &[&[S]],
    columns: usize,
    align: &dyn Fn(usize) -> Align,
    max: usize,
) -> Vec<String> {
    if columns == 0 {
        return vec!["(empty table)".to_owned()];
    }
    let header = (!header.is_empty()).then(|| fit_row(header, columns, max));
    let body: Vec<_> = rows.iter().map(|r| fit_row(r, columns, max)).collect();
    let mut widths = vec![0; columns];
    for row in header.iter().chain(&body) {
        for (w, (_, cw)) in widths.iter_mut().zip(row) {
            *w = (*w).max(*cw);
        }
    }
    let mut lines = Vec::with_capacity(body.len() + 2);
    if let Some(h) = &header {
        lines.push(join(h, &widths, align));
        let rule: Vec<String> = widths.iter().map(|&w| "─".repeat(w)).collect();
        lines.push(rule.join(GAP));
    }
    lines.extend(body.iter().map(|r| join(r, &widths, align)));
    lines
}

fn fit_row<S: AsRef<str>>(row: &[S], columns: usize, max: usize) -> Vec<(Cow<'_, str>, usize)> {
    (0..columns)
        .map(|i| fit(row.get(i).map_or("", AsRef::as_ref), max))
        .collect()
}

fn join(row: &[(Cow<'_, str>, usize)], widths: &[usize], align: &dyn Fn(usize) -> Align) -> String {
    let mut line = String::new();
    for (i, ((cell, w), &width)) in row.iter().zip(widths).enumerate() {
        if i > 0 {
            line.push_str(GAP);
        }
        let pad = width - w;
        let (before, after) = match align(i) {
            Align::Left => (0, pad),
            Align::Right => (pad, 0),
            Align::Center => (pad / 2, pad - pad / 2),
        };
        line.extend(std::iter::repeat_n(' ', before));
        line.push_str(cell);
        line.extend(std::iter::repeat_n(' ', after));
    }
    line.truncate(line.trim_end().len());
    line
}

/// `cell` on one line, cut to `max` display columns; with its display width.
fn fit(cell: &str, max: usize) -> (Cow<'_, str>, usize) {
    let cell: Cow<'_, str> = if cell.chars().any(char::is_control) {
        Cow::Owned(
            cell.chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect(),
        )
    } else {
        Cow::Borrowed(cell)
    };
    let width = cell.width();
    if width <= max {
        return (cell, width);
    }
    let mut out = String::new();
    let mut used = 0;
    for c in cell.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > max - 1 {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    (Cow::Owned(out), used + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_alignment_opens_its_cells() {
        use crate::elements::Table;
        let row = ["a", "b", "c"];
        for align in [
            [Align::Left, Align::Right, Align::Center],
            [Align::Right, Align::Center, Align::Left],
            [Align::Center, Align::Left, Align::Right],
        ] {
            let t = Table([row, row]).align(align);
            let mut out = String::new();
            let crate::element::Node::Table(node) = &t.node else {
                panic!("a table");
            };
            html(&mut out, &t, node);
            let tds: String = align
                .iter()
                .zip(row)
                .map(|(&a, cell)| format!("<td{}>{cell}</td>", class(a)))
                .collect();
            assert_eq!(
                out,
                format!(
                    "<table class=\"st-table\"><tbody><tr>{tds}</tr><tr>{tds}</tr></tbody></table>"
                )
            );
        }
    }

    #[test]
    fn fit_cuts_by_display_width() {
        assert_eq!(fit("abc", 3), (Cow::Borrowed("abc"), 3));
        assert_eq!(fit("abcd", 3).0, "ab…");
        // Wide characters take two columns: a cut never splits one.
        assert_eq!(fit("日本語", 4), (Cow::Owned("日…".to_owned()), 3));
        assert_eq!(fit("a\nb", 9).0, "a b");
        assert_eq!(fit("abc", 1).0, "…");
    }

    #[test]
    fn columns_align_by_display_width() {
        let rows: [&[&str]; 2] = [&["日本", "1"], &["x", "22"]];
        let lines = text_lines(
            &["名", "n"],
            &rows,
            2,
            &|i| if i == 1 { Align::Right } else { Align::Left },
            40,
        );
        assert_eq!(lines, ["名     n", "────  ──", "日本   1", "x     22"]);
    }
}
