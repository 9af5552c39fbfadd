use streamtree::prelude::*;

fn app(handle: &TaskHandle<u32>) -> Element {
    view! {
        match_task(handle) {
            ready(n, refreshing, stale) => { Text(n) }
        }
    }
}

fn main() {}
