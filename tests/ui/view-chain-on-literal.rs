use streamtree::prelude::*;

fn app() -> Element {
    view! {
        "hello".key("greeting")
    }
}

fn main() {}
