use streamtree::prelude::*;

fn app() -> Element {
    view! {
        Page {
            Card { "unclosed"
        }
    }
}

fn main() {}
