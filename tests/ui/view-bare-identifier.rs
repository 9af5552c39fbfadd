use streamtree::prelude::*;

fn app(title: String) -> Element {
    view! {
        VStack {
            title
            Divider
        }
    }
}

fn main() {}
