//! Keyed values that survive reruns.
//!
//! Two scopes: [`session_state`] is keyed by string alone and lives as long as the session;
//! [`state`] is keyed by the calling component's render path plus a string and is swept
//! after a rerun that did not touch it (the component was not rendered).
//!
//! Invariants:
//! - a slot's value type never changes: a call with another type panics, naming key and
//!   both types, and leaves the slot as it was;
//! - `Store::slots` is only locked for a lookup or the sweep, never while user code runs:
//!   `init` runs before the insert, and swept values are dropped by the caller after the
//!   lock (a value's `Drop` may use the session).

use std::any::Any;
use std::cell::Cell;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use crate::element::Str;
use crate::session::{Session, path};

thread_local! {
    /// The rerun generation running on this thread, 0 outside reruns.
    static GENERATION: Cell<u64> = const { Cell::new(0) };
}

pub(crate) fn with_generation<R>(generation: u64, f: impl FnOnce() -> R) -> R {
    struct Restore(u64);
    impl Drop for Restore {
        fn drop(&mut self) {
            GENERATION.with(|g| g.set(self.0));
        }
    }
    let _restore = Restore(GENERATION.with(|g| g.replace(generation)));
    f()
}

struct Slot {
    value: Arc<dyn Any + Send + Sync>,
    type_name: &'static str,
    /// The rerun that last read this slot; `None` for session-wide slots (never swept).
    touched: Option<u64>,
}

#[derive(Default)]
pub(crate) struct Store {
    /// Keyed by (render path, key); session-wide slots have an empty path marker `"\0"`.
    slots: Mutex<HashMap<(Str, Str), Slot>>,
}

impl Store {
    pub(crate) fn get_or_init<T: Send + 'static>(
        &self,
        path: Str,
        key: &str,
        scoped: bool,
        init: impl FnOnce() -> T,
    ) -> State<T> {
        let generation = GENERATION.with(Cell::get);
        let id = (path, Str::from(key));
        let existing = {
            let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
            slots.get_mut(&id).map(|slot| {
                if scoped {
                    slot.touched = Some(generation);
                }
                (slot.value.clone(), slot.type_name)
            })
        };
        if let Some((value, held)) = existing {
            return match value.downcast::<Mutex<T>>() {
                Ok(cell) => State { cell },
                Err(_) => type_mismatch::<T>(key, held),
            };
        }
        // `init` is user code: run it without the lock held.
        let cell = Arc::new(Mutex::new(init()));
        let (value, held) = {
            let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
            let slot = slots.entry(id).or_insert_with(|| Slot {
                value: cell.clone(),
                type_name: std::any::type_name::<T>(),
                touched: scoped.then_some(generation),
            });
            (slot.value.clone(), slot.type_name)
        };
        // Another thread may have filled the slot first: then `cell` (a user value) is
        // dropped here, after the lock.
        match value.downcast::<Mutex<T>>() {
            Ok(cell) => State { cell },
            Err(_) => type_mismatch::<T>(key, held),
        }
    }

    /// Removes the render-path slots the rerun `generation` did not touch and returns
    /// them: their values are user values, whose `Drop` may use the session, so the
    /// caller drops them after the lock is released.
    #[must_use = "drop the swept values outside the lock"]
    pub(crate) fn sweep(&self, generation: u64) -> Vec<impl Sized + use<>> {
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        let stale: Vec<(Str, Str)> = slots
            .iter()
            .filter(|(_, slot)| slot.touched.is_some_and(|t| t < generation))
            .map(|(id, _)| id.clone())
            .collect();
        stale
            .into_iter()
            .filter_map(|id| slots.remove_entry(&id))
            .collect()
    }

    /// Removes every slot; the caller drops the result outside the lock ([`Session::close`]).
    pub(crate) fn take_all(&self) -> impl Send + use<> {
        std::mem::take(&mut *self.slots.lock().unwrap_or_else(PoisonError::into_inner))
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.slots.lock().unwrap().len()
    }
}

/// A handle to a value kept in the session. Clones share the value; a handle may be moved
/// into a button handler or a task and used after the rerun that made it.
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// Session::new().enter(|| {
///     let s = session_state("name", || String::from("Ada"));
///     s.set("Grace".to_string());
///     assert_eq!(session_state("name", String::new).get(), "Grace");
/// });
/// ```
pub struct State<T> {
    cell: Arc<Mutex<T>>,
}

impl<T> Clone for State<T> {
    fn clone(&self) -> Self {
        State {
            cell: self.cell.clone(),
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for State<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.with(|v| f.debug_tuple("State").field(v).finish())
    }
}

impl<T> State<T> {
    /// A value in no session (for widgets built outside a rerun).
    pub(crate) fn detached(value: T) -> State<T> {
        State {
            cell: Arc::new(Mutex::new(value)),
        }
    }

    /// A clone of the value.
    ///
    /// # Example
    /// ```
    /// # use streamtree::prelude::*;
    /// # Session::new().enter(|| {
    /// assert_eq!(session_state("n", || 3).get(), 3);
    /// # });
    /// ```
    pub fn get(&self) -> T
    where
        T: Clone,
    {
        self.with(T::clone)
    }

    /// Replaces the value.
    ///
    /// # Example
    /// ```
    /// # use streamtree::prelude::*;
    /// # Session::new().enter(|| {
    /// let n = session_state("n", || 3);
    /// n.set(4);
    /// assert_eq!(n.get(), 4);
    /// # });
    /// ```
    pub fn set(&self, value: T) {
        self.update(|v| *v = value);
    }

