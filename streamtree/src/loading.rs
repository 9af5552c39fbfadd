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
//!
//! A task that is not finished but has a value to show (a refresh in progress) takes the
//! ready branch; [`ready_with`](MatchTask::ready_with) is also told it is refreshing.
//!
//! With [`delay(d)`](MatchTask::delay), the loading branch waits: for the first `d` after
//! a task was submitted nothing is shown in its place, so a task that finishes within `d`
//! never flashes a spinner. A read inside the delay asks the session being rerun (else
//! the task's own) to be notified at the deadline (`TaskSet::notify_at`), so the live
//! runners rerun then by themselves.

use std::time::{Duration, Instant};

use crate::asyncio::{Progress, TaskHandle, TaskStatus, snapshot, submit_many};
use crate::element::Element;
use crate::elements::{ErrorBox, ProgressBar, Text};
use crate::runtime::current_set;

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

/// The branches shared by both builders, and their delay; `O` is what the ready branch
/// receives (with whether it is refreshing).
struct Branches<'a, O> {
    loading: Loading<'a>,
    ready: Option<Box<dyn FnOnce(O, bool) -> Element + 'a>>,
    error: Option<Box<dyn FnOnce(String) -> Element + 'a>>,
    cancelled: Option<Element>,
    /// How long after its submission an unfinished task shows nothing instead of loading.
    delay: Option<Duration>,
}

impl<O> Default for Branches<'_, O> {
    fn default() -> Self {
        Branches {
            loading: Loading::Default,
            ready: None,
            error: None,
            cancelled: None,
            delay: None,
        }
    }
}

/// What a task (or a group of tasks, by the precedence in the module docs) amounts to.
enum Outcome<O> {
    Loading(Option<Progress>),
    /// Not finished, but still inside the delay: nothing is shown yet (the progress is
    /// kept for a group's sum).
    Waiting(Option<Progress>),
    /// The value to show, and whether it is not the current run's (refreshing).
    Ready(O, bool),
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
            Outcome::Waiting(_) => Element::empty(),
            Outcome::Ready(value, refreshing) => match self.ready {
                Some(f) => f(value, refreshing),
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
/// a finished task as loading). With a `delay`, an unfinished task inside it is
/// `Waiting`, and a wake-up is asked for at its deadline.
fn read<T: Clone + Send + 'static>(handle: &TaskHandle<T>, delay: Option<Duration>) -> Outcome<T> {
    let snap = snapshot(handle);
    // Done: its result; unfinished: the value shown meanwhile (a refresh's previous
    // result, keep_previous's previous input's), read in the same snapshot as the status.
    let refreshing = snap.refreshing;
    match (snap.status, snap.result.or(snap.shown), snap.error) {
        (TaskStatus::Error, _, Some(message)) => Outcome::Error(message),
        (TaskStatus::Cancelled, _, _) => Outcome::Cancelled,
        (_, Some(value), _) => Outcome::Ready(value, refreshing),
        (status, None, _) => {
            debug_assert!(
                !matches!(status, TaskStatus::Done | TaskStatus::Error),
                "a snapshot holds the result of a Done task and the error of a failed one"
            );
            match delay.and_then(|d| waiting_until(handle, d)) {
                Some(deadline) => {
                    wake_at(handle, deadline);
                    Outcome::Waiting(snap.progress)
                }
                None => Outcome::Loading(snap.progress),
            }
        }
    }
}

/// The end of `handle`'s delay if it is still ahead: `delay` after the task's submission.
fn waiting_until<T>(handle: &TaskHandle<T>, delay: Duration) -> Option<Instant> {
    let submitted = handle.slot().with_state(|st| st.submitted());
    let deadline = submitted.checked_add(delay)?;
    (Instant::now() < deadline).then_some(deadline)
}

/// Asks for a notification at `deadline`: to the session being rerun, which the live
/// runners watch, or, outside any, to the task's own session.
fn wake_at<T>(handle: &TaskHandle<T>, deadline: Instant) {
    if let Some(set) = current_set().or_else(|| handle.slot().set_upgrade()) {
        set.notify_at(deadline);
    }
}

/// The builder methods both builders share, each with its own doc examples (a code
/// block's body per method, so `MatchTaskMany`'s docs show `match_task_many`).
macro_rules! builder_methods {
    (
        ready_doc: $ready_doc:literal,
        ready_with_doc: $ready_with_doc:literal,
        delay_doc: $delay_doc:literal,
        out: $out:ty,
        examples: {
            loading: $loading:literal,
            loading_with: $loading_with:literal,
            ready: $ready:literal,
            ready_with: $ready_with:literal,
            delay: $delay:literal,
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
            self.branches.ready = Some(Box::new(move |v, _| f(v).into()));
            self
        }

        #[doc = $ready_with_doc]
        ///
        /// # Example
        /// ```
        #[doc = $ready_with]
        /// ```
        pub fn ready_with<E: Into<Element>>(
            mut self,
            f: impl FnOnce($out, bool) -> E + 'a,
        ) -> Self {
            self.branches.ready = Some(Box::new(move |v, refreshing| f(v, refreshing).into()));
            self
        }

        #[doc = $delay_doc]
        ///
        /// # Example
        /// ```
        #[doc = $delay]
        /// ```
        pub fn delay(mut self, d: Duration) -> Self {
            self.branches.delay = Some(d);
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
        ready_with_doc: "As [`ready`](Self::ready), also told whether the task is refreshing \
            (see [`TaskHandle::is_refreshing`]): the value shown is then not the current run's.",
        delay_doc: "For the first `d` after the task was submitted, shows nothing instead of \
            the loading branch, so a task that finishes within `d` never shows it; a slower \
            one shows it from `d` on. A read inside the delay asks for a notification at its \
            end, so live runners rerun then by themselves.",
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
            ready_with: r#"use streamtree::prelude::*;
let session = Session::new();
let h = session.enter(|| submit("n", || 2));
assert!(session.wait_idle(std::time::Duration::from_secs(10)));
let el = match_task(&h)
    .ready_with(|n, refreshing| Text(format!("{n}{}", if refreshing { " (updating)" } else { "" })))
    .into();
assert_eq!(render_text(&el), "2\n");"#,
            delay: r#"use std::time::Duration;
use streamtree::prelude::*;
let session = Session::builder().max_workers(1).build();
let (tx, rx) = std::sync::mpsc::channel::<()>();
let h = session.enter(|| submit("slow", move || rx.recv().ok()));
// Just submitted: inside the delay, nothing instead of "Loading…".
let el = match_task(&h).delay(Duration::from_secs(60)).into();
assert_eq!(render_text(&el), "");
// No delay: the loading branch at once.
assert_eq!(render_text(&match_task(&h).into()), "Loading…\n");
tx.send(()).unwrap();"#,
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
        let outcome = read(m.handle, m.branches.delay);
        m.branches.pick(outcome)
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
