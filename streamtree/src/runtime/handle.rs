//! [`TaskHandle`]: a task seen from outside (any thread), and [`TaskContext`]: a running
//! task's view of itself.

use std::fmt;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex, PoisonError};

use std::time::{Duration, Instant};

use super::cancelled::Cancelled;
use super::current::is_own_task;
use super::slot::Slot;
use super::status::{Progress, TaskStatus};

/// A handle to one task of a session: poll its status, result, error and progress, or
/// cancel it. Cheap to clone, usable from any thread, and it outlives reruns; after the
/// task is dismissed it reports [`TaskStatus::Missing`].
///
/// # Example
/// ```
/// use std::time::Duration;
/// use streamtree::prelude::*;
/// let session = Session::new();
/// let h = session.enter(|| submit("answer", || 6 * 7));
/// assert!(session.wait_idle(Duration::from_secs(10)));
/// assert_eq!(h.key(), "answer");
/// assert_eq!(h.status(), TaskStatus::Done);
/// assert_eq!(h.result(), Some(42));
/// assert_eq!(h.error(), None);
/// ```
///
/// Only [`result`](Self::result) needs `T: Clone`; everything else works for any result:
/// ```
/// use std::time::Duration;
/// use streamtree::prelude::*;
/// struct Connection; // not Clone
/// let session = Session::new();
/// let h: TaskHandle<Connection> = session.enter(|| submit("connect", || Connection));
/// assert!(session.wait_idle(Duration::from_secs(10)));
/// assert_eq!((h.key(), h.status()), ("connect", TaskStatus::Done));
/// assert_eq!((h.error(), h.progress(), h.is_cancel_requested()), (None, None, false));
/// h.cancel(); // a finished task is left alone
/// ```
pub struct TaskHandle<T> {
    slot: Arc<Slot>,
    /// `fn() -> T`: the handle only hands out clones of `T`, so it is `Send + Sync` for any
    /// `T` (the value itself sits behind its own mutex in the slot).
    _result: PhantomData<fn() -> T>,
}

impl<T> Clone for TaskHandle<T> {
    fn clone(&self) -> Self {
        TaskHandle {
            slot: self.slot.clone(),
            _result: PhantomData,
        }
    }
}

impl<T> fmt::Debug for TaskHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskHandle")
            .field("key", &self.slot.key())
            .field("status", &self.slot.status())
            .finish()
    }
}

impl<T> TaskHandle<T> {
    /// The task's slot, for crate-internal readers (`asyncio::snapshot`).
    pub(crate) fn slot(&self) -> &Slot {
        &self.slot
    }

    /// Wraps a slot known to hold a task with result type `T`.
    pub(crate) fn new(slot: Arc<Slot>) -> TaskHandle<T>
    where
        T: 'static,
    {
        debug_assert!(
            slot.is_of::<T>(),
            "a handle's type is its slot's result type"
        );
        TaskHandle {
            slot,
            _result: PhantomData,
        }
    }

    /// The task's key.
    ///
    /// # Example
    /// ```
    /// use streamtree::prelude::*;
    /// let s = Session::new();
    /// assert_eq!(s.enter(|| submit("k", || ())).key(), "k");
    /// ```
    pub fn key(&self) -> &str {
        self.slot.key()
    }

    /// The task's status; [`TaskStatus::Missing`] once dismissed.
    ///
    /// # Example
    /// ```
    /// use streamtree::prelude::*;
    /// let s = Session::new();
    /// let h = s.enter(|| submit("k", || ()));
    /// s.wait_idle(std::time::Duration::from_secs(10));
    /// assert_eq!(h.status(), TaskStatus::Done);
    /// ```
    pub fn status(&self) -> TaskStatus {
        self.slot.status()
    }

