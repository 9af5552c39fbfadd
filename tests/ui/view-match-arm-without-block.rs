use streamtree::prelude::*;

fn app(value: Option<&str>) -> Element {
    view! {
        match value {
            Some(v) => Text(v),
            None => { "none" }
        }
    }
}

fn main() {}
