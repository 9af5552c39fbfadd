//! Deferred component calls and tree resolution: the one place component bodies run.
//!
//! `#[component] fn Greeting(name: String) -> Element` turns `Greeting(name)` into an
//! [`Element`] holding the body as a closure. Resolution (inside a rerun, or lazily when a
//! backend first renders the tree) runs each body once, with the render path extended by
//! the component's segment, and contains a panic as an error element in its place.
//!
//! Invariants:
//! - a body runs at most once per element value (`body` is taken, `output` set once);
//! - the render path seen by a body is its ancestors' segments plus its own, and is
//!   restored on every exit, including unwinding (see `crate::session::path`).

use std::any::Any;
use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Mutex, Once, OnceLock, PoisonError};

use crate::element::{Element, Node, Str};
use crate::session::{Session, path};

type Body = Box<dyn FnOnce() -> Element + Send>;

pub(crate) struct ComponentNode {
    pub(crate) name: &'static str,
    /// Taken (set to `None`) by the resolver when it runs the body. A lock, not a `Cell`,
    /// so that `Element` is `Sync` and a resolved tree can be rendered from many threads.
    body: Mutex<Option<Body>>,
    /// Set once by the resolver with the body's output or the error element.
    output: OnceLock<Element>,
}

impl ComponentNode {
    pub(crate) fn output(&self) -> Option<&Element> {
        self.output.get()
    }

    pub(crate) fn output_mut(&mut self) -> Option<&mut Element> {
        self.output.get_mut()
    }
}

/// Builds a deferred component call. `#[component]` expands to this (through
/// `__private`); hand-written components may call it too.
pub(crate) fn component(
    name: &'static str,
    key: Option<Str>,
    body: impl FnOnce() -> Element + Send + 'static,
) -> Element {
    let el = Element::new(Node::Component(Box::new(ComponentNode {
        name,
        body: Mutex::new(Some(Box::new(body))),
        output: OnceLock::new(),
    })));
    match key {
        Some(k) => el.key(k),
        None => el,
    }
}

/// Runs every unresolved component body in `root`, depth first, in tree order.
///
/// Bodies run in the current session, or, when none is current, in one fresh session
/// made on first need (so rendering a tree whose bodies have all run makes none).
/// A component resolved earlier is skipped whole: its output was resolved with it.
pub(crate) fn resolve(root: &Element) {
    if root.dynamic() {
        Resolver {
            scopes: vec![Vec::new()],
            in_session: Session::try_current().is_some(),
            fresh: None,
        }
        .walk(root);
    }
}

struct Resolver {
    /// Per enclosing component scope: how many unkeyed calls of each name were seen, so
    /// the n-th `Greeting` in a scope gets segment `Greeting#n`.
    scopes: Vec<Vec<(&'static str, u32)>>,
    /// Whether a session was current when resolution began (bodies restore it on exit).
    in_session: bool,
    /// The session bodies run in when none was current, made on first need.
    fresh: Option<Session>,
}

impl Resolver {
    /// The position of an unkeyed call among the calls of `name` in the current scope.
    fn position(&mut self, name: &'static str) -> u32 {
        let scope = self
            .scopes
            .last_mut()
            .expect("resolver always has a root scope");
        match scope.iter_mut().find(|(n, _)| *n == name) {
            Some((_, count)) => {
                *count += 1;
                *count - 1
            }
            None => {
                scope.push((name, 1));
                0
            }
        }
    }

    fn run(&mut self, body: Body) -> Result<Element, Box<dyn Any + Send>> {
        if self.in_session {
            contain(body)
        } else {
            self.fresh
                .get_or_insert_with(Session::new)
                .enter(|| contain(body))
        }
    }