    /// The error message: `Some` only when the task is Error (it returned `Err` through
    /// [`submit_fallible`](crate::asyncio::submit_fallible), or panicked).
    ///
    /// # Example
    /// ```
    /// use streamtree::prelude::*;
    /// let s = Session::new();
    /// let h = s.enter(|| submit_fallible("f", || Err::<u8, _>("disk full")));
    /// s.wait_idle(std::time::Duration::from_secs(10));
    /// assert_eq!(h.error().as_deref(), Some("disk full"));
    /// ```
    pub fn error(&self) -> Option<String> {
        self.slot.with_state(|st| st.error().map(str::to_owned))
    }

    /// The last progress the task reported (kept after it finished).
    ///
    /// # Example
    /// ```
    /// use streamtree::prelude::*;
    /// let s = Session::new();
    /// let h = s.enter(|| submit("p", || set_task_progress("p", (0.5, "half"))));
    /// s.wait_idle(std::time::Duration::from_secs(10));
    /// assert_eq!(h.progress().unwrap().to_string(), "50% half");
    /// ```
    pub fn progress(&self) -> Option<Progress> {
        self.slot.with_state(|st| st.progress().cloned())
    }

    /// Cancels: a Pending task becomes Cancelled at once and never runs; a Running task
    /// gets a cancel request its closure may honour (it stays Running until the closure
    /// returns); a finished task is left alone.
    ///
    /// # Example
    /// ```
    /// use streamtree::prelude::*;
    /// let s = Session::builder().max_workers(1).build();
    /// let (tx, rx) = std::sync::mpsc::channel::<()>();
    /// let (blocker, queued) = s.enter(|| (submit("block", move || rx.recv().ok()), submit("q", || 1)));
    /// queued.cancel();
    /// assert_eq!(queued.status(), TaskStatus::Cancelled);
    /// tx.send(()).unwrap();
    /// s.wait_idle(std::time::Duration::from_secs(10));
    /// assert_eq!(blocker.status(), TaskStatus::Done);
    /// ```
    pub fn cancel(&self) {
        let change = self.slot.cancel();
        self.slot.publish(change);
    }

    /// Whether a cancel was requested while the task runs (cleared when it finishes).
    ///
    /// # Example
    /// ```
    /// use streamtree::prelude::*;
    /// let s = Session::new();
    /// let h = s.enter(|| submit("k", || ()));
    /// assert!(!h.is_cancel_requested());
    /// ```
    pub fn is_cancel_requested(&self) -> bool {
        self.slot.is_cancel_requested()
    }

    /// Asks for a new run of a finished (Done, Error or Cancelled) task: the session is
    /// notified, and the next rerun's [`run`](crate::asyncio::TaskBuilder::run) or
    /// [`submit`](crate::asyncio::submit) call for its key starts it with the closure that
    /// call passes. Meanwhile [`result`](Self::result) keeps the old value and
    /// [`is_refreshing`](Self::is_refreshing) is true while the new run is under way; if
    /// it fails, the status is Error and `result()` still the last good value. On a
    /// Pending or Running task it does nothing.
    ///
    /// # Example
    /// ```
    /// use std::sync::atomic::{AtomicU32, Ordering};
    /// use std::time::Duration;
    /// use streamtree::prelude::*;
    /// static RUNS: AtomicU32 = AtomicU32::new(0);
    /// let s = Session::new();
    /// let load = || task("n").run(|_| Ok::<_, String>(RUNS.fetch_add(1, Ordering::SeqCst)));
    /// let h = s.enter(load);
    /// assert!(s.wait_idle(Duration::from_secs(10)));
    /// assert_eq!(h.result(), Some(0));
    /// h.refresh(); // a button handler, say
    /// let h = s.enter(load); // the next rerun starts the new run
    /// assert!(s.wait_idle(Duration::from_secs(10)));
    /// assert_eq!(h.result(), Some(1));
    /// ```
    pub fn refresh(&self) {
        let change = self.slot.request_refresh();
        self.slot.publish(change);
    }

    /// The 1-based number of the current attempt (or the last one, once finished): 1
    /// unless the task was retried (see [`Retry`](crate::asyncio::Retry)).
    ///
    /// # Example
    /// ```
    /// use streamtree::prelude::*;
    /// let s = Session::new();
    /// let h = s.enter(|| submit("k", || ()));
    /// assert_eq!(h.attempt(), 1);
    /// ```
    pub fn attempt(&self) -> u32 {
        self.slot.with_state(|st| {
            st.life
                .as_ref()
                .map_or(st.attempt, |l| st.attempt.max(l.backend_attempt))
        })
    }

