use streamtree::prelude::*;

#[component]
fn Greeting(name: String) -> Element {
    format!("Hello, {name}!")
}

fn main() {}
