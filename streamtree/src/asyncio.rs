//! Background tasks: a component calls [`submit`] on every rerun; the first call for a key
//! starts the closure on a worker thread, later reruns get a [`TaskHandle`] to the same
//! task and poll it.
//!
//! The free functions resolve the session they act on like this: the session entered on
//! this thread ([`Session::enter`](crate::Session::enter), a rerun) if any, else — on a
//! worker thread — the session of the task the worker is running. So inside a task,
//! [`set_task_progress`], [`is_task_cancel_requested`], [`complete_cancelled`] and
//! follow-up [`submit`]s reach the task's own session.
//!
//! A task that can be cancelled takes a [`TaskContext`] and returns a `Result`
//! ([`submit_fallible_with`]): `ctx.check_cancelled()?` stops it, and it ends
//! [`Cancelled`](TaskStatus::Cancelled).
//!
//! ```
//! use std::time::Duration;
//! use streamtree::prelude::*;
//!
//! let session = Session::new();
//! let sub = session.subscribe();
//! let handle = session.enter(|| {
//!     submit_fallible_with("report", |ctx: &TaskContext| {
//!         for i in 0..4 {
//!             ctx.check_cancelled()?;
//!             ctx.set_progress((i as f64 / 4.0, format!("part {i}")));
//!         }
//!         Ok::<_, Cancelled>("report ready".to_string())
//!     })
//! });
//! while !handle.status().is_terminal() {
//!     assert!(sub.wait_timeout(Duration::from_secs(10)), "the report finishes");
//! }
//! assert_eq!(handle.result().as_deref(), Some("report ready"));
//! assert_eq!(handle.progress().unwrap().to_string(), "75% part 3");
//! ```
//!
//! # Task life-cycle
//!
//! [`task`] describes a task by more than its key, and [`TaskBuilder::run`] starts it:
//!
//! - **Inputs.** `task("sales").input(&region).run(f)`: the task's identity is (key,
//!   input). Running the key with another input cancels the previous input's unfinished
//!   task (as Dash cancels superseded callbacks); finished ones stay cached, so switching
//!   back shows them at once. [`keep_previous`](TaskBuilder::keep_previous) shows the
//!   previous input's result while the new one loads.
//! - **Refresh.** [`TaskHandle::refresh`] (from a button handler) marks a finished task;
//!   the next rerun's `run` or `submit` runs it again while the old result stays visible
//!   ([`TaskHandle::is_refreshing`]). [`stale_after`](TaskBuilder::stale_after) does the
//!   same for results older than an age.
//! - **Retry and timeout.** [`retry`](TaskBuilder::retry) with a [`Retry`] re-runs failed
//!   attempts after an exponential, jittered backoff (no worker waits);
//!   [`timeout`](TaskBuilder::timeout) fails an attempt still running after a limit, at
//!   once, and never starts a second closure of the task before the first returned.
//! - **Shared and collected.** [`shared`](TaskBuilder::shared) makes one task per (key,
//!   input) for all sessions of a runtime; [`gc_after`](TaskBuilder::gc_after) (default 5
//!   minutes) drops finished tasks no rerun read for that long.
//! - **Timing.** [`TaskHandle::attempt`], [`elapsed`](TaskHandle::elapsed),
//!   [`eta`](TaskHandle::eta), [`queue_position`](TaskHandle::queue_position), and the same
//!   in [`TaskSummary`].
//!
//! ```
//! use std::time::Duration;
//! use streamtree::prelude::*;
//!
//! let session = Session::new();
//! let load = |region: &'static str| {
//!     session.enter(|| {
//!         task("sales")
//!             .input(region)
//!             .keep_previous()
//!             .retry(Retry::times(3).backoff(Duration::from_millis(100)))
//!             .timeout(Duration::from_secs(30))
//!             .run(move |ctx: &TaskContext| {
//!                 ctx.check_cancelled()?;
//!                 Ok::<_, Cancelled>(format!("sales of {region}"))
//!             })
//!     })
//! };
//! let north = load("north");
//! assert!(session.wait_idle(Duration::from_secs(10)));
//! assert_eq!(north.result().as_deref(), Some("sales of north"));
//! assert_eq!((north.attempt(), north.is_refreshing()), (1, false));
//! north.refresh(); // the next rerun runs it again, showing the old result meanwhile
//! let north = load("north");
//! assert_eq!(north.result().as_deref(), Some("sales of north"));
//! assert!(session.wait_idle(Duration::from_secs(10)));
//! ```

use std::collections::HashSet;
use std::fmt;

