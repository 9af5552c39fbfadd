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
pub(crate) struct TableNode {
    /// Column names; empty when the table has no header row.
    pub(crate) header: Vec<Str>,
    /// Row-major cells, `columns` per row (short rows are padded with empty cells).
    pub(crate) cells: Vec<Str>,
    /// Cells per row: the widest of the header and the rows.
    pub(crate) columns: usize,
    /// Per-column alignment; columns past its end are [`Align::Left`].
    pub(crate) align: Vec<Align>,
    /// Most display columns of a text-backend cell; longer cells end in `…`.
    pub(crate) max_cell_width: usize,
}

impl TableNode {
    /// A table of rows given as their cells one after another (`cells`) and each row's
    /// length (`lens`), padded to the widest row or header with empty cells.
    pub(crate) fn new(header: Vec<Str>, cells: Vec<Str>, lens: &[usize]) -> TableNode {
        debug_assert_eq!(
            lens.iter().sum::<usize>(),
            cells.len(),
            "row lengths cover the cells"
        );
        let columns = lens
            .iter()
            .copied()
            .chain([header.len()])
            .max()
            .unwrap_or(0);
        let cells = if lens.iter().all(|&n| n == columns) {
            cells
        } else {
            let mut padded = Vec::with_capacity(lens.len() * columns);
            let mut it = cells.into_iter();
            for &n in lens {
                padded.extend(it.by_ref().take(n));
                padded.resize_with(padded.len() + columns - n, Str::default);
            }
            padded
        };
        TableNode {
            header,
            cells,
            columns,
            align: Vec::new(),
            max_cell_width: DEFAULT_MAX_CELL_WIDTH,
        }
    }

    /// The rows, each `columns` cells long.
    pub(crate) fn rows(&self) -> impl Iterator<Item = &[Str]> {
        // `chunks(0)` panics; a table with no columns has no visible rows.
        self.cells.chunks(self.columns.max(1))
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
        let old = self.columns.max(1);
        let rows = if self.columns == 0 {
            0
        } else {
            self.cells.len() / old
        };
        let mut cells = Vec::with_capacity(rows * columns);
        for row in std::mem::take(&mut self.cells).chunks(old).take(rows) {
            cells.extend(row.iter().cloned());
            cells.resize_with(cells.len() + columns - row.len(), Str::default);
        }
        self.cells = cells;
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
