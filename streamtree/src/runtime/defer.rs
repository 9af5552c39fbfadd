//! Attempts that end later, on another thread: a closure may hand its attempt to
//! something that waits on the network (a job backend) and return at once, freeing its
//! worker; the attempt ends when [`Deferred::finish`] is called, from any thread.
//!
//! Invariants:
//! - a deferred attempt is still the running closure to the slot (`Life::closure_running`
//!   stays set, the phase stays Running): cancel requests, `on_cancel`, timeouts, restarts
//!   and `wait_idle` see it exactly as a closure still on its worker, so the slot's state
//!   machine has no new state;
//! - it ends exactly once: `finish` consumes the `Deferred`, and dropping one unfinished
//!   ends the attempt in Error (a backend that stopped cannot leave a task Running);
//!   [loom, `loom_defer.rs`: `deferred_err_races_cancel`, `deferred_ok_races_cancel`,
//!   `deferred_drop_races_cancel`, `deferred_finish_races_timeout`,
//!   `deferred_err_races_cancel_and_timeout`]
//! - the worker that ran the closure touches the slot no more once the closure returned
//!   [`Ran::Deferred`], so the end may come before that worker has left the job;
//! - the end runs on the thread that calls `finish`, outside every lock, as a worker's
//!   end does: that thread may run user code (a value's `Drop`, a decoder).

use std::sync::Arc;

use super::slot::{Outcome, Slot};

/// What running a task's closure for one attempt gave.
pub(crate) enum Ran {
    /// The attempt ended with this outcome.
    Ended(Outcome),
    /// The closure made a [`Deferred`] and handed it on: the attempt ends when that is
    /// finished or dropped.
    Deferred,
}

/// A running attempt whose closure returned before it ended. See the module invariants.
pub(crate) struct Deferred {
    /// `None` once finished, or declined (the closure ends the attempt itself).
    slot: Option<Arc<Slot>>,
}

impl Deferred {
    /// The attempt of `slot` that the current thread's worker is running, to end later;
    /// `None` when this thread is not running `slot`'s closure (only the closure itself
    /// may defer its attempt).
    pub(crate) fn of_current(slot: &Slot) -> Option<Deferred> {
        super::current::own_slot(slot).map(|slot| Deferred { slot: Some(slot) })
    }

    /// The task's slot (for progress, cancel requests and attempts).
    pub(crate) fn slot(&self) -> &Slot {
        self.slot
            .as_deref()
            .expect("a live Deferred holds its slot until finished or declined")
    }

    /// Ends the attempt with `outcome`, on this thread (see the module invariants).
    pub(crate) fn finish(mut self, outcome: Outcome) {
        if let Some(slot) = self.slot.take() {
            let set = slot.set_upgrade();
            super::end_attempt(&slot, set, outcome);
        }
    }

    /// Gives the attempt back to the closure that made this, which ends it by returning
    /// [`Ran::Ended`]: nothing is ended here.
    pub(crate) fn decline(mut self) {
        self.slot = None;
    }
}

thread_local! {
    /// The slot whose `Deferred` this thread's unwinding dropped in its own worker's
    /// closure (a backend's `start` that panicked): the closure ends the attempt with the
    /// panic's message instead ([`Deferred::take_unwound`]).
    static UNWOUND: std::cell::RefCell<Option<Arc<Slot>>> = const { std::cell::RefCell::new(None) };
}

impl Deferred {
    /// Whether this thread's unwinding dropped `slot`'s `Deferred` unfinished in the
    /// closure now running (see `UNWOUND`): then the caller ends the attempt, by
    /// returning [`Ran::Ended`]; else whoever holds the `Deferred` does.
    pub(crate) fn take_unwound(slot: &Slot) -> bool {
        UNWOUND.with(|u| {
            let mut u = u.borrow_mut();
            let mine = u
                .as_ref()
                .is_some_and(|s| std::ptr::addr_eq(Arc::as_ptr(s), slot));
            let taken = u.take();
            drop(u);
            // A stale one (not this closure's) is let go of too, outside the borrow.
            drop(taken);
            mine
        })
    }
}

impl Drop for Deferred {
    fn drop(&mut self) {
        if let Some(slot) = self.slot.take() {
            if std::thread::panicking() && super::current::own_slot(&slot).is_some() {
                // The closure that made it catches this unwinding and ends the attempt
                // with the panic's message.
                let old = UNWOUND.with(|u| u.borrow_mut().replace(slot));
                drop(old);
                return;
            }
            let set = slot.set_upgrade();
            super::end_attempt(
                &slot,
                set,
                Err("the attempt was dropped before it ended (its backend stopped?)".to_owned()),
            );
        }
    }
}

impl std::fmt::Debug for Deferred {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deferred")
            .field("key", &self.slot.as_ref().map(|s| s.key()))
            .finish()
    }
}
