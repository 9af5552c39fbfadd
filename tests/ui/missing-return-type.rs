use streamtree::prelude::*;

#[component]
fn Greeting(name: String) {
    Text(name)
}

fn main() {
    let _: Element = VStack([Greeting("Ada".to_string())]);
}
