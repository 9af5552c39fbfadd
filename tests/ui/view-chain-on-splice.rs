use streamtree::prelude::*;

fn app(title: String) -> Element {
    view! {
        VStack {
            {Text(title)}.key("title")
        }
    }
}

fn main() {}
