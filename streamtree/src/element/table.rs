//! Table data: an optional header and row-major cells, formatted to strings when the table
//! is built, so renderers only copy text. Plain values, like every node.

use crate::element::Str;

/// How the cells of one table column line up (HTML and text backends alike).
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// let t = Table([["a", "1"], ["bb", "22"]]).align([Align::Left, Align::Right]);
/// assert_eq!(render_text(&t), "a    1\nbb  22\n");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Align {
    /// Flush left (the default).
    #[default]
    Left,
    /// Flush right: numbers.
    Right,
    /// Centred.
    Center,
}

/// The default most display columns a text cell takes before it is cut with `…`.
pub(crate) const DEFAULT_MAX_CELL_WIDTH: usize = 40;

/// A table's payload (boxed in [`Node::Table`](crate::element::Node)).
///
/// Cells live in one flat `String` with an end offset per cell, not one `Str` each: building
/// a 10,000 × 4 table is then two growing buffers instead of 40,000 small strings (see
/// [`push_cell`] for the measured effect).
pub(crate) struct TableNode {
    /// Column names; empty when the table has no header row.
    pub(crate) header: Vec<Str>,
    /// Every cell's text, row-major, one after another.
    text: String,
    /// Where each cell ends in `text` (it starts where the previous one ends), `columns` per
    /// row: a padding cell repeats the previous end. Invariant: non-decreasing, each on a
    /// char boundary, the last equal to `text.len()`.
    ends: Vec<usize>,
    /// Cells per row: the widest of the header and the rows.
    pub(crate) columns: usize,
    /// Per-column alignment; columns past its end are [`Align::Left`].
    pub(crate) align: Vec<Align>,
    /// Most display columns of a text-backend cell; longer cells end in `…`.
    pub(crate) max_cell_width: usize,
}

/// Appends `value`'s `Display` text to `text`, skipping `core::fmt` for `String`s and
/// integers (`itoa`), which are most cells.
///
/// Measured (`cargo bench -p streamtree --bench render -- table_10k`, medians, shared 2-core
/// VM, both sides from the same prebuilt rows): build + render 926 µs with one `Str` per
/// cell, 880 µs with the flat buffer (and the merged tags and one escape scan in
/// `render::table::html`); maud 305 / 274 µs in the same runs. The rest was the caller's
/// own cells (`Str::from` per cell) and `core::fmt` for `Str` cells, which `castaway`
/// cannot single out without an `unsafe` marker impl: hence
/// [`TableBuilder`](crate::elements::TableBuilder), whose cells write themselves.
pub(crate) fn push_cell<T: std::fmt::Display>(text: &mut String, value: &T) {
    castaway::match_type!(value, {
        &String as s => text.push_str(s),
        &usize as n => text.push_str(itoa::Buffer::new().format(*n)),
        &u64 as n => text.push_str(itoa::Buffer::new().format(*n)),
        &u32 as n => text.push_str(itoa::Buffer::new().format(*n)),
        &i64 as n => text.push_str(itoa::Buffer::new().format(*n)),
        &i32 as n => text.push_str(itoa::Buffer::new().format(*n)),
        v => {
            // Writing to a String cannot fail.
            let _ = std::fmt::Write::write_fmt(text, format_args!("{v}"));
        }
    })
}

impl TableNode {
    /// A table of rows given as their cells' text one after another (`text`), each cell's
    /// end offset in it (`ends`) and each row's length in cells (`lens`), padded to the
    /// widest row or header with empty cells.
    pub(crate) fn new(
        header: Vec<Str>,
        text: String,
        ends: Vec<usize>,
        lens: &[usize],
    ) -> TableNode {
        debug_assert_eq!(
            lens.iter().sum::<usize>(),
            ends.len(),
            "row lengths cover the cells"
        );
        debug_assert_eq!(
            ends.last().copied().unwrap_or(0),
            text.len(),
            "the cells cover the text"
        );
        let columns = lens
            .iter()
            .copied()
            .chain([header.len()])
            .max()
            .unwrap_or(0);
        let ends = if lens.iter().all(|&n| n == columns) {
            ends
        } else {
            let mut padded = Vec::with_capacity(lens.len() * columns);
            let mut it = ends.into_iter();
            for &n in lens {
                padded.extend(it.by_ref().take(n));
                let end = padded.last().copied().unwrap_or(0);
                padded.resize(padded.len() + columns - n, end);
            }
            padded
        };
        TableNode {
            header,
            text,
            ends,
            columns,
            align: Vec::new(),
            max_cell_width: DEFAULT_MAX_CELL_WIDTH,
        }
    }

