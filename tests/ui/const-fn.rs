use streamtree::prelude::*;

#[component]
const fn Empty() -> Element {
    Element::empty()
}

fn main() {}