use crate::runtime::{Slot, current_set, find_current, is_own_task};

pub use crate::runtime::{
    Cancelled, Progress, Retry, TaskBuilder, TaskContext, TaskHandle, TaskStatus, TaskSummary,
};

/// Bytes of one task's bookkeeping slot, excluding its key's text and its result: what a
/// finished task costs a session until it is dismissed. Not API: printed by the tasks
/// bench and checked by the runtime's unit tests.
#[doc(hidden)]
pub const TASK_SLOT_BYTES: usize = crate::runtime::MAX_SLOT_BYTES;

#[track_caller]
pub(crate) fn check_key(key: &str) {
    if key.trim().is_empty() {
        panic!("task key {key:?} is blank: give every task a non-empty key that names its work");
    }
}

#[track_caller]
pub(crate) fn no_session() -> ! {
    panic!(
        "no streamtree Session is current on this thread: submit tasks inside a rerun \
         (`session.rerun(..)`, `AppTest::run`), inside `session.enter(|| ..)`, or from a task"
    )
}

#[track_caller]
fn submit_inner<T, F>(key: &str, f: F) -> TaskHandle<T>
where
    T: Send + 'static,
    F: FnOnce(&Slot) -> Result<T, String> + Send + 'static,
{
    check_key(key);
    // Cloned out of the thread-local: submitting notifies hooks, which may enter sessions.
    let Some(set) = current_set() else {
        no_session()
    };
    set.submit(key, f)
}

/// Starts `f` on a worker under `key`, or returns the handle of the task already under
/// `key` in the current session (then `f` is dropped, never run).
///
/// # Panics
/// On a blank key; when `key` holds a task with another result type (the message names
/// the key and both types); when no session is current and this is not a task's worker.
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// let session = Session::new();
/// let first = session.enter(|| submit("load", || 1));
/// let again = session.enter(|| submit("load", || unreachable!("never runs")));
/// session.wait_idle(std::time::Duration::from_secs(10));
/// assert_eq!(again.result(), Some(1));
/// assert_eq!(first.result(), again.result());
/// ```
///
/// The closure and its result cross to a worker thread, so both must be `Send`:
/// ```compile_fail,E0277
/// use streamtree::prelude::*;
/// let rc = std::rc::Rc::new(1);
/// Session::new().enter(|| submit("k", move || *rc));
/// ```
/// ```compile_fail,E0277
/// use streamtree::prelude::*;
/// Session::new().enter(|| submit("k", || std::rc::Rc::new(1)));
/// ```
#[track_caller]
pub fn submit<T: Send + 'static>(
    key: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> TaskHandle<T> {
    submit_inner(key, move |_: &Slot| Ok(f()))
}

/// A task described by its key and options, started by
/// [`run`](TaskBuilder::run): `task("sales").input(&region).run(f)`. The same key rules
/// as [`submit`]; `task(key).run(f)` with no input is the same task as `submit(key, ..)`.
/// See the module's "Task life-cycle" section.
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// let s = Session::new();
/// let h = s.enter(|| task("answer").run(|_: &TaskContext| Ok::<_, String>(42)));
/// s.wait_idle(std::time::Duration::from_secs(10));
/// assert_eq!(h.result(), Some(42));
/// ```
pub fn task(key: &str) -> TaskBuilder<'_> {
    TaskBuilder::new(key)
}

/// Like [`submit`], for work that can fail: `Err(e)` ends the task as
/// [`TaskStatus::Error`] with `e.to_string()`, or as [`TaskStatus::Cancelled`] when a
/// cancel was requested (the `Err` is then taken as the task stopping on it).
///
/// # Panics
/// As [`submit`].
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// let session = Session::new();
/// let h = session.enter(|| submit_fallible("parse", || "x1".parse::<u32>()));
/// session.wait_idle(std::time::Duration::from_secs(10));
/// assert_eq!(h.status(), TaskStatus::Error);
/// assert_eq!(h.error().as_deref(), Some("invalid digit found in string"));
/// ```
#[track_caller]
pub fn submit_fallible<T: Send + 'static, E: fmt::Display>(
    key: &str,
    f: impl FnOnce() -> Result<T, E> + Send + 'static,
) -> TaskHandle<T> {
    submit_inner(key, move |slot: &Slot| ended(slot, f()))
}

/// A fallible closure's outcome: `Err` while a cancel is requested ends the task
/// Cancelled (the request is honoured here, on the task's own worker), any other `Err`
/// ends it Error with the message.
pub(crate) fn ended<T, E: fmt::Display>(slot: &Slot, outcome: Result<T, E>) -> Result<T, String> {
    outcome.map_err(|e| {
        slot.honour_cancel();
        e.to_string()
    })
}

