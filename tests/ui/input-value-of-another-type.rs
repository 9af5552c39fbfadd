use streamtree::prelude::*;

fn app() -> Element {
    let share = Slider("Share", 0.0..=1.0);
    let days: i64 = share.value();
    Text(format!("{days}"))
}

fn main() {}