    /// Whether the value [`result`](Self::result) shows is not the current run's: a
    /// refresh (or a [`keep_previous`](crate::asyncio::TaskBuilder::keep_previous) switch
    /// to a new input) is Pending or Running and an earlier value is shown meanwhile.
    ///
    /// # Example
    /// ```
    /// use streamtree::prelude::*;
    /// let s = Session::new();
    /// let h = s.enter(|| submit("k", || 1));
    /// s.wait_idle(std::time::Duration::from_secs(10));
    /// assert!(!h.is_refreshing()); // Done: the value is the current run's
    /// ```
    pub fn is_refreshing(&self) -> bool {
        self.slot.shown().1
    }

    /// Time since submit while Pending, since the start while Running (the first
    /// attempt's start, for retried tasks), the total from submit to the end once
    /// finished; `None` once dismissed. A refresh starts the count again.
    ///
    /// # Example
    /// ```
    /// use streamtree::prelude::*;
    /// let s = Session::new();
    /// let h = s.enter(|| submit("k", || ()));
    /// s.wait_idle(std::time::Duration::from_secs(10));
    /// let total = h.elapsed().unwrap();
    /// assert_eq!(h.elapsed(), Some(total)); // fixed once finished
    /// ```
    pub fn elapsed(&self) -> Option<Duration> {
        let now = Instant::now();
        self.slot.with_state(|st| st.elapsed(now))
    }

    /// Estimated time left, from the rate of progress so far: while Running with a
    /// progress fraction above 0, `elapsed · (1 − f) / f`. `None` otherwise.
    ///
    /// # Example
    /// ```
    /// use streamtree::prelude::*;
    /// let s = Session::new();
    /// let h = s.enter(|| submit("k", || ()));
    /// s.wait_idle(std::time::Duration::from_secs(10));
    /// assert_eq!(h.eta(), None); // finished
    /// ```
    pub fn eta(&self) -> Option<Duration> {
        let now = Instant::now();
        self.slot.with_state(|st| st.eta(now))
    }

    /// While Pending, the task's 0-based place in its session's queue: how many of the
    /// same session's queued tasks run before it (its session's lane; other sessions'
    /// tasks interleave, one per busy session per turn). 0 also for a task being handed to
    /// a worker. `None` unless Pending.
    ///
    /// # Example
    /// ```
    /// use streamtree::prelude::*;
    /// let s = Session::builder().max_workers(1).build();
    /// let (tx, rx) = std::sync::mpsc::channel::<()>();
    /// let (block, a, b) = s.enter(|| (
    ///     submit("block", move || rx.recv().ok()),
    ///     submit("a", || ()),
    ///     submit("b", || ()),
    /// ));
    /// assert_eq!((a.queue_position(), b.queue_position()), (Some(0), Some(1)));
    /// tx.send(()).unwrap();
    /// s.wait_idle(std::time::Duration::from_secs(10));
    /// assert_eq!((block.queue_position(), b.queue_position()), (None, None));
    /// ```
    pub fn queue_position(&self) -> Option<usize> {
        if self.slot.status() != TaskStatus::Pending {
            return None;
        }
        let set = self.slot.set_upgrade()?;
        Some(set.queue_position(&self.slot))
    }
}

