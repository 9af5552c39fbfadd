use streamtree::prelude::*;

fn app(handle: u32) -> Element {
    view! {
        match_task(handle) {
            loading => { "Loading…" }
            redy(n) => { Text(n) }
        }
    }
}

fn main() {}
