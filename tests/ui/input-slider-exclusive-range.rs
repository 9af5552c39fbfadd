use streamtree::prelude::*;

fn app() -> Element {
    Slider("Days", 1..30).into()
}

fn main() {}
