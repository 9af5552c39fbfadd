use streamtree::prelude::*;

fn app() -> Element {
    Select("Rows", [vec![1, 2], vec![3]]).into()
}

fn main() {}
