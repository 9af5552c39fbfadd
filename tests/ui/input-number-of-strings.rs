use streamtree::prelude::*;

fn app() -> Element {
    NumberInput::<String>("Name").into()
}

fn main() {}
