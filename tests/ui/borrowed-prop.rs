use streamtree::prelude::*;

#[component]
fn Greeting(name: &str) -> Element {
    Text(name.to_string())
}

fn main() {}
