use streamtree::prelude::*;

#[component]
fn Clicker(label: String) -> Element {
    Button("Go").on_click(|| println!("{label}"))
}

fn main() {}
