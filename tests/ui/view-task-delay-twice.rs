use streamtree::prelude::*;

fn app(handle: &TaskHandle<u32>) -> Element {
    view! {
        match_task(handle, delay = std::time::Duration::from_millis(200), delay = std::time::Duration::from_secs(1)) {
            ready(n) => { Text(n) }
        }
    }
}

fn main() {}
