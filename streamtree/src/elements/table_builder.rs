//! [`TableBuilder`]: a table written row by row, each cell's text appended straight to the
//! table's one text buffer (no `Str`, no `core::fmt` for strings and integers): the fast
//! way to build a large [`Table`](super::Table).

use std::borrow::Cow;
use std::fmt::{self, Display};

use crate::element::{Element, Node, Str, TableNode};

/// A value that can be a table cell: it appends its text to a [`CellText`].
///
/// Implemented for strings (`&str`, `String`, [`Str`], `Cow<str>`, `char`), integers
/// (decimal, with `itoa`), floats and `bool` (as `Display` writes them),
/// `format_args!(..)`, references to any of them, and `Option` of any of them (`None` is an
/// empty cell). Other `Display` values go through [`TableRow::display`]. Cells are escaped
/// when rendered, not here.
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// struct Celsius(f64);
/// impl IntoCell for Celsius {
///     fn write_cell(&self, out: &mut CellText<'_>) {
///         self.0.write_cell(out);
///         out.push_str(" °C");
///     }
/// }
/// let mut t = TableBuilder::new();
/// t.row().cell("Oslo").cell(Celsius(-3.5));
/// assert_eq!(render_text(&t.build()), "Oslo  -3.5 °C\n");
/// ```
pub trait IntoCell {
    /// Appends this cell's text to `out`.
    fn write_cell(&self, out: &mut CellText<'_>);
}

/// Where an [`IntoCell`] writes its text: append-only, so a cell cannot touch the cells
/// written before it. Also a [`fmt::Write`].
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// struct Pair(u8, u8);
/// impl IntoCell for Pair {
///     fn write_cell(&self, out: &mut CellText<'_>) {
///         self.0.write_cell(out);
///         out.push('/');
///         self.1.write_cell(out);
///     }
/// }
/// let mut t = TableBuilder::new();
/// t.row().cell(Pair(3, 4));
/// assert_eq!(render_text(&t.build()), "3/4\n");
/// ```
pub struct CellText<'a> {
    text: &'a mut String,
}

impl CellText<'_> {
    /// Appends `s`.
    ///
    /// # Example
    /// ```
    /// use streamtree::prelude::*;
    /// struct Tag;
    /// impl IntoCell for Tag {
    ///     fn write_cell(&self, out: &mut CellText<'_>) { out.push_str("new") }
    /// }
    /// let mut t = TableBuilder::new();
    /// t.row().cell(Tag);
    /// assert_eq!(render_text(&t.build()), "new\n");
    /// ```
    #[inline]
    pub fn push_str(&mut self, s: &str) {
        self.text.push_str(s);
    }

    /// Appends `c`.
    ///
    /// # Example
    /// ```
    /// use streamtree::prelude::*;
    /// struct Star;
    /// impl IntoCell for Star {
    ///     fn write_cell(&self, out: &mut CellText<'_>) { out.push('★') }
    /// }
    /// let mut t = TableBuilder::new();
    /// t.row().cell(Star);
    /// assert_eq!(render_text(&t.build()), "★\n");
    /// ```
    #[inline]
    pub fn push(&mut self, c: char) {
        self.text.push(c);
    }
}

impl fmt::Write for CellText<'_> {
    #[inline]
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.text.push_str(s);
        Ok(())
    }
}

impl IntoCell for str {
    #[inline]
    fn write_cell(&self, out: &mut CellText<'_>) {
        out.push_str(self);
    }
}
impl IntoCell for String {
    #[inline]
    fn write_cell(&self, out: &mut CellText<'_>) {
        out.push_str(self);
    }
}
impl IntoCell for Str {
    #[inline]
    fn write_cell(&self, out: &mut CellText<'_>) {
        out.push_str(self);
    }
}
impl IntoCell for Cow<'_, str> {
    #[inline]
    fn write_cell(&self, out: &mut CellText<'_>) {
        out.push_str(self);
    }
}
impl IntoCell for char {
    #[inline]
    fn write_cell(&self, out: &mut CellText<'_>) {
        out.push(*self);
    }
}
impl IntoCell for bool {
    #[inline]
    fn write_cell(&self, out: &mut CellText<'_>) {
        out.push_str(if *self { "true" } else { "false" });
    }
}
impl IntoCell for fmt::Arguments<'_> {
    fn write_cell(&self, out: &mut CellText<'_>) {
        match self.as_str() {
            Some(s) => out.push_str(s),
            // Writing to a String cannot fail.
            None => drop(fmt::Write::write_fmt(out, *self)),
        }
    }
}
impl<T: IntoCell + ?Sized> IntoCell for &T {
    #[inline]
    fn write_cell(&self, out: &mut CellText<'_>) {
        (**self).write_cell(out);
    }
}
impl<T: IntoCell> IntoCell for Option<T> {
    #[inline]
    fn write_cell(&self, out: &mut CellText<'_>) {
        if let Some(v) = self {
            v.write_cell(out);
        }
    }
}

