use streamtree::prelude::*;

#[component]
fn Label(text: impl Into<String>) -> Element {
    Text(text.into())
}

fn main() {}