/// Like [`submit`], but the closure gets a [`TaskContext`] for its own task, so it need
/// not repeat the key.
///
/// # Panics
/// As [`submit`].
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// let session = Session::new();
/// let h = session.enter(|| {
///     submit_with("sum", |ctx: &TaskContext| {
///         ctx.set_progress((0.5, "halfway"));
///         (1..=10).sum::<u32>()
///     })
/// });
/// session.wait_idle(std::time::Duration::from_secs(10));
/// assert_eq!(h.result(), Some(55));
/// assert_eq!(h.progress().unwrap().to_string(), "50% halfway");
/// ```
#[track_caller]
pub fn submit_with<T: Send + 'static>(
    key: &str,
    f: impl FnOnce(&TaskContext<'_>) -> T + Send + 'static,
) -> TaskHandle<T> {
    submit_inner(key, move |slot: &Slot| Ok(f(&TaskContext::new(slot))))
}

/// [`submit_with`] for work that can fail or stop: the closure gets its [`TaskContext`]
/// and returns a `Result`. `Err(e)` while a cancel is requested (typically
/// [`Cancelled`] from [`TaskContext::check_cancelled`] through `?`) ends the task
/// [`TaskStatus::Cancelled`]; any other `Err(e)` ends it [`TaskStatus::Error`] with
/// `e.to_string()`.
///
/// # Panics
/// As [`submit`].
///
/// # Example
/// ```
/// use std::time::Duration;
/// use streamtree::prelude::*;
/// let session = Session::new();
/// let (started_tx, started) = std::sync::mpsc::channel();
/// let h = session.enter(|| {
///     submit_fallible_with("crunch", move |ctx: &TaskContext| {
///         started_tx.send(()).unwrap();
///         ctx.wait_cancelled(Duration::from_secs(60));
///         ctx.check_cancelled()?;
///         Ok::<u32, String>(42)
///     })
/// });
/// started.recv().unwrap();
/// h.cancel();
/// assert!(session.wait_idle(Duration::from_secs(10)));
/// assert_eq!(h.status(), TaskStatus::Cancelled);
/// assert_eq!(h.error(), None);
/// ```
#[track_caller]
pub fn submit_fallible_with<T: Send + 'static, E: fmt::Display>(
    key: &str,
    f: impl FnOnce(&TaskContext<'_>) -> Result<T, E> + Send + 'static,
) -> TaskHandle<T> {
    submit_inner(key, move |slot: &Slot| {
        ended(slot, f(&TaskContext::new(slot)))
    })
}

/// Submits several tasks at once and returns their handles in input order. Keys already
/// holding a task return that task's handle.
///
/// # Panics
/// Before starting anything: on a blank or duplicate key (naming it), or a key holding a
/// task with another result type. Also as [`submit`] when no session is current.
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// let session = Session::new();
/// let hs = session.enter(|| submit_many((1..=3).map(|i| (format!("sq{i}"), move || i * i))));
/// session.wait_idle(std::time::Duration::from_secs(10));
/// let results: Vec<_> = hs.iter().map(|h| h.result().unwrap()).collect();
/// assert_eq!(results, [1, 4, 9]);
/// ```
#[track_caller]
pub fn submit_many<K: AsRef<str>, T: Send + 'static, F: FnOnce() -> T + Send + 'static>(
    jobs: impl IntoIterator<Item = (K, F)>,
) -> Vec<TaskHandle<T>> {
    let jobs: Vec<(K, F)> = jobs.into_iter().collect();
    let mut seen = HashSet::with_capacity(jobs.len());
    for (key, _) in &jobs {
        let key = key.as_ref();
        check_key(key);
        if !seen.insert(key) {
            panic!("duplicate task key `{key}` in submit_many: every job needs its own key");
        }
    }
    let Some(set) = current_set() else {
        no_session()
    };
    for (key, _) in &jobs {
        set.check_type::<T>(key.as_ref());
    }
    jobs.into_iter()
        .map(|(key, f)| set.submit(key.as_ref(), move |_: &Slot| Ok(f())))
        .collect()
}

/// Records progress for the task under `key` in the current session (from its worker or
/// the session's thread). Ignored once the task is finished, or if there is no such task.
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// let session = Session::new();
/// let h = session.enter(|| submit("dl", || set_task_progress("dl", 0.3)));
/// session.wait_idle(std::time::Duration::from_secs(10));
/// assert_eq!(h.progress().unwrap().fraction(), Some(0.3));
/// ```
pub fn set_task_progress(key: &str, value: impl Into<Progress>) {
    if let Some(slot) = find_current(key) {
        let change = slot.set_progress(value.into());
        slot.publish(change);
    }
}

