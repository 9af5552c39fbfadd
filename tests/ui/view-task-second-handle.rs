use streamtree::prelude::*;

fn app(a: &TaskHandle<u32>, b: &TaskHandle<u32>) -> Element {
    view! {
        match_task(a, b) {
            ready(n) => { Text(n) }
        }
    }
}

fn main() {}