macro_rules! integer_cells {
    ($($t:ty)*) => {$(
        /// Decimal digits, formatted with `itoa` (no `core::fmt`).
        impl IntoCell for $t {
            #[inline]
            fn write_cell(&self, out: &mut CellText<'_>) {
                out.push_str(itoa::Buffer::new().format(*self));
            }
        }
    )*};
}
integer_cells!(u8 u16 u32 u64 u128 usize i8 i16 i32 i64 i128 isize);

// Through `core::fmt`, not zmij (in the lock through serde_json): zmij rounds exact ties
// to even where `Display` rounds them up (`3572143765320.1562` against `…1563`; about 0.2%
// of a sample of f64s) and writes exponents (`1e+16`), so cells would differ from `Table`'s.
macro_rules! float_cells {
    ($($t:ty)*) => {$(
        /// As `Display` writes it (shortest round-trip digits, no exponent).
        impl IntoCell for $t {
            fn write_cell(&self, out: &mut CellText<'_>) {
                // Writing to a String cannot fail.
                let _ = fmt::Write::write_fmt(out, format_args!("{self}"));
            }
        }
    )*};
}
float_cells!(f32 f64);

/// A table built row by row: the way to build a large table. Each cell's text goes
/// straight into the table's one buffer, with no per-cell string and, for strings and
/// integers, no `core::fmt`. Measured in `benches/render.rs` (10,000 rows × 4 cells, build
/// and render to HTML, medians of one run): 435 µs, against 796 µs through
/// [`Table`](super::Table) with a `Str` per cell and 275 µs for maud writing the same
/// markup.
///
/// [`row`](Self::row) starts a row and returns it; chain [`cell`](TableRow::cell) on it.
/// [`build`](Self::build) (or `Element::from`) makes the [`Table`](super::Table) element,
/// on which [`header`](Element::header), [`align`](Element::align) and
/// [`max_cell_width`](Element::max_cell_width) work as usual. Rows may differ in length:
/// short rows get empty cells. The result is the same element as `Table` builds from the
/// same cells' text.
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// struct Sale { region: String, units: u32, share: f64 }
/// let sales = [
///     Sale { region: "EU".into(), units: 1200, share: 0.6 },
///     Sale { region: "Asia".into(), units: 80, share: 0.04 },
/// ];
/// let mut t = TableBuilder::with_capacity(sales.len());
/// for s in &sales {
///     t.row().cell(&s.region).cell(s.units).cell(s.share);
/// }
/// let t = t.build()
///     .header(["Region", "Units", "Share"])
///     .align([Align::Left, Align::Right, Align::Right]);
/// assert_eq!(
///     render_text(&t),
///     "Region  Units  Share\n──────  ─────  ─────\nEU       1200    0.6\nAsia       80   0.04\n"
/// );
/// ```
#[derive(Default)]
pub struct TableBuilder {
    /// Every cell's text, row-major (as in `TableNode`).
    text: String,
    /// Where each cell ends in `text`. Invariant: non-decreasing, on char boundaries (cells
    /// only append whole `str`s), the last equal to `text.len()`.
    ends: Vec<usize>,
    /// Cells per finished row.
    lens: Vec<usize>,
    /// Where the open row's cells start in `ends`; `None` before the first row.
    open: Option<usize>,
    /// Rows expected ([`Self::with_capacity`]): sizes the buffers once the first row is known.
    hint: usize,
}

impl TableBuilder {
    /// An empty table builder.
    ///
    /// # Example
    /// ```
    /// use streamtree::prelude::*;
    /// assert_eq!(render_text(&TableBuilder::new().build()), "(empty table)\n");
    /// ```
    pub fn new() -> TableBuilder {
        TableBuilder::default()
    }