/// Whether the task under `key` in the current session has a cancel request; false if
/// there is no such task. Workers check this to stop early (a request stays visible until
/// the task's closure returns); inside [`submit_with`] closures,
/// [`TaskContext::check_cancelled`] and [`TaskContext::wait_cancelled`] do the same
/// without the key.
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// assert!(!Session::new().enter(|| is_task_cancel_requested("nothing")));
/// ```
pub fn is_task_cancel_requested(key: &str) -> bool {
    find_current(key).is_some_and(|slot| slot.is_cancel_requested())
}

/// Called by a task on its own worker: ends it as [`TaskStatus::Cancelled`] when its
/// closure returns, if a cancel was requested (its return value is then discarded); a
/// no-op without a request. Called from any other thread (the session's, another task's),
/// it does nothing: only a task's own closure decides how it ends, and while it runs the
/// task stays Running, its cancel request visible, and its key taken.
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// let session = Session::new();
/// let (started_tx, started) = std::sync::mpsc::channel();
/// let (go_tx, go) = std::sync::mpsc::channel::<()>();
/// let h = session.enter(|| submit("long", move || {
///     started_tx.send(()).unwrap();
///     go.recv().unwrap();
///     if is_task_cancel_requested("long") {
///         complete_cancelled("long");
///     }
///     7
/// }));
/// started.recv().unwrap();
/// h.cancel();
/// session.enter(|| complete_cancelled("long")); // not its worker: no effect
/// assert_eq!(h.status(), TaskStatus::Running);
/// go_tx.send(()).unwrap();
/// session.wait_idle(std::time::Duration::from_secs(10));
/// assert_eq!(h.status(), TaskStatus::Cancelled);
/// assert_eq!(h.result(), None);
/// ```
pub fn complete_cancelled(key: &str) {
    if let Some(slot) = find_current(key)
        && is_own_task(&slot)
    {
        slot.honour_cancel();
    }
}

/// Removes the finished (Done, Error or Cancelled) task under `key` from the current
/// session, freeing the key; its handles report [`TaskStatus::Missing`]. False for
/// Pending, Running or absent keys.
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// let session = Session::new();
/// let h = session.enter(|| submit("once", || 1));
/// session.wait_idle(std::time::Duration::from_secs(10));
/// assert!(session.enter(|| dismiss_task("once")));
/// assert_eq!(h.status(), TaskStatus::Missing);
/// assert!(!session.enter(|| dismiss_task("once")));
/// ```
pub fn dismiss_task(key: &str) -> bool {
    current_set().is_some_and(|set| set.dismiss(key))
}

/// [`dismiss_task`] for each key; returns how many were removed.
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// let session = Session::new();
/// session.enter(|| { submit("a", || ()); submit("b", || ()); });
/// session.wait_idle(std::time::Duration::from_secs(10));
/// assert_eq!(session.enter(|| dismiss_tasks(["a", "b", "c"])), 2);
/// ```
pub fn dismiss_tasks<K: AsRef<str>>(keys: impl IntoIterator<Item = K>) -> usize {
    let Some(set) = current_set() else {
        return 0;
    };
    keys.into_iter()
        .filter(|key| set.dismiss(key.as_ref()))
        .count()
}

/// Cancels every unfinished task under `key` in the current session (whatever its input,
/// shared ones it uses included), as [`TaskHandle::cancel`] does: a Pending task ends
/// Cancelled, a Running one gets a cancel request. Returns whether any task changed. For
/// actions that only know a task's key, like the task inspector's buttons.
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// let s = Session::builder().max_workers(1).build();
/// let (tx, rx) = std::sync::mpsc::channel::<()>();
/// let (_blocker, queued) = s.enter(|| (submit("block", move || rx.recv().ok()), submit("q", || 1)));
/// assert!(s.enter(|| cancel_task("q")));
/// assert_eq!(queued.status(), TaskStatus::Cancelled);
/// assert!(!s.enter(|| cancel_task("q")), "a finished task is left alone");
/// tx.send(()).unwrap();
/// assert!(s.wait_idle(std::time::Duration::from_secs(10)));
/// ```
pub fn cancel_task(key: &str) -> bool {
    let Some(set) = current_set() else {
        return false;
    };
    let mut changed = false;
    for slot in set.slots_with_key(key) {
        let change = slot.cancel();
        changed |= !matches!(change, crate::runtime::Change::None);
        slot.publish(change);
    }
    changed
}

