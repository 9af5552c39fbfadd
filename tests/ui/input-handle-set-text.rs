use streamtree::prelude::*;

fn app() -> Element {
    let days = NumberInput::<i64>("Days").handle();
    Button("Week").on_click(move || days.set("7").unwrap())
}

fn main() {}