impl<T: Clone + 'static> TaskHandle<T> {
    /// A clone of the value to show: the task's latest successful result. `Some` when
    /// the task is Done; also while a [`refresh`](Self::refresh) runs or after it failed
    /// (the previous result), and, with
    /// [`keep_previous`](crate::asyncio::TaskBuilder::keep_previous), while a new input's
    /// first run is unfinished (the key's result under its previous input). A plain
    /// `submit` task never refreshed: `Some` exactly when Done (so `Some(())` tells
    /// "returned nothing" apart from "no result yet").
    ///
    /// # Example
    /// ```
    /// use streamtree::prelude::*;
    /// let s = Session::new();
    /// let h = s.enter(|| submit("unit", || ()));
    /// s.wait_idle(std::time::Duration::from_secs(10));
    /// assert_eq!(h.result(), Some(()));
    /// ```
    pub fn result(&self) -> Option<T> {
        // The `Arc` is cloned under the slot's lock, `T` after it is released.
        let value = self.slot.shown().0?;
        let cell = value
            .downcast_ref::<Mutex<T>>()
            .expect("a slot's value has the type its handles were created with");
        let copy = cell.lock().unwrap_or_else(PoisonError::into_inner).clone();
        // `value` may be the last reference (the task was dismissed meanwhile): it drops
        // here, outside every lock.
        drop(value);
        Some(copy)
    }
}

/// A running task's view of itself, given by [`submit_with`](crate::asyncio::submit_with)
/// and [`submit_fallible_with`](crate::asyncio::submit_fallible_with): progress and
/// cooperative cancel without repeating the key.
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// let session = Session::new();
/// let h = session.enter(|| submit_with("k", |ctx: &TaskContext| {
///     assert_eq!(ctx.key(), "k");
///     ctx.is_cancel_requested()
/// }));
/// session.wait_idle(std::time::Duration::from_secs(10));
/// assert_eq!(h.result(), Some(false));
/// ```
pub struct TaskContext<'a> {
    slot: &'a Slot,
    /// Also told every progress (after the slot's lock is released): a worker process
    /// forwards it to the job's web processes.
    progress_hook: Option<&'a (dyn Fn(&Progress) + Sync)>,
}

impl<'a> TaskContext<'a> {
    /// The context of the task whose slot is `slot` (given to its closure).
    pub(crate) fn new(slot: &'a Slot) -> TaskContext<'a> {
        TaskContext {
            slot,
            progress_hook: None,
        }
    }

    /// A context that also hands every progress to `hook`.
    #[cfg_attr(
        not(feature = "nats"),
        allow(dead_code, reason = "used by the NATS worker")
    )]
    pub(crate) fn with_progress_hook(
        slot: &'a Slot,
        hook: &'a (dyn Fn(&Progress) + Sync),
    ) -> TaskContext<'a> {
        TaskContext {
            slot,
            progress_hook: Some(hook),
        }
    }

    /// Calls `f` once when a cancel is requested of this attempt (see `Slot::on_cancel`):
    /// a backend that waits on something else than the slot learns of it with no polling.
    pub(crate) fn on_cancel(&self, f: impl FnOnce() + Send + 'static) {
        self.slot.on_cancel(Box::new(f));
    }

    /// Shows `attempt` on the task's handles: the count of a backend that owns retries.
    pub(crate) fn set_attempt(&self, attempt: u32) {
        let change = self.slot.set_backend_attempt(attempt);
        self.slot.publish(change);
    }
}

impl fmt::Debug for TaskContext<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskContext")
            .field("key", &self.slot.key())
            .finish()
    }
}

