use std::rc::Rc;
use streamtree::prelude::*;

#[component]
fn Count(count: Rc<i32>) -> Element {
    Text(count.to_string())
}

fn main() {
    let _ = Count(Rc::new(1));
}
