//! The runtime's timer: one thread per process (started on first use) that runs callbacks
//! at their deadlines. Retries wait on it (so a backoff holds no worker), timeouts fire
//! from it, and `TaskSet::notify_at` wakes live runners at a deadline through it.
//!
//! Invariants:
//! - `entries` holds exactly the callbacks not yet run nor cancelled; `heap` holds their
//!   `(deadline, id)` plus tombstones of cancelled ones (skipped when popped, and purged
//!   when they outnumber the live entries, so memory stays bounded by the live timers);
//! - a callback is removed from `entries` under the lock and run (or, cancelled, dropped)
//!   after the lock is released: user code never runs under it. Each run is caught with
//!   `halt_unwinding`, so a panicking callback does not stop the timer thread.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::{Arc, Condvar, Mutex, OnceLock, PoisonError};
use std::time::Instant;

use super::unwind::halt_unwinding;

type Callback = Box<dyn FnOnce() + Send>;

/// A timer thread and its queue of deadlines.
pub(crate) struct Timer {
    state: Mutex<State>,
    /// Signalled when an earlier deadline is added (the thread re-computes its wait).
    wake: Condvar,
}

#[derive(Default)]
struct State {
    /// Deadlines by time, then by id (scheduling order); may hold tombstones.
    heap: BinaryHeap<Reverse<(Instant, u64)>>,
    /// The live callbacks by id.
    entries: HashMap<u64, Callback>,
    next_id: u64,
    /// Whether the thread was started (lazily, by the first `after`).
    started: bool,
}

/// A scheduled callback. Dropping it does not cancel it.
///
/// Timer ids are never reused, so cancelling after the callback ran does nothing.
#[derive(Clone)]
pub(crate) struct TimerHandle {
    timer: Arc<Timer>,
    id: u64,
}

impl std::fmt::Debug for TimerHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TimerHandle").field("id", &self.id).finish()
    }
}

/// Runs `f` on the process's timer thread at `deadline` (at once if it has passed),
/// outside the timer's lock, a panic in it caught.
pub(crate) fn after(deadline: Instant, f: impl FnOnce() + Send + 'static) -> TimerHandle {
    static GLOBAL: OnceLock<Arc<Timer>> = OnceLock::new();
    GLOBAL
        .get_or_init(|| Arc::new(Timer::new()))
        .schedule(deadline, Box::new(f))
}

impl TimerHandle {
    /// Cancels the callback if it has not started: it is dropped unrun (outside the
    /// timer's lock). Does nothing once it has started or ran.
    pub(crate) fn cancel(&self) {
        let removed = {
            let mut guard = self.timer.lock();
            let State { heap, entries, .. } = &mut *guard;
            let removed = entries.remove(&self.id);
            // Tombstones are purged when they outnumber the live entries (memory bound).
            if heap.len() > 64 && heap.len() > 2 * entries.len() {
                heap.retain(|Reverse((_, id))| entries.contains_key(id));
            }
            removed
        };
        drop(removed);
    }
}