    fn walk(&mut self, el: &Element) {
        if !el.dynamic() {
            return;
        }
        match &el.node {
            Node::Component(c) => {
                // Counted even when skipped, so later siblings keep their segments.
                let position = el.key.is_none().then(|| self.position(c.name));
                let Some(body) = c.body.lock().unwrap_or_else(PoisonError::into_inner).take()
                else {
                    return;
                };
                let segment = match (&el.key, position) {
                    (Some(k), _) => format!("{}[{k}]", c.name),
                    (None, n) => format!("{}#{}", c.name, n.unwrap_or_default()),
                };
                path::with_segment(&segment, || {
                    let out = self.run(body).unwrap_or_else(|panic| {
                        Element::error(format!(
                            "component `{}` panicked: {}",
                            c.name,
                            panic_message(&*panic)
                        ))
                    });
                    // `body` was just taken, so nobody set `output` before us.
                    let out = c.output.get_or_init(|| out);
                    self.scopes.push(Vec::new());
                    self.walk(out);
                    self.scopes.pop();
                });
            }
            _ => {
                for child in el.children() {
                    self.walk(child);
                }
            }
        }
    }
}

thread_local! {
    /// How many `contain` calls are running on this thread.
    static CONTAINED: Cell<u32> = const { Cell::new(0) };
}

/// Runs `f`, catching a panic. While it runs, the panic hook reports a panic on this
/// thread as one line on stderr instead of a full report: the panic is shown in place
/// (an error element, an `Error` task status), so a backtrace would only be noise.
pub(crate) fn contain<R>(f: impl FnOnce() -> R) -> Result<R, Box<dyn Any + Send>> {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if CONTAINED.with(Cell::get) > 0 {
                let at = info
                    .location()
                    .map(|l| format!(" at {}:{}", l.file(), l.line()))
                    .unwrap_or_default();
                eprintln!(
                    "streamtree: contained panic{at}: {}",
                    panic_message(info.payload())
                );
            } else {
                previous(info);
            }
        }));
    });
    struct Leave;
    impl Drop for Leave {
        fn drop(&mut self) {
            CONTAINED.with(|c| c.set(c.get() - 1));
        }
    }
    CONTAINED.with(|c| c.set(c.get() + 1));
    let _leave = Leave;
    catch_unwind(AssertUnwindSafe(f))
}

/// The text of a panic payload; owned by the runtime (the lowest layer), re-used here.
pub(crate) use crate::runtime::panic_message;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elements::*;

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
        resolve(&el);
        resolve(&el);
        assert_eq!(rx.try_iter().count(), 1);
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
        resolve(&tree);
        assert_eq!(
            *seen.lock().unwrap(),
            ["/A#0", "/Outer#0/A#0", "/Outer#0/A[k]", "/Outer#0/A#1"]
        );
    }

    #[test]
    fn bodies_without_a_current_session_share_one_fresh_session() {
        use crate::session::session_state;
        let tree = VStack([
            component("Writer", None, || {
                session_state("shared", || 0).set(7);
                Element::empty()
            }),
            component("Reader", None, || Text(session_state("shared", || 0).get())),
        ]);
        assert!(Session::try_current().is_none());
        assert_eq!(crate::render::text::render(&tree), "VStack\n  7\n");
        // Resolved: rendering again runs nothing and needs no session.
        assert_eq!(crate::render::text::render(&tree), "VStack\n  7\n");
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
        let first = component("A", None, probe(&seen));
        resolve(&first);
        // A tree holding an already resolved `A` and a new one: the new one is `A#1`.
        let tree = Fragment([first, component("A", None, probe(&seen))]);
        resolve(&tree);
        assert_eq!(*seen.lock().unwrap(), ["/A#0", "/A#1"]);
    }

    #[test]
    fn panic_becomes_error_element() {
        let tree = VStack([
            Text("before"),
            component("Boom", None, || panic!("kaboom")),
            Text("after"),
        ]);
        resolve(&tree);
        let out = tree.children()[1].children();
        assert!(
            matches!(&out[0].node, Node::Error(m) if m.as_str() == "component `Boom` panicked: kaboom")
        );
        assert_eq!(path::current(), "", "path restored after a panic");
    }
}
