//! The 100 × 100 table of the render benchmark, built by streamtree and by `maud::html!`.
//! Shared by `benches/render.rs` and the markup check in `tests/html.rs`.

use streamtree::Str;
use streamtree::prelude::*;

/// Rows and columns.
pub const N: usize = 100;
/// Page + VStack + 100 HStacks + 10,000 cells.
pub const ELEMENTS: usize = 2 + N + N * N;

/// Each cell shows its index, as a number (both sides format it with an integer fast path).
pub fn table() -> Element {
    Page([VStack(
        (0..N).map(|r| HStack((0..N).map(move |c| Text(r * N + c)))),
    )])
    .title("Table")
}

/// The same table with cells formatted through `core::fmt` (`"{r},{c}"`), the common way
/// apps make text.
pub fn formatted_table() -> Element {
    Page([VStack((0..N).map(|r| {
        HStack((0..N).map(move |c| Text(format_args!("{r},{c}"))))
    }))])
    .title("Table")
}

/// The same markup from maud's compile-time template.
pub fn maud_table() -> String {
    maud::html! {
        main class="st-page" {
            h1 class="st-title" { "Table" }
            div class="st-vstack" {
                @for r in 0..N {
                    div class="st-hstack" {
                        @for c in 0..N {
                            div class="st-text" { (r * N + c) }
                        }
                    }
                }
            }
        }
    }
    .into_string()
}

/// Rows of the `table_10k` benchmark.
pub const TABLE_ROWS: usize = 10_000;

/// One row of the `table_10k` input: an index, a name, two numbers.
pub struct Item {
    pub id: usize,
    pub name: String,
    pub units: usize,
    pub shelf: usize,
}

/// The `table_10k` input, built once outside the timed loop: both sides render the same
/// rows, so neither is timed making its data.
pub fn table_10k_rows() -> Vec<Item> {
    (0..TABLE_ROWS)
        .map(|r| Item {
            id: r,
            name: format!("item {r}"),
            units: r * 7 % 1000,
            shelf: r % 13,
        })
        .collect()
}

/// `rows` as a table with a header and right-aligned number columns, built the way the
/// docs recommend for large tables: [`TableBuilder`], each cell written straight into the
/// table's text buffer.
pub fn table_10k(rows: &[Item]) -> Element {
    let mut t = TableBuilder::with_capacity(rows.len());
    for r in rows {
        t.row().cell(r.id).cell(&r.name).cell(r.units).cell(r.shelf);
    }
    t.build().header(["id", "name", "units", "shelf"]).align([
        Align::Right,
        Align::Left,
        Align::Right,
    ])
}

/// The same table through [`Table`] with a `Str` per cell (the `Display` path): the
/// figure measured before [`TableBuilder`], kept comparable.
pub fn table_10k_str(rows: &[Item]) -> Element {
    Table(rows.iter().map(|r| {
        [
            Str::from(r.id),
            Str::from(r.name.as_str()),
            Str::from(r.units),
            Str::from(r.shelf),
        ]
    }))
    .header(["id", "name", "units", "shelf"])
    .align([Align::Right, Align::Left, Align::Right])
}

/// The same markup from maud's compile-time template.
pub fn maud_table_10k(rows: &[Item]) -> String {
    maud::html! {
        table class="st-table" {
            thead { tr {
                th class="st-right" { "id" } th { "name" } th class="st-right" { "units" } th { "shelf" }
            } }
            tbody {
                @for r in rows {
                    tr {
                        td class="st-right" { (r.id) }
                        td { (r.name) }
                        td class="st-right" { (r.units) }
                        td { (r.shelf) }
                    }
                }
            }
        }
    }
    .into_string()
}
