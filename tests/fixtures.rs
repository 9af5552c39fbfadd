//! Shared components and helpers for the integration tests.

use streamtree::prelude::*;

/// A component with a prop, used across tests.
#[component]
pub fn Greeting(name: String) -> Element {
    Text(format!("Hello, {name}!"))
}
