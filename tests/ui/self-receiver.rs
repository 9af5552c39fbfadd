use streamtree::prelude::*;

struct User {
    name: String,
}

impl User {
    #[component]
    fn Badge(&self) -> Element {
        Text(self.name.clone())
    }
}

fn main() {}