/// Asks for a new run of every finished task under `key` in the current session, as
/// [`TaskHandle::refresh`] does (the next rerun's `run` or `submit` for the key starts it).
/// Returns whether any task was marked. Unfinished tasks are left alone.
///
/// # Example
/// ```
/// use std::sync::atomic::{AtomicU32, Ordering};
/// use std::time::Duration;
/// use streamtree::prelude::*;
/// static RUNS: AtomicU32 = AtomicU32::new(0);
/// let s = Session::new();
/// let load = || task("n").run(|_| Ok::<_, String>(RUNS.fetch_add(1, Ordering::SeqCst)));
/// s.enter(load);
/// assert!(s.wait_idle(Duration::from_secs(10)));
/// assert!(s.enter(|| refresh_task("n")));
/// let h = s.enter(load); // the next rerun starts the new run
/// assert!(s.wait_idle(Duration::from_secs(10)));
/// assert_eq!(h.result(), Some(1));
/// assert!(!s.enter(|| refresh_task("absent")));
/// ```
pub fn refresh_task(key: &str) -> bool {
    let Some(set) = current_set() else {
        return false;
    };
    let mut changed = false;
    for slot in set.slots_with_key(key) {
        let change = slot.request_refresh();
        changed |= !matches!(change, crate::runtime::Change::None);
        slot.publish(change);
    }
    changed
}

/// One [`TaskSummary`] per task of the current session, sorted by key; empty without a
/// session.
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// let session = Session::new();
/// session.enter(|| { submit("b", || ()); submit("a", || ()); });
/// let keys: Vec<String> = session.enter(summarize_async_tasks).into_iter().map(|r| r.key).collect();
/// assert_eq!(keys, ["a", "b"]);
/// ```
pub fn summarize_async_tasks() -> Vec<TaskSummary> {
    current_set().map(|set| set.summaries()).unwrap_or_default()
}

/// One consistent reading of a task: its status with the progress, result and error that
/// went with it, all taken under one acquisition of the task's lock (so a dismissal or a
/// finish cannot fall between two reads).
pub(crate) struct TaskSnapshot<T> {
    pub(crate) status: TaskStatus,
    /// The last progress, while Pending or Running only.
    pub(crate) progress: Option<Progress>,
    /// `Some` exactly when `status` is Done.
    pub(crate) result: Option<T>,
    /// `Some` exactly when `status` is Error.
    pub(crate) error: Option<String>,
    /// When `status` is not Done: the value [`TaskHandle::result`] shows meanwhile (a
    /// refresh's previous result, keep_previous's previous input's), if any.
    pub(crate) shown: Option<T>,
    /// [`TaskHandle::is_refreshing`] in the same reading.
    pub(crate) refreshing: bool,
}

/// Reads `handle` once (see [`TaskSnapshot`]). The result's `Arc` is taken under the
/// task's lock and `T` is cloned after it is released, as [`TaskHandle::result`] does.
pub(crate) fn snapshot<T: Clone + 'static>(handle: &TaskHandle<T>) -> TaskSnapshot<T> {
    let (status, progress, value, error) = handle.slot().with_state(|st| {
        (
            st.status(),
            // Progress describes unfinished work only: not a finished or dismissed task.
            matches!(st.status(), TaskStatus::Pending | TaskStatus::Running)
                .then(|| st.progress().cloned())
                .flatten(),
            st.value().cloned(),
            st.error().map(str::to_owned),
        )
    });
    let result = value.as_ref().map(|v| {
        let cell = v
            .downcast_ref::<std::sync::Mutex<T>>()
            .expect("a slot's value has the type its handles were created with");
        cell.lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    });
    // `value` may be the last reference (dismissed meanwhile): dropped outside every lock.
    drop(value);
    let (shown, refreshing) = if status == TaskStatus::Done {
        (None, false)
    } else {
        let (v, refreshing) = handle.slot().shown();
        (v.as_ref().map(clone_value::<T>), refreshing)
    };
    TaskSnapshot {
        status,
        progress,
        result,
        error,
        shown,
        refreshing,
    }
}

/// A clone of a task's value (under its own mutex, no runtime lock held).
fn clone_value<T: Clone + 'static>(v: &crate::runtime::TaskValue) -> T {
    v.downcast_ref::<std::sync::Mutex<T>>()
        .expect("a slot's value has the type its handles were created with")
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone()
}
