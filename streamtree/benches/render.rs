//! Build-and-render throughput of a 100 × 100 table (Page > VStack of 100 HStacks of 100
//! Text cells: 10,101 elements), beside `maud::html!` writing the same markup in the same
//! run. Allocation counts come from divan's `AllocProfiler`.
//! `table_10k*`: a 10,000-row table beside maud writing the same `<table>` markup, both
//! from the same prebuilt rows: `table_10k` builds it with `TableBuilder` (the API the docs
//! recommend for large tables) and renders it, `table_10k_str` builds it through `Table`
//! with a `Str` per cell (the earlier figure), `table_10k_render_only` renders a prebuilt
//! one. Compare `table_10k` with `table_10k_maud` from the same run (issue 11: within 2×).
//! Medians of one run (shared 2-core VM, `cargo bench -p streamtree --bench render --
//! table_10k`): `table_10k` 435 µs, `table_10k_maud` 275 µs (1.58×),
//! `table_10k_render_only` 213 µs, `table_10k_str` 796 µs; before `TableBuilder` and the
//! literal cell tags, 843 / 291 / 315 µs with the `Str` path as `table_10k`.
//!
//! Run: `cargo xtask bench` (or `cargo bench -p streamtree --bench render`).

use divan::counter::ItemsCount;
use divan::{AllocProfiler, Bencher};

#[path = "common/table.rs"]
mod table;

use table::{ELEMENTS, formatted_table, maud_table, table};

#[global_allocator]
static ALLOC: AllocProfiler = AllocProfiler::system();

fn main() {
    divan::main();
}

/// Build the tree and render it to HTML: the figure compared with maud.
#[divan::bench]
fn streamtree_build_and_html(b: Bencher) {
    b.counter(ItemsCount::new(ELEMENTS))
        .bench(|| streamtree::render::html::fragment(&table()));
}

/// The same markup from maud's compile-time template.
#[divan::bench]
fn maud_html(b: Bencher) {
    b.counter(ItemsCount::new(ELEMENTS)).bench(maud_table);
}

/// Build and render to HTML, cells formatted with `format_args!`.
#[divan::bench]
fn streamtree_build_and_html_formatted(b: Bencher) {
    b.counter(ItemsCount::new(ELEMENTS))
        .bench(|| streamtree::render::html::fragment(&formatted_table()));
}

/// Build the tree and render it to text.
#[divan::bench]
fn streamtree_build_and_text(b: Bencher) {
    b.counter(ItemsCount::new(ELEMENTS))
        .bench(|| streamtree::render::text::render(&table()));
}

/// Building alone.
#[divan::bench]
fn streamtree_build_only(b: Bencher) {
    b.counter(ItemsCount::new(ELEMENTS)).bench(table);
}

/// Rendering a prebuilt tree to HTML.
#[divan::bench]
fn streamtree_html_only(b: Bencher) {
    let tree = table();
    b.counter(ItemsCount::new(ELEMENTS))
        .bench(|| streamtree::render::html::fragment(&tree));
}

/// A 10,000-row table (4 columns) built with `TableBuilder` and rendered to HTML: the
/// figure compared with `table_10k_maud`. Both start from the same rows, made once outside
/// the timed loop.
#[divan::bench]
fn table_10k(b: Bencher) {
    let rows = table::table_10k_rows();
    b.counter(ItemsCount::new(table::TABLE_ROWS))
        .bench(|| streamtree::render::html::fragment(&table::table_10k(&rows)));
}

/// The same table built through `Table` with a `Str` per cell, then rendered: the path
/// measured before `TableBuilder`.
#[divan::bench]
fn table_10k_str(b: Bencher) {
    let rows = table::table_10k_rows();
    b.counter(ItemsCount::new(table::TABLE_ROWS))
        .bench(|| streamtree::render::html::fragment(&table::table_10k_str(&rows)));
}

/// The same table rendered from a tree built once, outside the timed loop: the HTML
/// backend's own cost.
#[divan::bench]
fn table_10k_render_only(b: Bencher) {
    let tree = table::table_10k(&table::table_10k_rows());
    b.counter(ItemsCount::new(table::TABLE_ROWS))
        .bench(|| streamtree::render::html::fragment(&tree));
}

/// The same 10,000-row table markup from maud's compile-time template.
#[divan::bench]
fn table_10k_maud(b: Bencher) {
    let rows = table::table_10k_rows();
    b.counter(ItemsCount::new(table::TABLE_ROWS))
        .bench(|| table::maud_table_10k(&rows));
}
