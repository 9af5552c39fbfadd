use streamtree::prelude::*;

fn app(handle: u32) -> Element {
    view! {
        match_task(handle) {
            loading => { "Loading…" }
            ready(n) => { Text(n) }
            loading(progress) => { "Still loading…" }
        }
    }
}

fn main() {}
