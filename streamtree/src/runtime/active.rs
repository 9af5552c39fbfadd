//! [`ActiveCount`]: how many of a set's tasks are Pending or Running, and the wait for none.
//!
//! Invariants:
//! - `count` is incremented by `submit` (under the set's table lock, before anyone can see
//!   the task) and decremented once per counted task, on its single terminal transition;
//!   it never underflows;
//! - the decrement that reaches zero takes `lock` before signalling `idle`, and a waiter
//!   checks `count` only while holding `lock`, so a waiter can never miss the wake-up.
//!   [loom: `active_count_wakes_the_waiter`, `close_races_submit_and_the_worker`]

use std::sync::PoisonError;
use std::time::{Duration, Instant};

use super::sync::{AtomicUsize, Condvar, Mutex, Ordering};

/// A set's count of Pending and Running tasks, with a condvar signalled when it reaches
/// zero.
pub(crate) struct ActiveCount {
    /// Tasks Pending or Running (see the module invariants).
    count: AtomicUsize,
    /// Guards nothing but the zero check against a missed wake-up.
    lock: Mutex<()>,
    /// Signalled when `count` reaches zero.
    idle: Condvar,
}

impl ActiveCount {
    pub(crate) fn new() -> ActiveCount {
        ActiveCount {
            count: AtomicUsize::new(0),
            lock: Mutex::new(()),
            idle: Condvar::new(),
        }
    }

    /// A task was submitted (before it becomes visible).
    pub(crate) fn started(&self) {
        self.count.fetch_add(1, Ordering::SeqCst);
    }

    /// A counted task reached its terminal phase; wakes waiters at zero.
    pub(crate) fn ended(&self) {
        let before = self.count.fetch_sub(1, Ordering::SeqCst);
        debug_assert!(before > 0, "each counted task ends exactly once");
        if before == 1 {
            drop(self.lock.lock().unwrap_or_else(PoisonError::into_inner));
            self.idle.notify_all();
        }
    }

    /// Whether no task is Pending or Running now.
    pub(crate) fn is_idle(&self) -> bool {
        self.count.load(Ordering::SeqCst) == 0
    }

    /// Blocks until no task is Pending or Running, or `timeout` passes; true when idle.
    pub(crate) fn wait_idle(&self, timeout: Duration) -> bool {
        let deadline = Instant::now().checked_add(timeout);
        let mut guard = self.lock.lock().unwrap_or_else(PoisonError::into_inner);
        while !self.is_idle() {
            let left = match deadline {
                Some(d) => d.saturating_duration_since(Instant::now()),
                None => Duration::MAX,
            };
            if left.is_zero() {
                return false;
            }
            guard = self
                .idle
                .wait_timeout(guard, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        true
    }
}
