use streamtree::prelude::*;

fn app(handle: u32) -> Element {
    view! {
        match_task(handle) {
            ready(n) => { Text(n) }
            cancelled(reason) => { Text(reason) }
        }
    }
}

fn main() {}
