use streamtree::prelude::*;

#[component]
fn Greeting(name: Option<&str>) -> Element {
    Text(name.unwrap_or("you").to_string())
}

fn main() {}
