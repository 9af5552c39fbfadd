use streamtree::prelude::*;

fn app(handle: u32) -> Element {
    view! {
        match_task(handle) {
            loading => { "Loading…" }
            error(e) => { Text(e) }
        }
    }
}

fn main() {}
