//! Loading UI: map background-task status to loading / ready / error / cancelled subtrees.
//!
//! [`match_task`] reads one [`TaskHandle`]; [`match_task_many`] reads several (a slice, or
//! a tuple of handle references with different result types). Each builder converts into
//! an [`Element`] when the chain ends with `.into()`, reading the tasks at that moment:
//! a rerun always shows the state the tasks were in when it ran.
//!
//! | status | branch |
//! | --- | --- |
//! | `Pending`, `Running`, `Missing` | loading (with the latest progress) |
//! | `Done` | ready(result) |
//! | `Error` | error(message) |
//! | `Cancelled` | cancelled if given, else error("cancelled") |
//!
//! For many tasks: any Error → error (the first in order); else any Cancelled →
//! cancelled; else any not finished → loading; else ready. An empty slice is ready.

use crate::asyncio::{Progress, TaskHandle, TaskStatus, snapshot, submit_many};
use crate::element::Element;
use crate::elements::{ErrorBox, ProgressBar, Text};

pub use many::{GroupOutcome, MatchTaskMany, TaskGroup, match_task_many};

/// The built-in loading branch: a progress bar when the task reported progress (with
/// "Loading…" when it gave no message), else "Loading…".
fn default_loading(progress: Option<Progress>) -> Element {
    match progress {
        Some(p) => {
            let message = p.message().unwrap_or("Loading…").to_owned();
            ProgressBar(p).message(message)
        }
        None => Text("Loading…"),
    }
}

enum Loading<'a> {
    Default,
    Element(Element),
    With(Box<dyn FnOnce(Option<Progress>) -> Element + 'a>),
}

/// The branches shared by both builders; `O` is what the ready branch receives.
struct Branches<'a, O> {
    loading: Loading<'a>,
    ready: Option<Box<dyn FnOnce(O) -> Element + 'a>>,
    error: Option<Box<dyn FnOnce(String) -> Element + 'a>>,
    cancelled: Option<Element>,
}

impl<O> Default for Branches<'_, O> {
    fn default() -> Self {
        Branches {
            loading: Loading::Default,
            ready: None,
            error: None,
            cancelled: None,
        }
    }
}

/// What a group of tasks amounts to, by the precedence in the module docs.
enum Outcome<O> {
    Loading(Option<Progress>),
    Ready(O),
    Error(String),
    Cancelled,
}

impl<O> Branches<'_, O> {
    fn pick(self, outcome: Outcome<O>) -> Element {
        let error = |this: Self, message: String| match this.error {
            Some(f) => f(message),
            None => ErrorBox(message),
        };
        match outcome {
            Outcome::Loading(progress) => match self.loading {
                Loading::Default => default_loading(progress),
                Loading::Element(el) => el,
                Loading::With(f) => f(progress),
            },
            Outcome::Ready(value) => match self.ready {
                Some(f) => f(value),
                None => Element::empty(),
            },
            Outcome::Error(message) => error(self, message),
            Outcome::Cancelled => match self.cancelled {
                Some(el) => el,
                None => error(self, "cancelled".to_owned()),
            },
        }
    }
}

/// One task's state, read once: status, and the result, error or progress that goes with
/// it, from one snapshot (a dismissal between two reads would show an empty error box or
/// a finished task as loading).
fn read<T: Clone + Send + 'static>(handle: &TaskHandle<T>) -> Outcome<T> {
    let snap = snapshot(handle);
    match (snap.status, snap.result, snap.error) {
        (TaskStatus::Done, Some(value), _) => Outcome::Ready(value),
        (TaskStatus::Error, _, Some(message)) => Outcome::Error(message),
        (TaskStatus::Cancelled, _, _) => Outcome::Cancelled,
        (status, _, _) => {
            debug_assert!(
                !matches!(status, TaskStatus::Done | TaskStatus::Error),
                "a snapshot holds the result of a Done task and the error of a failed one"
            );
            Outcome::Loading(snap.progress)
        }
    }
}

/// The builder methods both builders share, each with its own doc examples (a code
/// block's body per method, so `MatchTaskMany`'s docs show `match_task_many`).
macro_rules! builder_methods {
    (
        ready_doc: $ready_doc:literal,
        out: $out:ty,
        examples: {
            loading: $loading:literal,
            loading_with: $loading_with:literal,
            ready: $ready:literal,
            error: $error:literal,
            cancelled: $cancelled:literal $(,)?
        } $(,)?
    ) => {
        /// The element shown while the work is not finished.
        ///
        /// # Example
        /// ```
        #[doc = $loading]
        /// ```
        pub fn loading(mut self, element: impl Into<Element>) -> Self {
            self.branches.loading = Loading::Element(element.into());
            self
        }

        /// Builds the loading element from the latest progress (`None` before any).
        ///
        /// # Example
        /// ```
        #[doc = $loading_with]
        /// ```
        pub fn loading_with<E: Into<Element>>(
            mut self,
            f: impl FnOnce(Option<Progress>) -> E + 'a,
        ) -> Self {
            self.branches.loading = Loading::With(Box::new(move |p| f(p).into()));
            self
        }

        #[doc = $ready_doc]
        ///
        /// # Example
        /// ```
        #[doc = $ready]
        /// ```
        pub fn ready<E: Into<Element>>(mut self, f: impl FnOnce($out) -> E + 'a) -> Self {
            self.branches.ready = Some(Box::new(move |v| f(v).into()));
            self
        }

        /// Builds the element shown when the work failed, from the error message.
        ///
        /// # Example
        /// ```
        #[doc = $error]
        /// ```
        pub fn error<E: Into<Element>>(mut self, f: impl FnOnce(String) -> E + 'a) -> Self {
            self.branches.error = Some(Box::new(move |m| f(m).into()));
            self
        }

        /// The element shown when the work was cancelled (else the error branch gets
        /// `"cancelled"`).
        ///
        /// # Example
        /// ```
        #[doc = $cancelled]
        /// ```
        pub fn cancelled(mut self, element: impl Into<Element>) -> Self {
            self.branches.cancelled = Some(element.into());
            self
        }
    };
}

