//! The only items macro output names (as `::streamtree::__private::..`). Not public API:
//! it may change in any release.

pub use crate::element::Element;
pub use crate::element::Str;
/// `view!` groups several nodes (top level, a body, a `for` loop's output) in a `Fragment`.
pub use crate::elements::Fragment;
/// `view!` string literals become `Text`.
pub use crate::elements::Text;
/// `view!`'s `match_task` / `match_task_many` nodes expand to these builders.
pub use crate::loading::{match_task, match_task_many};
/// `view!` collects a `for` loop's children in a `Vec` (no prelude is assumed).
pub use ::std::vec::Vec;

/// Builds a deferred component call: the body runs when a rerun resolves the tree.
/// `name` is shown in render paths; with the type of `body` (one closure type per
/// component fn and generic instance) it is the component's identity, which keys state.
pub fn component(
    name: &'static str,
    body: impl FnOnce() -> Element + ::core::marker::Send + 'static,
) -> Element {
    crate::element::component(name, None, body)
}

/// Checks that a `#[component]` prop can be moved into the deferred body; called at the
/// prop's type so that a non-`Send` or borrowed prop is reported there.
pub fn assert_prop<T: ::core::marker::Send + 'static>(_prop: &T) {}

/// Converts a child expression of `view!` to an element; kept as a function so a type
/// error points at the child's own tokens.
pub fn child<T: Into<Element>>(child: T) -> Element {
    child.into()
}

/// Converts a `{..iter}` splice of `view!` to one element; a function (not `Fragment`) so
/// an item type error names the splice and points at the iterator's tokens.
pub fn children<I>(children: I) -> Element
where
    I: IntoIterator,
    I::Item: Into<Element>,
{
    crate::elements::Fragment(children)
}

/// Passes a `view!` `match_task(h, delay = ..)` value to the builder; a function so that a
/// value of another type is reported at the user's expression, against this signature.
pub fn delay(delay: ::core::time::Duration) -> ::core::time::Duration {
    delay
}

/// Lends one member of a `view!` `match_task_many((a, b))` tuple; a function so that `&a`
/// coerces to `&TaskHandle<T>` whether `a` is a handle or already a reference to one.
pub fn lend<T>(handle: &crate::asyncio::TaskHandle<T>) -> &crate::asyncio::TaskHandle<T> {
    handle
}
