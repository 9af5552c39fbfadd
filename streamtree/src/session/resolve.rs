//! Tree resolution: the one place component bodies run, and [`Resolved`], the tree it
//! leaves.
//!
//! `#[component] fn Greeting(name: String) -> Element` turns `Greeting(name)` into an
//! element holding the body (`crate::element`). [`Session::rerun`](super::Session::rerun)
//! resolves the tree it built: each body runs once, in tree order, with the render path
//! extended by the component's segment, and a panic becomes an error element in its
//! place. Renderers only read the result.
//!
//! Invariants:
//! - resolution takes the tree by `&mut`: no other thread can see a half-resolved tree,
//!   and a body runs at most once (its node gives the body up once);
//! - a [`Resolved`] holds a tree with no unresolved component, and hands it out only
//!   by shared reference, so it stays resolved;
//! - the render path seen by a body is its ancestors' segments plus its own, and is
//!   restored on every exit, including unwinding (see `path.rs`).

use std::any::TypeId;
use std::fmt;
use std::ops::Deref;

use crate::element::{Element, Node};
use crate::session::contain::{contain, panic_message};
use crate::session::path::{self, Place};

/// A tree whose component bodies have all run: what [`Session::rerun`](super::Session::rerun)
/// returns and [`AppTest`](crate::testing::AppTest) renders.
///
/// Only a rerun makes one, so holding a `Resolved` proves that rendering it runs no user
/// code and shows every component's output. It derefs to [`Element`], so it goes
/// wherever a renderer takes `&Element`.
///
/// # Example
/// ```
/// use streamtree::prelude::*;
///
/// #[component]
/// fn Hello() -> Element {
///     Text("hello")
/// }
///
/// let tree: streamtree::Resolved = Session::new().rerun(|| VStack([Hello()]));
/// assert_eq!(render_text(&tree), "VStack\n  hello\n");
/// // Built but never rerun, a component is shown as an error naming the fix.
/// assert!(render_text(&Hello()).contains("only a rerun runs component bodies"));
/// ```
///
/// A `Resolved` lends its tree only by shared reference, so nothing can put an
/// unresolved component back into it:
///
/// ```compile_fail
/// use streamtree::prelude::*;
/// let mut tree = Session::new().rerun(|| Text("x"));
/// let el: &mut Element = &mut tree; // no `DerefMut`
/// ```
pub struct Resolved {
    tree: Element,
}

impl Resolved {
    /// Wraps a tree the caller has just passed through [`resolve`].
    pub(super) fn new(tree: Element) -> Resolved {
        debug_assert!(
            is_resolved(&tree),
            "a Resolved tree holds no unresolved component"
        );
        Resolved { tree }
    }

    /// The tree as a plain element, to place inside another tree (its components keep
    /// their outputs and are not run again). A method rather than `From`, so that the
    /// many `From` impls of `Element` that `view!` children rely on stay as they are.
    ///
    /// # Example
    /// ```
    /// use streamtree::prelude::*;
    /// let tree = Session::new().rerun(|| Text("x")).into_element();
    /// assert_eq!(render_text(&VStack([tree])), "VStack\n  x\n");
    /// ```
    pub fn into_element(self) -> Element {
        self.tree
    }

    /// Replaces each contained panic's message with `f(<the panic's text>)` (a server
    /// hiding error details); see [`Element::rewrite_panics`].
    #[cfg_attr(not(feature = "serve"), allow(dead_code))]
    pub(crate) fn rewrite_panics(&mut self, f: &mut dyn FnMut(&str) -> String) {
        self.tree.rewrite_panics(f);
    }
}

impl Deref for Resolved {
    type Target = Element;

    fn deref(&self) -> &Element {
        &self.tree
    }
}

impl AsRef<Element> for Resolved {
    fn as_ref(&self) -> &Element {
        &self.tree
    }
}

impl fmt::Debug for Resolved {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.tree, f)
    }
}

/// Runs every unresolved component body in `tree`, depth first, in tree order, in the
/// current session (the caller's rerun). A component resolved earlier is skipped whole:
/// its output was resolved with it.
pub(super) fn resolve(tree: &mut Element) {
    if tree.dynamic() {
        Resolver {
            scopes: vec![Vec::new()],
        }
        .walk(tree);
    }
}

/// Whether no component in `el` still holds its body (for the debug check in
/// [`Resolved::new`]).
fn is_resolved(el: &Element) -> bool {
    match &el.node {
        Node::Component(c) => c.output().is_some_and(is_resolved),
        _ => !el.dynamic() || el.children().iter().all(is_resolved),
    }
}