impl Timer {
    pub(crate) fn new() -> Timer {
        Timer {
            state: Mutex::new(State::default()),
            wake: Condvar::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds `f` at `deadline`, starting the thread on first use.
    pub(crate) fn schedule(self: &Arc<Self>, deadline: Instant, f: Callback) -> TimerHandle {
        let mut st = self.lock();
        let id = st.next_id;
        st.next_id += 1;
        let earliest = st.heap.peek().is_none_or(|Reverse((d, _))| deadline < *d);
        st.heap.push(Reverse((deadline, id)));
        st.entries.insert(id, f);
        if !st.started {
            st.started = true;
            let me = self.clone();
            std::thread::Builder::new()
                .name("streamtree-timer".to_owned())
                .spawn(move || me.run())
                .expect("the streamtree timer thread could not start");
        } else if earliest {
            self.wake.notify_one();
        }
        drop(st);
        TimerHandle {
            timer: self.clone(),
            id,
        }
    }

    /// Pending callbacks (not yet run nor cancelled).
    #[cfg(all(test, not(streamtree_loom)))]
    pub(crate) fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// Heap entries, tombstones included.
    #[cfg(all(test, not(streamtree_loom)))]
    pub(crate) fn heap_len(&self) -> usize {
        self.lock().heap.len()
    }

    /// The thread's loop: wait for the earliest deadline, run what is due, repeat.
    fn run(&self) {
        let mut st = self.lock();
        loop {
            let now = Instant::now();
            match st.heap.peek().copied() {
                None => {
                    st = self.wake.wait(st).unwrap_or_else(PoisonError::into_inner);
                }
                Some(Reverse((deadline, id))) if deadline <= now => {
                    st.heap.pop();
                    if let Some(f) = st.entries.remove(&id) {
                        drop(st);
                        // A panicking callback (or the drop of its captures) is contained.
                        let _ = halt_unwinding(f);
                        st = self.lock();
                    }
                }
                Some(Reverse((deadline, _))) => {
                    st = self
                        .wake
                        .wait_timeout(st, deadline - now)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0;
                }
            }
        }
    }
}

#[cfg(all(test, not(streamtree_loom)))]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::Duration;

    const WAIT: Duration = Duration::from_secs(10);

    #[test]
    fn past_deadlines_fire_in_deadline_order_while_the_thread_was_busy() {
        let timer = Arc::new(Timer::new());
        let (entered_tx, entered) = mpsc::channel();
        let (gate_tx, gate) = mpsc::channel::<()>();
        timer.schedule(
            Instant::now(),
            Box::new(move || {
                entered_tx.send(()).unwrap();
                gate.recv_timeout(WAIT).expect("the test opens the gate");
            }),
        );
        entered.recv_timeout(WAIT).expect("the blocker runs");
        let base = Instant::now() - Duration::from_secs(1);
        let (tx, rx) = mpsc::channel();
        for (i, offset) in [(2, 30), (0, 10), (1, 20)] {
            let tx = tx.clone();
            timer.schedule(
                base + Duration::from_millis(offset),
                Box::new(move || tx.send(i).unwrap()),
            );
        }
        gate_tx.send(()).unwrap();
        let got: Vec<i32> = (0..3)
            .map(|_| rx.recv_timeout(WAIT).expect("each fires"))
            .collect();
        assert_eq!(got, [0, 1, 2]);
    }

    #[test]
    fn a_cancelled_callback_is_dropped_unrun_and_a_panic_does_not_stop_the_thread() {
        let timer = Arc::new(Timer::new());
        struct Dropped(mpsc::Sender<&'static str>);
        impl Drop for Dropped {
            fn drop(&mut self) {
                let _ = self.0.send("dropped");
            }
        }
        let (tx, rx) = mpsc::channel();
        let d = Dropped(tx.clone());
        let far = timer.schedule(
            Instant::now() + Duration::from_secs(3600),
            Box::new(move || {
                let _ = d.0.send("ran");
            }),
        );
        timer.schedule(Instant::now(), Box::new(|| panic!("callback panics")));
        let tx2 = tx.clone();
        timer.schedule(
            Instant::now(),
            Box::new(move || tx2.send("after panic").unwrap()),
        );
        assert_eq!(rx.recv_timeout(WAIT).unwrap(), "after panic");
        far.cancel();
        assert_eq!(rx.recv_timeout(WAIT).unwrap(), "dropped");
        assert_eq!(timer.len(), 0);
        far.cancel(); // a second cancel does nothing
    }

    #[test]
    fn an_earlier_deadline_wakes_the_waiting_thread() {
        let timer = Arc::new(Timer::new());
        let far = timer.schedule(Instant::now() + Duration::from_secs(3600), Box::new(|| {}));
        let (tx, rx) = mpsc::channel();
        timer.schedule(Instant::now(), Box::new(move || tx.send(()).unwrap()));
        rx.recv_timeout(WAIT)
            .expect("the due callback runs although a later one was waited for");
        far.cancel();
    }

    #[test]
    fn cancelled_tombstones_are_purged() {
        let timer = Arc::new(Timer::new());
        let far = Instant::now() + Duration::from_secs(3600);
        for _ in 0..1000 {
            timer.schedule(far, Box::new(|| {})).cancel();
        }
        assert_eq!(timer.len(), 0);
        assert!(timer.heap_len() <= 65, "heap {}", timer.heap_len());
    }

    #[test]
    fn the_global_timer_runs_after() {
        let (tx, rx) = mpsc::channel();
        let _h = after(Instant::now(), move || tx.send(7).unwrap());
        assert_eq!(rx.recv_timeout(WAIT), Ok(7));
    }
}