impl TaskContext<'_> {
    /// The task's key.
    ///
    /// # Example
    /// ```
    /// use streamtree::prelude::*;
    /// let s = Session::new();
    /// let h = s.enter(|| submit_with("me", |ctx: &TaskContext| ctx.key().to_owned()));
    /// s.wait_idle(std::time::Duration::from_secs(10));
    /// assert_eq!(h.result().as_deref(), Some("me"));
    /// ```
    pub fn key(&self) -> &str {
        self.slot.key()
    }

    /// Records progress, as [`set_task_progress`](crate::asyncio::set_task_progress).
    ///
    /// # Example
    /// ```
    /// use streamtree::prelude::*;
    /// let s = Session::new();
    /// let h = s.enter(|| submit_with("p", |ctx: &TaskContext| ctx.set_progress("step 1")));
    /// s.wait_idle(std::time::Duration::from_secs(10));
    /// assert_eq!(h.progress().unwrap().message(), Some("step 1"));
    /// ```
    pub fn set_progress(&self, value: impl Into<Progress>) {
        let progress = value.into();
        if let Some(hook) = self.progress_hook {
            hook(&progress);
        }
        let change = self.slot.set_progress(progress);
        self.slot.publish(change);
    }

    /// Whether a cancel was requested, as
    /// [`is_task_cancel_requested`](crate::asyncio::is_task_cancel_requested). A request
    /// stays visible until the closure returns.
    ///
    /// # Example
    /// ```
    /// use streamtree::prelude::*;
    /// let s = Session::new();
    /// let h = s.enter(|| submit_with("c", |ctx: &TaskContext| ctx.is_cancel_requested()));
    /// s.wait_idle(std::time::Duration::from_secs(10));
    /// assert_eq!(h.result(), Some(false));
    /// ```
    pub fn is_cancel_requested(&self) -> bool {
        self.slot.is_cancel_requested()
    }

    /// Stop here if a cancel was requested: `Err(Cancelled)` then, for `?` in a closure
    /// given to [`submit_fallible_with`](crate::asyncio::submit_fallible_with), which ends
    /// the task [`Cancelled`](TaskStatus::Cancelled). `Ok(())` otherwise.
    ///
    /// # Errors
    /// [`Cancelled`] when a cancel was requested.
    ///
    /// # Example
    /// ```
    /// use streamtree::prelude::*;
    /// let s = Session::new();
    /// let h = s.enter(|| submit_fallible_with("steps", |ctx: &TaskContext| {
    ///     let mut done = 0;
    ///     for _ in 0..3 {
    ///         ctx.check_cancelled()?;
    ///         done += 1;
    ///     }
    ///     Ok::<_, Cancelled>(done)
    /// }));
    /// s.wait_idle(std::time::Duration::from_secs(10));
    /// assert_eq!(h.result(), Some(3)); // nobody cancelled it
    /// ```
    pub fn check_cancelled(&self) -> Result<(), Cancelled> {
        if self.slot.is_cancel_requested() {
            Err(Cancelled)
        } else {
            Ok(())
        }
    }

    /// Blocks until a cancel is requested or `timeout` passes; true when one was
    /// requested. For workers that wait between steps: they stop waiting at once on a
    /// cancel, with no polling.
    ///
    /// # Example
    /// ```
    /// use std::time::Duration;
    /// use streamtree::prelude::*;
    /// let s = Session::new();
    /// let (started_tx, started) = std::sync::mpsc::channel();
    /// let h = s.enter(|| submit_fallible_with("poll", move |ctx: &TaskContext| {
    ///     started_tx.send(()).unwrap();
    ///     // Wait for the next poll, unless cancelled first.
    ///     while !ctx.wait_cancelled(Duration::from_secs(60)) {}
    ///     Err::<(), _>(Cancelled)
    /// }));
    /// started.recv().unwrap();
    /// h.cancel();
    /// assert!(s.wait_idle(Duration::from_secs(10)));
    /// assert_eq!(h.status(), TaskStatus::Cancelled);
    /// ```
    pub fn wait_cancelled(&self, timeout: Duration) -> bool {
        self.slot.wait_cancelled(timeout)
    }

    /// Ends the task as Cancelled when its closure returns, if a cancel was requested (as
    /// [`complete_cancelled`](crate::asyncio::complete_cancelled)); the closure's return
    /// value is then discarded. Only the task's own worker thread can do this: called on
    /// any other thread (the context handed to a helper thread), it does nothing.
    ///
    /// # Example
    /// ```
    /// use streamtree::prelude::*;
    /// let s = Session::new();
    /// let h = s.enter(|| submit_with("c", |ctx: &TaskContext| ctx.cancelled()));
    /// s.wait_idle(std::time::Duration::from_secs(10));
    /// assert_eq!(h.status(), TaskStatus::Done); // no cancel was requested
    /// ```
    pub fn cancelled(&self) {
        if is_own_task(self.slot) {
            self.slot.honour_cancel();
        }
    }
}
