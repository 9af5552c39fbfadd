use streamtree::prelude::*;

fn app(count: u32) -> Element {
    view! {
        match_task(count) {
            ready(n) => { Text(n) }
        }
    }
}

fn main() {}
