//! A component call as plain data: the node `#[component]` builds.
//!
//! Building the node runs nothing: it holds the body until a rerun resolves the tree,
//! which takes the body, runs it once and stores its output here. Renderers read the
//! output and never run a body; a node that was never resolved renders as
//! [`unresolved`], an error naming the fix.
//!
//! Invariants:
//! - `body` is `Some` until resolution takes it, and `output` is set exactly when it was
//!   taken: a body runs at most once, and both fields change only through `&mut`, so no
//!   two threads can resolve one node (a shared tree is read-only).

use std::any::TypeId;
use std::sync::{Mutex, PoisonError};

use super::{Element, Node, Str};

/// A component's deferred body.
pub(crate) type Body = Box<dyn FnOnce() -> Element + Send>;

pub(crate) struct ComponentNode {
    /// The component's function name, shown in errors and `kind_name`.
    pub(crate) name: &'static str,
    /// The body closure's type: with `name`, the component's identity. It differs between
    /// same-named components in two modules and between generic instances.
    pub(crate) body_type: TypeId,
    /// The body until resolution takes it. Behind a `Mutex` only so that `Element` is
    /// `Sync` without requiring `Sync` props: it is reached through `&mut` alone
    /// (`Mutex::get_mut`) and never locked.
    body: Mutex<Option<Body>>,
    /// The body's output, or the error element shown in its place; set when the body is
    /// taken.
    output: Option<Element>,
}

impl ComponentNode {
    /// The output of the body, `None` while the node is unresolved.
    pub(crate) fn output(&self) -> Option<&Element> {
        self.output.as_ref()
    }

    pub(crate) fn output_mut(&mut self) -> Option<&mut Element> {
        self.output.as_mut()
    }

    /// Takes the body to run it; `None` when the node was resolved before.
    pub(crate) fn take_body(&mut self) -> Option<Body> {
        let body = self
            .body
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        debug_assert!(
            body.is_some() == self.output.is_none(),
            "a node holds its body exactly until its output is set"
        );
        body
    }

    /// Stores the output of the body just taken, and lends it back for resolving inside.
    pub(crate) fn set_output(&mut self, output: Element) -> &mut Element {
        debug_assert!(
            self.output.is_none(),
            "a body runs at most once, so its output is set once"
        );
        self.output.insert(output)
    }
}

/// Builds a deferred component call. `#[component]` expands to this (through
/// `__private`).
pub(crate) fn component<F: FnOnce() -> Element + Send + 'static>(
    name: &'static str,
    key: Option<Str>,
    body: F,
) -> Element {
    let el = Element::new(Node::Component(Box::new(ComponentNode {
        name,
        body_type: TypeId::of::<F>(),
        body: Mutex::new(Some(Box::new(body))),
        output: None,
    })));
    match key {
        Some(k) => el.key(k),
        None => el,
    }
}

/// What renderers show in place of a component whose body never ran: the tree was built
/// but not resolved by a rerun.
pub(crate) fn unresolved(name: &str) -> Element {
    Element::error(format!(
        "component `{name}` was rendered without running it: only a rerun runs component \
         bodies; render the tree `Session::rerun` returns, or test the app with `AppTest`"
    ))
}
