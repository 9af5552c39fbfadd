use streamtree::prelude::*;

fn app() -> Element {
    Select("Region", ["EU", "US"]).min("EU").into()
}

fn main() {}
