use streamtree::prelude::*;

#[component(foo)]
fn Greeting(name: String) -> Element {
    Text(name)
}

fn main() {}
