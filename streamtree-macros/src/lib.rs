//! Procedural macros of `streamtree`. Internal crate: use `streamtree`, which re-exports
//! them.
#![forbid(unsafe_code)]

mod component;
mod errors;
mod paths;
mod view;

use proc_macro::TokenStream;

/// Turns a function returning `Element` into a component: calling it returns an
/// `Element` that holds the body, which runs later, when a rerun renders the tree.
///
/// Each call gets a render-path segment: its name and key (`Greeting[k]`, after
/// `.key("k")` on the returned element) or its position among unkeyed calls of the same
/// component in the enclosing component (`Greeting#0`). State keyed by that path survives
/// reruns. The path shows the bare name, but state tells components apart by identity:
/// same-named components of two modules, or two instances of a generic component
/// (`List::<i32>`, `List::<String>`), never share it. A panic in the body is shown in
/// place as an error element.
///
/// Props are moved into the deferred body, so they must be `Send + 'static`; each one,
/// `_` and unused ones included, lives until the body has run (or until the element is
/// dropped unrun), as a plain fn keeps its arguments until it returns. Parameters
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

/// Builds an `Element` tree from nested nodes, as a Streamlit script reads top to bottom.
///
/// ```text
/// node := "text"                           a string literal is a `Text`
///       | Name(args).option(..)            any call: an element constructor or a component
///       | Name { node* }.option(..)        children, passed as one `[Element; N]` argument
///       | {expr}                           splice: any value that is `Into<Element>`
///       | {..iter}                         spread: an iterator of `Into<Element>` values
///       | if cond { node* } else { node* } `if let`, `else if`; no `else` shows nothing
///       | for pat in iter { node* }        the bodies' nodes, in order
///       | match expr { pat (if guard)? => { node* } ,? .. }
///       | match_task(handle) { arm* }      one task: `&handle` is taken for you
///       | match_task_many(handles) { arm* } `(a, b)` lends each handle; a slice is passed as is
/// arm  := loading => { .. } | loading(progress) => { .. } | ready(value) => { .. }
///       | error => { .. } | error(message) => { .. } | cancelled => { .. }   (`ready` required)
/// ```
///
/// - `{` right after a name opens its children (`Card { .. }`); anywhere else it opens a
///   splice, so `Text("a") {x}` is two nodes. Options chain after the children:
///   `Page { .. }.title("T")`; `Card.key("k") { .. }` is an error. Only calls take options.
/// - A splice is a Rust block (`{ let n = 2; Text(n) }` works). Iterators are spliced with
///   `{..iter}` or `for`; `Vec<T>` and `Option<T>` of elements are values, `{v}` works.
/// - `match_task` arms become the runtime's builder calls (`streamtree::loading`):
///   `ready`, `error` and `loading(p)` bodies run only for their state; `loading` and
///   `cancelled` bodies are built every time, as values.
/// - Several top-level nodes make a `Fragment`; none make an empty element.
/// - A component taking props and children takes the children as an argument:
///   `Section("Intro".into(), view! { .. })`.
/// - The generated code names only `::streamtree::__private` and `::core`, so it needs no
///   imports. A child that is not an element is reported at the child.
///
/// # Example
/// ```ignore
/// use streamtree::prelude::*;
///
/// let names = ["Ada", "Grace"];
/// let tree = view! {
///     Page {
///         "Hello"
///         for name in names { Text(name) }
///         if names.is_empty() { "nobody" } else { Button("Greet").key("greet") }
///     }.title("Demo")
/// };
/// assert_eq!(render_text(&tree), "Page \"Demo\"\n  Hello\n  Ada\n  Grace\n  [ Greet ]\n");
/// ```
#[proc_macro]
pub fn view(input: TokenStream) -> TokenStream {
    view::expand(input.into()).into()
}
