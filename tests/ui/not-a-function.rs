use streamtree::prelude::*;

#[component]
struct Greeting {
    name: String,
}

fn main() {}
