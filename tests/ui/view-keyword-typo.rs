use streamtree::prelude::*;

fn app(names: Vec<String>) -> Element {
    view! {
        VStack {
            fro name in names { Text(name) }
        }
    }
}

fn main() {}
