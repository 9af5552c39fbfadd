use streamtree::prelude::*;

fn app(handle: u32, name: String) -> Element {
    view! {
        Page {
            name
            match_task(handle) {
                lodaing => { "Loading…" }
                error => { "failed" }
                error(e) => { Text(e) }
                cancelled(why) => { "cancelled" }
            }
        }
    }
}

fn main() {}
