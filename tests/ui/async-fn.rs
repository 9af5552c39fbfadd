use streamtree::prelude::*;

#[component]
async fn Greeting(name: String) -> Element {
    Text(name)
}

fn main() {}
