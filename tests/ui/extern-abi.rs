use streamtree::prelude::*;

#[component]
extern "C" fn Greeting(name: String) -> Element {
    Text(name)
}

fn main() {}
