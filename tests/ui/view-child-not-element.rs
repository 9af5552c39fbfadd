use streamtree::prelude::*;

fn app(count: u32) -> Element {
    view! {
        VStack {
            "count:"
            {count}
        }
    }
}

fn main() {}
