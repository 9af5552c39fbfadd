//! The pool's fair queue: one FIFO [`Lane`] per task set (so per session) and a round-robin
//! ring of the lanes that hold jobs. A session that queues a thousand tasks delays another
//! session's next task by at most one task per other busy session, not by a thousand.
//!
//! Invariants (all under the ring's lock):
//! - a lane is in the ring exactly once while it holds jobs, and not at all while empty;
//! - `pop` takes the oldest job of the front lane, then moves that lane to the back if it
//!   still holds jobs: jobs of one lane run in submission order, and with `k` lanes holding
//!   jobs, the oldest job of each waits for at most `k - 1` others;
//! - a lane's own lock is taken only inside the ring's, so it is never contended: it exists
//!   because the task set and the ring share the lane.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::Job;

/// One task set's FIFO in the pool's queue; the set keeps it for its lifetime, and the ring
/// keeps it while it holds jobs (so jobs queued by a dropped set still run, or are dropped
/// unrun as cancelled).
#[derive(Clone)]
pub(crate) struct Lane(Arc<Mutex<VecDeque<Job>>>);

/// A lane's buffer above this capacity is freed when the lane empties, so a session that
/// once queued a burst does not keep its memory.
const KEEP_CAPACITY: usize = 256;

impl Lane {
    pub(crate) fn new() -> Lane {
        Lane(Arc::new(Mutex::new(VecDeque::new())))
    }

    fn lock(&self) -> MutexGuard<'_, VecDeque<Job>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The lanes that hold jobs, in the order they are served.
pub(crate) struct Lanes {
    ring: Mutex<VecDeque<Lane>>,
}

impl Lanes {
    pub(crate) fn new() -> Lanes {
        Lanes {
            ring: Mutex::new(VecDeque::new()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, VecDeque<Lane>> {
        self.ring.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Appends `job` to `lane`; a lane that was empty joins the ring at the back.
    pub(crate) fn push(&self, lane: &Lane, job: Job) {
        let mut ring = self.lock();
        let mut jobs = lane.lock();
        let joins = jobs.is_empty();
        jobs.push_back(job);
        drop(jobs);
        if joins {
            ring.push_back(lane.clone());
        }
    }

    /// How many jobs are ahead of `slot` in `lane` (its own session's queue); `None` if
    /// `slot` is not queued there. O(lane length).
    pub(crate) fn position(&self, lane: &Lane, slot: &super::super::slot::Slot) -> Option<usize> {
        let _ring = self.lock();
        let jobs = lane.lock();
        jobs.iter()
            .position(|j| std::ptr::addr_eq(Arc::as_ptr(j), slot))
    }

    /// The oldest job of the front lane, which then goes to the back if it holds more.
    /// `None` only when no lane holds a job.
    pub(crate) fn pop(&self) -> Option<Job> {
        let mut ring = self.lock();
        let lane = ring.pop_front()?;
        let mut jobs = lane.lock();
        let job = jobs.pop_front();
        debug_assert!(job.is_some(), "a lane in the ring holds jobs");
        let more = !jobs.is_empty();
        if !more && jobs.capacity() > KEEP_CAPACITY {
            *jobs = VecDeque::new();
        }
        drop(jobs);
        if more {
            ring.push_back(lane);
        }
        job
    }
}