    /// Every cell's text, row-major, `columns` per row.
    pub(crate) fn cells(&self) -> impl Iterator<Item = &str> {
        let mut start = 0;
        self.ends.iter().map(move |&end| {
            let cell = &self.text[start..end];
            start = end;
            cell
        })
    }

    /// The total length of all cells' text, in bytes.
    pub(crate) fn text_len(&self) -> usize {
        self.text.len()
    }

    /// All cells' text, one after another.
    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    /// The number of body rows.
    pub(crate) fn row_count(&self) -> usize {
        self.ends.len().checked_div(self.columns).unwrap_or(0)
    }

    /// The rows, each `columns` cells long.
    pub(crate) fn rows(&self) -> Vec<Vec<&str>> {
        let mut rows = Vec::with_capacity(self.row_count());
        let mut cells = self.cells();
        for _ in 0..self.row_count() {
            rows.push(cells.by_ref().take(self.columns).collect());
        }
        rows
    }

    /// The alignment of column `i`.
    pub(crate) fn align(&self, i: usize) -> Align {
        self.align.get(i).copied().unwrap_or_default()
    }

    /// Widens the table to `columns` (a longer header given after the rows).
    pub(crate) fn widen(&mut self, columns: usize) {
        if columns <= self.columns {
            return;
        }
        let rows = self.row_count();
        let mut ends = Vec::with_capacity(rows * columns);
        if self.columns > 0 {
            for row in self.ends.chunks(self.columns) {
                ends.extend_from_slice(row);
                let end = ends.last().copied().unwrap_or(0);
                ends.resize(ends.len() + columns - row.len(), end);
            }
        }
        self.ends = ends;
        self.columns = columns;
    }
}

use crate::element::{Element, Node};

impl Element {
    /// Sets a [`Table`](crate::elements::Table)'s header row (replacing one taken from
    /// [`DataTable`](crate::elements::DataTable)'s field names).
    ///
    /// # Example
    /// ```
    /// use streamtree::prelude::*;
    /// let t = Table([["EU", "12"]]).header(["Region", "Sales"]);
    /// assert_eq!(render_text(&t), "Region  Sales\n──────  ─────\nEU      12\n");
    /// ```
    pub fn header<I>(mut self, header: I) -> Element
    where
        I: IntoIterator,
        I::Item: std::fmt::Display,
    {
        match &mut self.node {
            Node::Table(t) => {
                t.header = header
                    .into_iter()
                    .map(|h| Str::from(format_args!("{h}")))
                    .collect();
                let columns = t.header.len();
                t.widen(columns);
                self
            }
            _ => self.misuse("header", "Table"),
        }
    }

    /// Sets the alignment of a [`Table`](crate::elements::Table)'s columns, first column
    /// first; columns not given are [`Align::Left`].
    ///
    /// # Example
    /// ```
    /// use streamtree::prelude::*;
    /// let t = Table([["x", "1"]]).align([Align::Left, Align::Right]);
    /// assert!(render_html(&t).contains(r#"<td class="st-right">1</td>"#));
    /// ```
    pub fn align(mut self, align: impl IntoIterator<Item = Align>) -> Element {
        match &mut self.node {
            Node::Table(t) => {
                t.align = align.into_iter().collect();
                self
            }
            _ => self.misuse("align", "Table"),
        }
    }

    /// Sets the most display columns a [`Table`](crate::elements::Table) cell takes in the
    /// text backend (default 40, at least 1); longer cells are cut and end in `…`. HTML
    /// shows cells whole.
    ///
    /// # Example
    /// ```
    /// use streamtree::prelude::*;
    /// assert_eq!(render_text(&Table([["abcdef"]]).max_cell_width(4)), "abc…\n");
    /// ```
    pub fn max_cell_width(mut self, width: usize) -> Element {
        match &mut self.node {
            Node::Table(t) => {
                t.max_cell_width = width.max(1);
                self
            }
            _ => self.misuse("max_cell_width", "Table"),
        }
    }
}
