//! A process-wide timer: [`after`] runs a callback at a deadline, on one timer thread
//! started by the first call (named `streamtree-timer`), which sleeps until the earliest
//! deadline of a min-heap.
//!
//! Invariants:
//! - callbacks run on the timer thread only (never on the caller's, so a caller may hold
//!   its own locks while it calls [`after`]), one at a time, with the heap unlocked;
//! - a callback runs at most once: whoever takes it out of its entry (the thread at the
//!   deadline, or [`TimerHandle::cancel`]) owns it, and drops it outside the heap's lock;
//! - a panicking callback is caught: the thread lives on for the other callbacks.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

type Callback = Box<dyn FnOnce() + Send>;

/// The one timer of the process.
static TIMER: Timer = Timer {
    queue: Mutex::new(Queue {
        heap: BinaryHeap::new(),
        next_seq: 0,
        thread_started: false,
    }),
    wake: Condvar::new(),
};

struct Timer {
    /// Pending entries; written by [`after`] (push) and the timer thread (pop).
    queue: Mutex<Queue>,
    /// Signalled by [`after`] after each push, so the thread recomputes its sleep.
    wake: Condvar,
}

struct Queue {
    /// Entries by deadline, earliest on top (cancelled ones stay until their deadline).
    heap: BinaryHeap<Reverse<Entry>>,
    /// Ties between equal deadlines break by push order.
    next_seq: u64,
    /// Whether the timer thread runs; false again only if starting it failed, so the next
    /// [`after`] tries again.
    thread_started: bool,
}

struct Entry {
    at: Instant,
    seq: u64,
    callback: Arc<Slot>,
}

/// A callback until it is taken, to run or to cancel.
type Slot = Mutex<Option<Callback>>;

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

/// A scheduled callback. Dropping the handle does not cancel it.
pub(crate) struct TimerHandle {
    callback: Arc<Slot>,
}

impl TimerHandle {
    /// The callback will not run (unless it already started); it is dropped here.
    pub(crate) fn cancel(&self) {
        let taken = take(&self.callback);
        drop(taken);
    }
}

fn take(slot: &Slot) -> Option<Callback> {
    slot.lock().unwrap_or_else(PoisonError::into_inner).take()
}

fn lock() -> MutexGuard<'static, Queue> {
    TIMER.queue.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Runs `f` on the timer thread once `deadline` has passed (at once if it has already),
/// unless cancelled first through the returned handle.
pub(crate) fn after(deadline: Instant, f: impl FnOnce() + Send + 'static) -> TimerHandle {
    let callback: Arc<Slot> = Arc::new(Mutex::new(Some(Box::new(f))));
    let mut queue = lock();
    let seq = queue.next_seq;
    queue.next_seq += 1;
    queue.heap.push(Reverse(Entry {
        at: deadline,
        seq,
        callback: callback.clone(),
    }));
    if !queue.thread_started {
        // On failure the entry waits in the heap for the next call to start the thread.
        queue.thread_started = std::thread::Builder::new()
            .name("streamtree-timer".to_owned())
            .spawn(run)
            .is_ok();
    }
    drop(queue);
    TIMER.wake.notify_one();
    TimerHandle { callback }
}

/// The timer thread: sleeps until the earliest deadline, then runs what is due.
fn run() {
    let mut queue = lock();
    loop {
        let now = Instant::now();
        let mut due = Vec::new();
        while queue.heap.peek().is_some_and(|Reverse(e)| e.at <= now) {
            if let Some(Reverse(entry)) = queue.heap.pop() {
                due.push(entry.callback);
            }
        }
        if !due.is_empty() {
            drop(queue);
            for callback in due {
                if let Some(f) = take(&callback) {
                    // The panic hook has reported it; other callbacks still run.
                    let _ = catch_unwind(AssertUnwindSafe(f));
                }
            }
            queue = lock();
            continue;
        }
        queue = match queue.heap.peek() {
            Some(Reverse(next)) => {
                let left = next.at.saturating_duration_since(now);
                TIMER
                    .wake
                    .wait_timeout(queue, left)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0
            }
            None => TIMER
                .wake
                .wait(queue)
                .unwrap_or_else(PoisonError::into_inner),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc::channel;
    use std::time::Duration;

    const WAIT: Duration = Duration::from_secs(10);

    #[test]
    fn runs_in_deadline_order_after_the_deadline_and_not_when_cancelled() {
        let (tx, rx) = channel();
        let start = Instant::now();
        let late = start + Duration::from_millis(40);
        let early = start + Duration::from_millis(20);
        let send = |name: &'static str, at: Instant| {
            let tx = tx.clone();
            move || tx.send((name, at, Instant::now())).unwrap()
        };
        let _late = after(late, send("late", late));
        let cancelled = after(early, send("cancelled", early));
        let _early = after(early, send("early", early));
        cancelled.cancel();
        let _panics = after(start, || panic!("a panicking callback is caught"));
        for expected in ["early", "late"] {
            let (name, at, ran) = rx.recv_timeout(WAIT).expect("the timer ran the callback");
            assert_eq!(name, expected);
            assert!(ran >= at, "{name} ran before its deadline");
        }
        drop(tx);
        assert!(
            rx.recv_timeout(Duration::ZERO).is_err(),
            "a cancelled callback ran"
        );
    }

    #[test]
    fn a_past_deadline_runs_at_once_on_the_timer_thread() {
        let (tx, rx) = channel();
        let _h = after(Instant::now(), move || {
            tx.send(std::thread::current().name().map(str::to_owned))
                .unwrap();
        });
        let name = rx.recv_timeout(WAIT).expect("the timer ran the callback");
        assert_eq!(name.as_deref(), Some("streamtree-timer"));
    }
}
