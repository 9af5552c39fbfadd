//! [`TaskHandle`]: a task seen from outside (any thread), and [`TaskContext`]: a running
//! task's view of itself.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

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
pub struct TaskHandle<T> {
    slot: Arc<Slot>,
    /// `fn() -> T`: the handle only hands out clones of `T`, so it is `Send + Sync` for any
    /// `T` (the value itself sits behind the slot's lock).
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
}

impl<T: Clone + Send + 'static> TaskHandle<T> {
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

    /// A clone of the result: `Some` only when the task is Done (so `Some(())` tells
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
        self.slot.with_state(|st| {
            st.value().map(|v| {
                v.downcast_ref::<T>()
                    .expect("a slot's value has the type its handles were created with")
                    .clone()
            })
        })
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
    /// gets a cancel request its worker may honour; a finished task is left alone.
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
}

/// A running task's view of itself, given by [`submit_with`](crate::asyncio::submit_with): progress and cooperative
/// cancel without repeating the key.
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
}

impl<'a> TaskContext<'a> {
    /// The context of the task whose slot is `slot` (given to its closure).
    pub(crate) fn new(slot: &'a Slot) -> TaskContext<'a> {
        TaskContext { slot }
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
        let change = self.slot.set_progress(value.into());
        self.slot.publish(change);
    }

    /// Whether a cancel was requested, as [`is_task_cancel_requested`](crate::asyncio::is_task_cancel_requested).
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

    /// Ends the task as Cancelled if a cancel was requested, as [`complete_cancelled`](crate::asyncio::complete_cancelled);
    /// the closure's return value is then discarded.
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
        let change = self.slot.complete_cancelled();
        self.slot.publish(change);
    }
}
