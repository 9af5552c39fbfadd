use streamtree::prelude::*;

#[component]
fn Greeting(name: String) -> String {
    format!("Hello, {name}!")
}

fn main() {}
