//! The worker pool: a FIFO `crossbeam-channel` job queue and elastic worker threads, started
//! on demand up to a bound and retired after a keep-alive when idle.
//!
//! Accounting (all under `Pool::state`): `idle` workers are blocked on the queue, `queued`
//! jobs are in it. A submitter starts a worker only when `idle <= queued` (no idle worker is
//! left for the new job) and the bound allows; otherwise the job waits in the queue.

use std::cell::Cell;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TryRecvError};

use super::unwind::halt_unwinding;

/// A unit of work. Task jobs catch their own panics; the worker catches again anyway.
pub(crate) type Job = Box<dyn FnOnce() + Send>;

thread_local! {
    /// The id of the pool whose worker this thread is (0: none). Lets a runtime dropped on
    /// one of its own workers skip waiting for itself.
    static WORKER_OF: Cell<u64> = const { Cell::new(0) };
}

/// Worker bookkeeping; every field is read and written under `Pool::state`.
#[derive(Default)]
struct PoolState {
    /// Live worker threads (started, not yet retired). Invariant: `workers <= max_workers`.
    workers: usize,
    /// Workers blocked on the queue. Incremented before a worker blocks, decremented after
    /// it wakes. Invariant: `idle <= workers`.
    idle: usize,
    /// Jobs sent to the queue and not yet taken out by a worker (counted out after the
    /// worker received the job, so `idle - queued` is exactly the idle workers without a
    /// job on their way).
    queued: usize,
    /// The most workers ever live at once.
    peak: usize,
    /// Workers started so far; numbers thread names.
    started: u64,
}

/// The shared part of a pool: what workers hold.
pub(crate) struct Pool {
    /// Unique per process; names threads `streamtree-rt{id}-w{n}`.
    pub(crate) id: u64,
    /// Thread-name prefix.
    name: String,
    max_workers: usize,
    keep_alive: Duration,
    rx: Receiver<Job>,
    /// See [`PoolState`].
    state: Mutex<PoolState>,
    /// Signalled when a worker exits; `Runtime`'s drop waits on it.
    exited: Condvar,
}

impl Pool {
    /// A pool and the sending side of its queue. Dropping the sender shuts the pool down:
    /// workers drain the queue, then exit.
    pub(crate) fn new(
        id: u64,
        name: String,
        max_workers: usize,
        keep_alive: Duration,
    ) -> (Arc<Pool>, Sender<Job>) {
        let (tx, rx) = crossbeam_channel::unbounded();
        let pool = Arc::new(Pool {
            id,
            name,
            max_workers: max_workers.max(1),
            keep_alive,
            rx,
            state: Mutex::new(PoolState::default()),
            exited: Condvar::new(),
        });
        (pool, tx)
    }

    fn lock(&self) -> MutexGuard<'_, PoolState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn max_workers(&self) -> usize {
        self.max_workers
    }

    pub(crate) fn workers(&self) -> usize {
        self.lock().workers
    }

    pub(crate) fn peak_workers(&self) -> usize {
        self.lock().peak
    }

    /// Runs `job` on a worker: an idle one if any is free, else a new one if the bound
    /// allows, else it waits in the queue (FIFO).
    pub(crate) fn execute(self: &Arc<Self>, tx: &Sender<Job>, job: Job) {
        let mut st = self.lock();
        if st.idle > st.queued || st.workers >= self.max_workers {
            st.queued += 1;
            // Sent under the lock so a worker cannot count the job out before it is in.
            tx.send(job)
                .expect("a pool's queue outlives its sender: workers hold the receiver");
            return;
        }
        st.workers += 1;
        st.peak = st.peak.max(st.workers);
        st.started += 1;
        let n = st.started;
        drop(st);
        let pool = self.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("{}-w{n}", self.name))
            .spawn(move || worker(pool, job));
        if let Err(e) = spawned {
            // The job went down with the closure; nothing queued depends on this worker.
            let mut st = self.lock();
            st.workers -= 1;
            panic!("streamtree runtime could not start a worker thread: {e}");
        }
    }

    /// Waits until every worker has exited, at most `timeout`. Returns whether they did.
    /// On one of this pool's own workers it returns at once (a thread cannot wait for
    /// itself).
    pub(crate) fn wait_exited(&self, timeout: Duration) -> bool {
        if WORKER_OF.with(Cell::get) == self.id {
            return false;
        }
        let st = self.lock();
        let (st, _) = self
            .exited
            .wait_timeout_while(st, timeout, |st| st.workers > 0)
            .unwrap_or_else(PoisonError::into_inner);
        st.workers == 0
    }
}

/// Counts a worker out when it leaves, however it leaves (rayon's `Terminator`).
struct Retire<'a> {
    pool: &'a Pool,
    /// Already counted out under the lock (keep-alive retirement).
    done: bool,
}

impl Drop for Retire<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.pool.lock().workers -= 1;
        }
        self.pool.exited.notify_all();
    }
}

fn worker(pool: Arc<Pool>, first: Job) {
    WORKER_OF.with(|w| w.set(pool.id));
    let mut retire = Retire {
        pool: &pool,
        done: false,
    };
    run(first);
    loop {
        let mut st = pool.lock();
        match pool.rx.try_recv() {
            Ok(job) => {
                st.queued -= 1;
                drop(st);
                run(job);
                continue;
            }
            Err(TryRecvError::Disconnected) => return,
            Err(TryRecvError::Empty) => {}
        }
        st.idle += 1;
        drop(st);
        let received = pool.rx.recv_timeout(pool.keep_alive);
        let mut st = pool.lock();
        st.idle -= 1;
        match received {
            Ok(job) => {
                st.queued -= 1;
                drop(st);
                run(job);
            }
            Err(RecvTimeoutError::Timeout) => {
                if st.queued > st.idle {
                    // A job arrived as we timed out and no idle worker is left for it.
                    continue;
                }
                // Counted out under the same lock a submitter checks the bound under, so a
                // submitter never counts on a worker that is leaving.
                st.workers -= 1;
                retire.done = true;
                return;
            }
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}

fn run(job: Job) {
    // Task jobs contain their own panics; this only guards the pool against others.
    let _ = halt_unwinding(job);
}
