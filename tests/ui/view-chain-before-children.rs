use streamtree::prelude::*;

fn app() -> Element {
    view! {
        Card.key("k") {
            "inside"
        }
    }
}

fn main() {}