    /// Changes the value in place and returns what `f` returns.
    ///
    /// # Example
    /// ```
    /// # use streamtree::prelude::*;
    /// # Session::new().enter(|| {
    /// let n = session_state("n", || 3);
    /// assert_eq!(n.update(|v| { *v += 1; *v }), 4);
    /// # });
    /// ```
    pub fn update<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        f(&mut self.cell.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Reads the value without cloning it.
    ///
    /// # Example
    /// ```
    /// # use streamtree::prelude::*;
    /// # Session::new().enter(|| {
    /// let s = session_state("s", || String::from("abc"));
    /// assert_eq!(s.with(|v| v.len()), 3);
    /// # });
    /// ```
    pub fn with<R>(&self, f: impl FnOnce(&T) -> R) -> R {
        f(&self.cell.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// The panic for a state key used with another type than the one it holds.
fn type_mismatch<T>(key: &str, held: &str) -> ! {
    panic!(
        "state key `{key}` holds a `{}`, not a `{}`: use one type per key",
        short_type_name(held),
        short_type_name(std::any::type_name::<T>())
    )
}

/// A type name as users write it: `alloc::vec::Vec<alloc::string::String>` becomes
/// `Vec<String>` (every path is cut to its last segment; generics and tuples stay).
pub(crate) fn short_type_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    // Where the path being read started in `out`.
    let mut path_start = 0;
    let mut chars = name.chars().peekable();
    while let Some(c) = chars.next() {
        if c == ':' && chars.peek() == Some(&':') {
            chars.next();
            out.truncate(path_start);
        } else {
            out.push(c);
            if !(c.is_alphanumeric() || c == '_') {
                path_start = out.len();
            }
        }
    }
    out
}

#[track_caller]
fn check_key(key: &str) {
    if key.trim().is_empty() {
        panic!("state key {key:?} is blank: a key must contain a non-space character");
    }
}

/// A value keyed by `key` alone, kept for the whole session (Streamlit's
/// `st.session_state[key]`). `init` runs on first use.
///
/// # Panics
/// With no current session; for a blank key; when `key` already holds another type.
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// let session = Session::new();
/// session.enter(|| session_state("clicks", || 0).set(5));
/// session.enter(|| assert_eq!(session_state("clicks", || 0).get(), 5));
/// ```
#[track_caller]
pub fn session_state<T: Send + 'static>(key: &str, init: impl FnOnce() -> T) -> State<T> {
    check_key(key);
    Session::current()
        .state_store()
        .get_or_init(Str::from("\0"), key, false, init)
}

/// A value keyed by the calling component's render path and `key`: each rendered instance
/// of a component has its own. Dropped after a rerun that does not call it (the component
/// left the tree).
///
/// # Panics
/// With no current session; for a blank key; when `key` already holds another type at
/// this render path.
///
/// # Example
/// ```
/// use streamtree::prelude::*;
///
/// #[component]
/// fn Counter() -> Element {
///     let n = state("n", || 0).update(|n| { *n += 1; *n });
///     Text(format!("{} rendered {n} times", streamtree::session::render_path()))
/// }
///
/// let mut app = AppTest::new(|| VStack([Counter().key("a"), Counter().key("b")]));
/// app.run();
/// assert_eq!(app.run().text(), "VStack\n  /Counter[a] rendered 2 times\n  /Counter[b] rendered 2 times\n");
/// ```
#[track_caller]
pub fn state<T: Send + 'static>(key: &str, init: impl FnOnce() -> T) -> State<T> {
    check_key(key);
    Session::current()
        .state_store()
        .get_or_init(Str::from(path::lookup()), key, true, init)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::panic::{AssertUnwindSafe, catch_unwind};

    #[test]
    fn wrong_type_panics_naming_key_and_types_and_keeps_value() {
        let s = Session::new();
        s.enter(|| {
            session_state("k", || 1i32);
            let err =
                catch_unwind(AssertUnwindSafe(|| session_state("k", String::new))).unwrap_err();
            let msg = crate::session::panic_message(&*err);
            assert_eq!(
                msg,
                "state key `k` holds a `i32`, not a `String`: use one type per key"
            );
            assert_eq!(session_state("k", || 0i32).get(), 1);
        });
    }

    #[test]
    fn blank_key_panics() {
        let s = Session::new();
        let err = catch_unwind(AssertUnwindSafe(|| s.enter(|| state("  ", || 0)))).unwrap_err();
        assert!(crate::session::panic_message(&*err).contains("state key \"  \" is blank"));
    }

    #[test]
    fn sweep_drops_untouched_scoped_slots_only() {
        let s = Session::new();
        s.rerun(|| {
            state("scoped", || 1);
            session_state("global", || 2);
            crate::Element::empty()
        });
        assert_eq!(s.state_store().len(), 2);
        s.rerun(crate::Element::empty);
        assert_eq!(s.state_store().len(), 1);
    }

    #[test]
    fn short_type_names_cut_paths_only() {
        for (full, short) in [
            ("alloc::string::String", "String"),
            ("i32", "i32"),
            (
                "alloc::vec::Vec<core::option::Option<alloc::string::String>>",
                "Vec<Option<String>>",
            ),
            ("(u8, &str, [my_app::Row; 3])", "(u8, &str, [Row; 3])"),
            ("dyn core::any::Any + core::marker::Send", "dyn Any + Send"),
        ] {
            assert_eq!(short_type_name(full), short);
        }
    }
}
