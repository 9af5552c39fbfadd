use streamtree::prelude::*;

#[component(key = "a")]
async fn Greeting(name: &String) -> String {
    name.clone()
}

fn main() {}
