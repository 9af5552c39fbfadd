use streamtree::prelude::*;

fn app(handle: &TaskHandle<u32>) -> Element {
    view! {
        match_task(handle, dealy = std::time::Duration::from_millis(200)) {
            ready(n) => { Text(n) }
        }
    }
}

fn main() {}