struct Resolver {
    /// Per enclosing component scope: how many unkeyed calls of each component (body
    /// type and name) were seen, so the n-th `Greeting` in a scope gets `Greeting#n`.
    scopes: Vec<Vec<((TypeId, &'static str), u32)>>,
}

impl Resolver {
    /// The position of an unkeyed call among the calls of component `id` in the current
    /// scope.
    fn position(&mut self, id: (TypeId, &'static str)) -> u32 {
        let scope = self
            .scopes
            .last_mut()
            .expect("resolver always has a root scope");
        match scope.iter_mut().find(|(n, _)| *n == id) {
            Some((_, count)) => {
                *count += 1;
                *count - 1
            }
            None => {
                scope.push((id, 1));
                0
            }
        }
    }

    fn walk(&mut self, el: &mut Element) {
        if !el.dynamic() {
            return;
        }
        let key = el.key.as_deref();
        match &mut el.node {
            Node::Component(c) => {
                // Counted even when skipped, so later siblings keep their segments.
                let position = key.is_none().then(|| self.position((c.body_type, c.name)));
                let Some(body) = c.take_body() else {
                    return;
                };
                let place = match (key, position) {
                    (Some(k), _) => Place::Key(k),
                    (None, n) => Place::Position(n.unwrap_or_default()),
                };
                let (name, body_type) = (c.name, c.body_type);
                path::with_component(name, body_type, place, || {
                    let out = contain(body).unwrap_or_else(|panic| {
                        Element::panicked(&format!("component `{name}`"), &panic_message(&*panic))
                    });
                    let out = c.set_output(out);
                    self.scopes.push(Vec::new());
                    self.walk(out);
                    self.scopes.pop();
                });
            }
            node => node.children_mut().iter_mut().for_each(|c| self.walk(c)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::element::component;
    use crate::elements::*;
    use crate::session::Session;

    fn rerun(tree: Element) -> Resolved {
        Session::new().rerun(|| tree)
    }

    #[test]
    fn body_runs_once_and_only_when_resolved() {
        let (tx, rx) = std::sync::mpsc::channel();
        let el = component("Probe", None, move || {
            tx.send(()).unwrap();
            Text("x")
        });
        assert!(
            rx.try_recv().is_err(),
            "building the tree must not run the body"
        );
        let session = Session::new();
        let resolved = session.rerun(|| el);
        let again = session.rerun(|| resolved.into_element());
        assert_eq!(rx.try_iter().count(), 1);
        assert_eq!(again.children()[0].children().len(), 0);
    }

    #[test]
    fn segments_count_per_name_and_scope() {
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let probe = |seen: &std::sync::Arc<std::sync::Mutex<Vec<String>>>| {
            let seen = seen.clone();
            move || {
                seen.lock().unwrap().push(path::current());
                Element::empty()
            }
        };
        let s2 = seen.clone();
        let outer = component("Outer", None, move || {
            Fragment([
                component("A", None, probe(&s2)),
                component("A", Some("k".into()), probe(&s2)),
                component("A", None, probe(&s2)),
            ])
        });
        let tree = VStack([component("A", None, probe(&seen)), outer]);
        rerun(tree);
        assert_eq!(
            *seen.lock().unwrap(),
            ["/A#0", "/Outer#0/A#0", "/Outer#0/A[k]", "/Outer#0/A#1"]
        );
    }

    #[test]
    fn skipped_resolved_calls_keep_later_siblings_segments() {
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let probe = |seen: &std::sync::Arc<std::sync::Mutex<Vec<String>>>| {
            let seen = seen.clone();
            move || {
                seen.lock().unwrap().push(path::current());
                Element::empty()
            }
        };
        let first = rerun(component("A", None, probe(&seen))).into_element();
        // A tree holding an already resolved `A` and a new one: the new one is `A#1`.
        rerun(Fragment([first, component("A", None, probe(&seen))]));
        assert_eq!(*seen.lock().unwrap(), ["/A#0", "/A#1"]);
    }

    #[test]
    fn panic_becomes_error_element() {
        let tree = rerun(VStack([
            Text("before"),
            component("Boom", None, || panic!("kaboom")),
            Text("after"),
        ]));
        let out = tree.children()[1].children();
        assert!(
            matches!(&out[0].node, Node::Error { message: m, .. } if m.as_str() == "component `Boom` panicked: kaboom")
        );
        assert_eq!(path::current(), "", "path restored after a panic");
    }
}
