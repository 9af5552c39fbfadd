use streamtree::prelude::*;

fn app(a: u32, b: u32) -> Element {
    view! {
        match_task_many((a, b)) {
            ready => { "done" }
        }
    }
}

fn main() {}
