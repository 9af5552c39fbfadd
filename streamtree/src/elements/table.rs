//! Table constructors: [`Table`] from rows of `Display` cells, [`DataTable`] from rows
//! that `impl Serialize`.

use std::fmt::Display;

use serde::Serialize;

use super::records;
use crate::element::{Element, Node, Str, TableNode, push_cell};

/// A table from rows of cells that `impl Display`. Rows may differ in length: short rows
/// get empty cells. Add a header row with [`Element::header`], column alignment with
/// [`Element::align`], and the text backend's cell width with [`Element::max_cell_width`].
///
/// HTML: a `<table>` with `<thead>` (when there is a header) and `<tbody>`, every cell
/// escaped. Text: columns aligned by Unicode display width, two spaces apart, the header
/// underlined.
///
/// For large tables use [`TableBuilder`](super::TableBuilder): it writes each cell's text
/// straight into the table (strings copied, integers by `itoa`), where `Table` formats each
/// cell through `Display` and callers often make a `Str` or `String` per cell first.
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// let t = Table([vec!["EU".to_string(), 1200.to_string()], vec!["Asia".into(), 80.to_string()]])
///     .header(["Region", "Sales"])
///     .align([Align::Left, Align::Right]);
/// assert_eq!(render_text(&t), "Region  Sales\n──────  ─────\nEU       1200\nAsia       80\n");
/// ```
pub fn Table<I>(rows: I) -> Element
where
    I: IntoIterator,
    I::Item: IntoIterator,
    <I::Item as IntoIterator>::Item: Display,
{
    // One flat buffer for all cells' text: no allocation per cell or row.
    let rows = rows.into_iter();
    let hint = rows.size_hint().0;
    let mut lens = Vec::with_capacity(hint);
    let mut text = String::new();
    let mut ends = Vec::new();
    for row in rows {
        let start = ends.len();
        for cell in row {
            push_cell(&mut text, &cell);
            ends.push(text.len());
        }
        lens.push(ends.len() - start);
        if lens.len() == 1 {
            // Size the buffers from the first row (text with room for longer later cells):
            // regrowing a large one faults in fresh pages at every doubling.
            let more = hint.saturating_sub(1);
            ends.reserve(more * lens[0]);
            text.reserve(more * (text.len() + lens[0]) * 3 / 2);
        }
    }
    Element::new(Node::Table(Box::new(TableNode::new(
        Vec::new(),
        text,
        ends,
        &lens,
    ))))
}

/// A table from rows that `impl serde::Serialize`, with a header row of their names:
/// a struct's fields become columns by field name, in declaration order (a map's entries
/// by key; a tuple's items are columns `0`, `1`, …). A name first seen in a later row adds
/// a column; rows without it show an empty cell. Cells are values as text: numbers and
/// strings as written, `None` empty, unit enum variants by name, nested values compactly
/// (`[1, 2]`, `{a: 1}`). A row whose `Serialize` impl fails turns the table into an error
/// box naming the row. Options as for [`Table`].
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// #[derive(serde::Serialize)]
/// struct Sale { region: &'static str, units: u32, note: Option<&'static str> }
/// let t = DataTable([
///     Sale { region: "EU", units: 12, note: None },
///     Sale { region: "Asia", units: 7, note: Some("new") },
/// ]);
/// assert_eq!(
///     render_text(&t),
///     "region  units  note\n──────  ─────  ────\nEU      12\nAsia    7      new\n"
/// );
/// ```
pub fn DataTable<I>(rows: I) -> Element
where
    I: IntoIterator,
    I::Item: Serialize,
{
    let mut header: Vec<Str> = Vec::new();
    let mut text = String::new();
    let mut ends: Vec<usize> = Vec::new();
    let mut lens: Vec<usize> = Vec::new();
    for (n, row) in rows.into_iter().enumerate() {
        let row = match records::row(&row) {
            Ok(row) => row,
            Err(e) => return Element::error(format!("`DataTable` row {n} did not serialize: {e}")),
        };
        // The common case, rows of one struct type: names match the header in order.
        if row.names == header {
            lens.push(row.values.len());
            for v in &row.values {
                text.push_str(v);
                ends.push(text.len());
            }
            continue;
        }
        let mut out = vec![Str::default(); header.len()];
        for (name, value) in row.names.into_iter().zip(row.values) {
            let i = match header.iter().position(|h| *h == name) {
                Some(i) => i,
                None => {
                    header.push(name);
                    out.push(Str::default());
                    header.len() - 1
                }
            };
            out[i] = value;
        }
        lens.push(out.len());
        for v in &out {
            text.push_str(v);
            ends.push(text.len());
        }
    }
    Element::new(Node::Table(Box::new(TableNode::new(
        header, text, ends, &lens,
    ))))
}
