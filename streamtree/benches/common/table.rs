//! The 100 × 100 table of the render benchmark, built by streamtree and by `maud::html!`.
//! Shared by `benches/render.rs` and the markup check in `tests/html.rs`.

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
