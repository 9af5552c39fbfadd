use streamtree::prelude::*;

fn total() -> f64 {
    1.5
}

fn app() -> Element {
    view! {
        Card { total() }
    }
}

fn main() {}