    /// An empty table builder expecting about `rows` rows: the buffers are sized from the
    /// first row, so a large table does not regrow them.
    ///
    /// # Example
    /// ```
    /// use streamtree::prelude::*;
    /// let mut t = TableBuilder::with_capacity(100);
    /// for i in 0..100 {
    ///     t.row().cell(i).cell(i * i);
    /// }
    /// assert!(render_html(&t.build()).contains("<td>99</td><td>9801</td>"));
    /// ```
    pub fn with_capacity(rows: usize) -> TableBuilder {
        TableBuilder {
            lens: Vec::with_capacity(rows),
            hint: rows,
            ..TableBuilder::default()
        }
    }

    /// Starts a new row (ending the one before) and returns it to add cells to.
    ///
    /// # Example
    /// ```
    /// use streamtree::prelude::*;
    /// let mut t = TableBuilder::new();
    /// t.row().cell("a").cell(1);
    /// t.row().cell("b");
    /// assert_eq!(render_text(&t.build()), "a  1\nb\n");
    /// ```
    pub fn row(&mut self) -> TableRow<'_> {
        self.end_row();
        self.open = Some(self.ends.len());
        TableRow { table: self }
    }

    /// Ends the open row, if any; after the first, sizes the buffers for the rest.
    fn end_row(&mut self) {
        let Some(start) = self.open.take() else {
            return;
        };
        let cells = self.ends.len() - start;
        self.lens.push(cells);
        if self.lens.len() == 1 {
            // Reserve once, from the first row (text with room for longer later cells):
            // regrowing a large buffer faults in fresh pages at every doubling.
            let more = self.hint.saturating_sub(1);
            self.ends.reserve(more * cells);
            self.text.reserve(more * (self.text.len() + cells) * 3 / 2);
        }
    }

    /// The table element.
    ///
    /// # Example
    /// ```
    /// use streamtree::prelude::*;
    /// let mut t = TableBuilder::new();
    /// t.row().cell("<b>").cell(2.5);
    /// let t = t.build().header(["name", "x"]);
    /// assert_eq!(
    ///     render_html(&t),
    ///     "<table class=\"st-table\"><thead><tr><th>name</th><th>x</th></tr></thead>\
    ///      <tbody><tr><td>&lt;b&gt;</td><td>2.5</td></tr></tbody></table>"
    /// );
    /// ```
    pub fn build(mut self) -> Element {
        self.end_row();
        Element::new(Node::Table(Box::new(TableNode::new(
            Vec::new(),
            self.text,
            self.ends,
            &self.lens,
        ))))
    }
}

impl From<TableBuilder> for Element {
    fn from(t: TableBuilder) -> Element {
        t.build()
    }
}

/// One row of a [`TableBuilder`], from [`TableBuilder::row`]: add its cells left to right.
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// let mut t = TableBuilder::new();
/// t.row().cell("x").display(std::net::Ipv4Addr::LOCALHOST);
/// assert_eq!(render_text(&t.build()), "x  127.0.0.1\n");
/// ```
pub struct TableRow<'a> {
    table: &'a mut TableBuilder,
}

impl TableRow<'_> {
    /// Adds a cell: its text appended to the table's buffer (see [`IntoCell`]).
    ///
    /// # Example
    /// ```
    /// use streamtree::prelude::*;
    /// let name = String::from("Ada");
    /// let mut t = TableBuilder::new();
    /// t.row().cell(&name).cell(36).cell(None::<&str>).cell('✓');
    /// assert_eq!(render_text(&t.build()), "Ada  36    ✓\n");
    /// ```
    #[inline]
    pub fn cell(self, value: impl IntoCell) -> Self {
        value.write_cell(&mut CellText {
            text: &mut self.table.text,
        });
        self.table.ends.push(self.table.text.len());
        self
    }

    /// Adds a cell showing any `Display` value (through `core::fmt`; prefer
    /// [`cell`](Self::cell) for strings and numbers).
    ///
    /// # Example
    /// ```
    /// use streamtree::prelude::*;
    /// let mut t = TableBuilder::new();
    /// t.row().display(std::path::Path::new("data/sales.csv").display());
    /// assert_eq!(render_text(&t.build()), "data/sales.csv\n");
    /// ```
    pub fn display(self, value: impl Display) -> Self {
        self.cell(format_args!("{value}"))
    }
}

#[cfg(test)]
mod tests;
