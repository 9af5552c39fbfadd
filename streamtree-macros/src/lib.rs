//! Procedural macros of `streamtree`. Internal crate: use `streamtree`, which re-exports
//! them.
#![forbid(unsafe_code)]

mod component;
mod paths;

use proc_macro::TokenStream;

/// Turns a function returning `Element` into a component: calling it returns an
/// `Element` that holds the body, which runs later, when a rerun renders the tree.
///
/// Each call gets a render-path segment: its name and key (`Greeting[k]`, after
/// `.key("k")` on the returned element) or its position among unkeyed calls of the same
/// name in the enclosing component (`Greeting#0`). State keyed by that path survives
/// reruns; a panic in the body is shown in place as an error element.
///
/// Props are moved into the deferred body, so they must be `Send + 'static`. Parameters
/// may be patterns (`(a, b): (i32, i32)`, `mut n: u32`), generic or `impl Trait`.
/// Doc comments and other attributes stay on the function.
///
/// The function must return `Element`, takes no `self`, and cannot be `async`, `const`,
/// `unsafe` or `extern`. The attribute takes no arguments.
///
/// # Example
/// ```ignore
/// use streamtree::prelude::*;
///
/// /// Greets someone by name.
/// #[component]
/// pub fn Greeting(name: String) -> Element {
///     Text(format!("Hello, {name}!"))
/// }
///
/// let app = || VStack([Greeting("Ada".into()).key("ada"), Greeting("Grace".into())]);
/// assert_eq!(AppTest::new(app).run().text(), "VStack\n  Hello, Ada!\n  Hello, Grace!\n");
/// ```
#[proc_macro_attribute]
pub fn component(args: TokenStream, item: TokenStream) -> TokenStream {
    component::expand(args.into(), item.into()).into()
}
