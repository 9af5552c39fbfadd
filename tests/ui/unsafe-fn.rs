use streamtree::prelude::*;

#[component]
unsafe fn Greeting(name: String) -> Element {
    Text(name)
}

fn main() {}