/// Builder returned by [`match_task`]; ends with `.into()` (an [`Element`]).
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// use std::time::Duration;
/// let session = Session::new();
/// let h = session.enter(|| submit("answer", || 42));
/// assert!(session.wait_idle(Duration::from_secs(10)));
/// let el: Element = match_task(&h).ready(|n| Text(format!("Ready: {n}"))).into();
/// assert_eq!(render_text(&el), "Ready: 42\n");
/// ```
#[must_use = "a MatchTask does nothing until converted with `.into()`"]
pub struct MatchTask<'a, T> {
    handle: &'a TaskHandle<T>,
    branches: Branches<'a, T>,
}

impl<'a, T: Clone + Send + 'static> MatchTask<'a, T> {
    builder_methods!(
        ready_doc: "Builds the element shown when the work is done, from its result.",
        out: T,
        examples: {
            loading: r#"use streamtree::prelude::*;
let session = Session::builder().max_workers(1).build();
let (tx, rx) = std::sync::mpsc::channel::<()>();
let h = session.enter(|| submit("slow", move || rx.recv().ok()));
assert_eq!(render_text(&match_task(&h).loading("Please wait").into()), "Please wait\n");
tx.send(()).unwrap();"#,
            loading_with: r#"use streamtree::prelude::*;
let session = Session::builder().max_workers(1).build();
let (tx, rx) = std::sync::mpsc::channel::<()>();
let h = session.enter(|| submit("slow", move || rx.recv().ok()));
session.enter(|| set_task_progress("slow", 0.5));
let el = match_task(&h).loading_with(|p| Text(format!("at {}", p.unwrap()))).into();
assert_eq!(render_text(&el), "at 50%\n");
tx.send(()).unwrap();"#,
            ready: r#"use streamtree::prelude::*;
let session = Session::new();
let (ok, bad) = session.enter(|| (submit("ok", || 2), submit_fallible::<i32, _>("bad", || Err("no"))));
assert!(session.wait_idle(std::time::Duration::from_secs(10)));
let el = match_task(&ok).ready(|n| Text(format!("got {n}"))).into();
assert_eq!(render_text(&el), "got 2\n");
# drop(bad);"#,
            error: r#"use streamtree::prelude::*;
let session = Session::new();
let (ok, bad) = session.enter(|| (submit("ok", || 2), submit_fallible::<i32, _>("bad", || Err("no"))));
assert!(session.wait_idle(std::time::Duration::from_secs(10)));
let el = match_task(&bad).error(|e| Text(format!("failed: {e}"))).into();
assert_eq!(render_text(&el), "failed: no\n");
# drop(ok);"#,
            cancelled: r#"use streamtree::prelude::*;
let session = Session::builder().max_workers(1).build();
let (tx, rx) = std::sync::mpsc::channel::<()>();
let (busy, queued) = session.enter(|| (submit("busy", move || rx.recv().ok()), submit("queued", || 1)));
queued.cancel(); // still pending behind "busy": cancelled at once
assert_eq!(render_text(&match_task(&queued).cancelled("Stopped.").into()), "Stopped.\n");
tx.send(()).unwrap();
# drop(busy);"#,
        },
    );
}

impl<T: Clone + Send + 'static> From<MatchTask<'_, T>> for Element {
    fn from(m: MatchTask<'_, T>) -> Element {
        m.branches.pick(read(m.handle))
    }
}

/// Starts a loading / ready / error / cancelled switch over one task.
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// let session = Session::builder().max_workers(1).build();
/// let (gate, open) = std::sync::mpsc::channel::<()>();
/// let h = session.enter(|| submit("slow", move || { open.recv().ok(); 1 }));
/// let el: Element = match_task(&h).loading(Text("wait")).ready(|n| Text(n.to_string())).into();
/// assert_eq!(render_text(&el), "wait\n");
/// gate.send(()).unwrap();
/// ```
pub fn match_task<T: Clone + Send + 'static>(handle: &TaskHandle<T>) -> MatchTask<'_, T> {
    MatchTask {
        handle,
        branches: Branches::default(),
    }
}

/// Submits `jobs` in sorted key order and returns their handles in that order, so a
/// page that lists them is stable whatever order the jobs came in. Blank or duplicate
/// keys panic before anything starts, as with [`submit_many`].
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// use std::time::Duration;
/// let session = Session::new();
/// let jobs = ["b", "a", "c"].map(|k| (k, move || k.len()));
/// let hs = session.enter(|| submit_many_ordered(jobs));
/// assert_eq!(hs.iter().map(|h| h.key()).collect::<Vec<_>>(), ["a", "b", "c"]);
/// ```
#[track_caller]
pub fn submit_many_ordered<K, T, F>(jobs: impl IntoIterator<Item = (K, F)>) -> Vec<TaskHandle<T>>
where
    K: AsRef<str>,
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let mut jobs: Vec<(K, F)> = jobs.into_iter().collect();
    // Stable: duplicates stay adjacent and in input order for submit_many's check.
    jobs.sort_by(|a, b| a.0.as_ref().cmp(b.0.as_ref()));
    submit_many(jobs)
}

// After `builder_methods!`: macros are in scope only below their definition.
mod many;

#[cfg(test)]
mod tests;
