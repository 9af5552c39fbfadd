use streamtree::prelude::*;

fn app(handle: u32) -> Element {
    view! {
        match_tsk(handle) {
            ready(n) => { Text(n) }
        }
    }
}

fn main() {}
