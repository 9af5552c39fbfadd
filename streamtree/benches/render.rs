//! Build-and-render throughput of a 100 × 100 table (Page > VStack of 100 HStacks of 100
//! Text cells: 10,101 elements), beside `maud::html!` writing the same markup in the same
//! run. Allocation counts come from divan's `AllocProfiler`.
//!
//! Run: `cargo xtask bench` (or `cargo bench -p streamtree --bench render`).

use divan::counter::ItemsCount;
use divan::{AllocProfiler, Bencher};
use streamtree::prelude::*;

#[global_allocator]
static ALLOC: AllocProfiler = AllocProfiler::system();

const N: usize = 100;
/// Page + VStack + 100 HStacks + 10,000 cells.
const ELEMENTS: usize = 2 + N + N * N;

fn main() {
    divan::main();
}

/// Each cell shows its index, as a number (both sides format it with an integer fast path).
fn table() -> Element {
    Page([VStack(
        (0..N).map(|r| HStack((0..N).map(move |c| Text(r * N + c)))),
    )])
    .title("Table")
}

/// The same table with cells formatted through `core::fmt` (`"{r},{c}"`), the common way
/// apps make text.
fn formatted_table() -> Element {
    Page([VStack((0..N).map(|r| {
        HStack((0..N).map(move |c| Text(format_args!("{r},{c}"))))
    }))])
    .title("Table")
}

fn maud_table() -> String {
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

#[test]
fn same_markup_as_maud() {
    assert_eq!(streamtree::render::html::fragment(&table()), maud_table());
}
