use streamtree::prelude::*;

#[component]
fn List<T: Into<Element>>(items: Vec<T>) -> Element {
    VStack(items.into_iter().map(Into::into))
}

fn main() {}
