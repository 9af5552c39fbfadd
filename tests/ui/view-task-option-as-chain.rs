use streamtree::prelude::*;

fn app(handle: &TaskHandle<u32>) -> Element {
    view! {
        match_task(handle) {
            ready(n) => { Text(n) }
        }.delay(std::time::Duration::from_millis(200))
    }
}

fn main() {}
