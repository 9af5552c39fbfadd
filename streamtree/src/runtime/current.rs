//! Which task set the task functions act on, per thread. The runtime owns these
//! thread-locals (as rayon-core's registry owns `WorkerThread::current`); the layers above
//! only push onto them: a session entered on a thread pushes its set ([`enter`] →
//! [`EnteredSet`]), and a worker makes the task it runs current ([`WorkerScope`]).
//!
//! Invariants:
//! - no borrow of either thread-local is held while anything else runs: lookups clone the
//!   `Arc`s out, and what a guard pops is dropped after the borrow ends (a dropped set may
//!   notify hooks, and a hook may enter another session);
//! - every push is undone by its guard's `Drop`, so the stack is restored on every exit,
//!   unwinding included.

use std::cell::RefCell;
use std::marker::PhantomData;
use std::sync::Arc;

use super::TaskSet;
use super::slot::Slot;

thread_local! {
    /// Task sets entered on this thread, innermost last. Pushed by [`enter`], popped by
    /// [`EnteredSet`]'s drop.
    static ENTERED: RefCell<Vec<Arc<TaskSet>>> = const { RefCell::new(Vec::new()) };
    /// The task a worker thread is running now (and its set), so the task functions inside
    /// a task resolve to the task's own set. Set by [`WorkerScope`] for one job.
    static WORKER: RefCell<Option<WorkerTask>> = const { RefCell::new(None) };
}

struct WorkerTask {
    /// `None` when the set was already gone as the job started.
    set: Option<Arc<TaskSet>>,
    slot: Arc<Slot>,
}

/// Keeps a task set current on this thread (pushed by [`enter`]); dropping it pops the set.
/// Not `Send`: it must drop on the thread that pushed.
#[must_use = "the set is current only while this guard lives"]
pub(crate) struct EnteredSet {
    _not_send: PhantomData<*const ()>,
}

/// Makes `set` the current task set on this thread until the returned guard drops. Nests:
/// the innermost set is current.
pub(crate) fn enter(set: &Arc<TaskSet>) -> EnteredSet {
    let set = set.clone();
    ENTERED.with(|e| e.borrow_mut().push(set));
    EnteredSet {
        _not_send: PhantomData,
    }
}

impl Drop for EnteredSet {
    fn drop(&mut self) {
        let popped = ENTERED.with(|e| e.borrow_mut().pop());
        debug_assert!(popped.is_some(), "each EnteredSet pops the set it pushed");
        // Dropped here, after the borrow: it may be the set's last reference.
        drop(popped);
    }
}

/// Makes a task current on its worker thread for one job; clears it on every exit.
pub(crate) struct WorkerScope;

impl WorkerScope {
    pub(crate) fn enter(set: Option<Arc<TaskSet>>, slot: Arc<Slot>) -> WorkerScope {
        let prev = WORKER.with(|w| w.borrow_mut().replace(WorkerTask { set, slot }));
        debug_assert!(prev.is_none(), "a worker runs one task at a time");
        drop(prev);
        WorkerScope
    }

    /// Clears the task, handing back its set (to notify without upgrading the slot's weak
    /// link again).
    pub(crate) fn leave(self) -> Option<Arc<TaskSet>> {
        let task = WORKER.with(|w| w.borrow_mut().take());
        task.and_then(|t| t.set)
    }
}

impl Drop for WorkerScope {
    fn drop(&mut self) {
        // Taken out first: dropping the set may drop a runtime, which must not happen while
        // the thread-local is borrowed.
        let task = WORKER.with(|w| w.borrow_mut().take());
        drop(task);
    }
}

/// The set the task functions act on here: the innermost entered set, else (on a worker)
/// the set of the task it runs. Cloned, so no borrow outlives this call.
pub(crate) fn current_set() -> Option<Arc<TaskSet>> {
    if let Some(set) = ENTERED.with(|e| e.borrow().last().cloned()) {
        return Some(set);
    }
    WORKER.with(|w| w.borrow().as_ref().and_then(|t| t.set.clone()))
}

/// The slot for `key` in the current set; on a worker with no set entered, its own task's
/// slot without a lookup.
pub(crate) fn find_current(key: &str) -> Option<Arc<Slot>> {
    if let Some(set) = ENTERED.with(|e| e.borrow().last().cloned()) {
        return set.get(key);
    }
    let (set, own) = WORKER.with(|w| match &*w.borrow() {
        Some(t) if t.slot.key() == key => (None, Some(t.slot.clone())),
        Some(t) => (t.set.clone(), None),
        None => (None, None),
    });
    own.or_else(|| set.and_then(|set| set.get(key)))
}

/// Whether this thread is the worker running `slot`'s closure now.
pub(crate) fn is_own_task(slot: &Slot) -> bool {
    WORKER.with(|w| {
        w.borrow()
            .as_ref()
            .is_some_and(|t| std::ptr::addr_eq(Arc::as_ptr(&t.slot), slot))
    })
}

/// `slot` itself, when this thread is the worker running its closure now (the closure
/// holds a `&Slot`; a [`Deferred`](super::defer::Deferred) attempt keeps the `Arc`).
pub(crate) fn own_slot(slot: &Slot) -> Option<Arc<Slot>> {
    WORKER.with(|w| {
        w.borrow()
            .as_ref()
            .filter(|t| std::ptr::addr_eq(Arc::as_ptr(&t.slot), slot))
            .map(|t| t.slot.clone())
    })
}
