//! The worker pool: a FIFO `crossbeam-channel` job queue and elastic worker threads, started
//! on demand up to a bound and retired after a keep-alive when idle.
//!
//! Accounting is one atomic word, [`Counts`]: `idle` workers are blocked on the queue,
//! `queued` jobs are in it. A submitter starts a worker only when `idle <= queued` (no idle
//! worker is left for the new job) and the bound allows; otherwise the job waits in the
//! queue. One word, so every decision sees the three counts at one instant, without a lock.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TryRecvError};

use super::slot::Slot;
use super::unwind::halt_unwinding;

/// A unit of work: a task's slot, holding its closure. Task jobs catch their own panics;
/// the worker catches again anyway.
pub(crate) type Job = Arc<Slot>;

thread_local! {
    /// The id of the pool whose worker this thread is (0: none). Lets a runtime dropped on
    /// one of its own workers skip waiting for itself.
    static WORKER_OF: Cell<u64> = const { Cell::new(0) };
}

/// The pool's counts packed in one word: `workers` (bits 48..64), `idle` (32..48) and
/// `queued` (0..32).
/// - `workers`: live threads; incremented by a submitter before it starts one, decremented
///   by the thread as it leaves. Invariant: `workers <= max_workers <= MAX_BOUND`.
/// - `idle`: workers blocked on the queue; a worker increments it before blocking and
///   decrements it when it wakes. Invariant: `idle <= workers`.
/// - `queued`: jobs in the queue; a submitter increments it before sending, the worker that
///   received the job decrements it. So `idle - queued` is exactly the idle workers with no
///   job on its way to them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Counts {
    workers: u64,
    idle: u64,
    queued: u64,
}

const QUEUED: u64 = 1;
const IDLE: u64 = 1 << 32;
const WORKER: u64 = 1 << 48;
/// The largest bound a pool accepts (it must fit in the `workers` field).
pub(crate) const MAX_BOUND: usize = 0x7fff;

impl Counts {
    fn of(word: u64) -> Counts {
        Counts {
            workers: word >> 48,
            idle: (word >> 32) & 0xffff,
            queued: word & 0xffff_ffff,
        }
    }
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
    /// See [`Counts`].
    counts: AtomicU64,
    /// The most workers ever live at once (`fetch_max` by submitters).
    peak: AtomicUsize,
    /// Workers started so far; numbers thread names.
    started: AtomicU64,
    /// Taken by an exiting worker (after it counted itself out) to signal `exited`, and by
    /// `wait_exited` to wait on it; guards nothing else.
    exit_lock: Mutex<()>,
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
            max_workers: max_workers.clamp(1, MAX_BOUND),
            keep_alive,
            rx,
            counts: AtomicU64::new(0),
            peak: AtomicUsize::new(0),
            started: AtomicU64::new(0),
            exit_lock: Mutex::new(()),
            exited: Condvar::new(),
        });
        (pool, tx)
    }

    fn counts(&self) -> Counts {
        Counts::of(self.counts.load(Ordering::SeqCst))
    }

    pub(crate) fn max_workers(&self) -> usize {
        self.max_workers
    }

    pub(crate) fn workers(&self) -> usize {
        self.counts().workers as usize
    }

    pub(crate) fn peak_workers(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }

    /// Runs `job` on a worker: an idle one if any is free, else a new one if the bound
    /// allows, else it waits in the queue (FIFO).
    pub(crate) fn execute(self: &Arc<Self>, tx: &Sender<Job>, job: Job) {
        let mut word = self.counts.load(Ordering::SeqCst);
        loop {
            let c = Counts::of(word);
            let queue = c.idle > c.queued || c.workers >= self.max_workers as u64;
            let next = if queue { word + QUEUED } else { word + WORKER };
            match self
                .counts
                .compare_exchange_weak(word, next, Ordering::SeqCst, Ordering::SeqCst)
            {
                Ok(_) if queue => {
                    // Counted in before it is sent, so a worker counts it out only after.
                    tx.send(job)
                        .expect("a pool's queue outlives its sender: workers hold the receiver");
                    return;
                }
                Ok(_) => break,
                Err(actual) => word = actual,
            }
        }
        let live = Counts::of(word).workers as usize + 1;
        debug_assert!(live <= self.max_workers, "workers never exceed the bound");
        self.peak.fetch_max(live, Ordering::SeqCst);
        let n = self.started.fetch_add(1, Ordering::Relaxed) + 1;
        let pool = self.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("{}-w{n}", self.name))
            .spawn(move || worker(pool, job));
        if let Err(e) = spawned {
            // The job went down with the closure; nothing queued depends on this worker.
            self.counts.fetch_sub(WORKER, Ordering::SeqCst);
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
        let guard = self
            .exit_lock
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let (_guard, _) = self
            .exited
            .wait_timeout_while(guard, timeout, |()| self.workers() > 0)
            .unwrap_or_else(PoisonError::into_inner);
        self.workers() == 0
    }
}

/// Counts a worker out when it leaves, however it leaves (rayon's `Terminator`).
struct Retire<'a> {
    pool: &'a Pool,
    /// Already counted out (keep-alive retirement does it in its own CAS).
    done: bool,
}

impl Drop for Retire<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.pool.counts.fetch_sub(WORKER, Ordering::SeqCst);
        }
        drop(
            self.pool
                .exit_lock
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
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
        match pool.rx.try_recv() {
            Ok(job) => {
                pool.counts.fetch_sub(QUEUED, Ordering::SeqCst);
                run(job);
                continue;
            }
            Err(TryRecvError::Disconnected) => return,
            Err(TryRecvError::Empty) => {}
        }
        pool.counts.fetch_add(IDLE, Ordering::SeqCst);
        match wait_for_job(&pool) {
            Ok(job) => {
                pool.counts.fetch_sub(IDLE + QUEUED, Ordering::SeqCst);
                run(job);
            }
            Err(RecvTimeoutError::Timeout) => {
                if retire_idle(&pool) {
                    retire.done = true;
                    return;
                }
            }
            Err(RecvTimeoutError::Disconnected) => {
                pool.counts.fetch_sub(IDLE, Ordering::SeqCst);
                return;
            }
        }
    }
}

/// Rounds of `yield_now` an idle worker polls the queue before it blocks (rayon's idle
/// workers yield 32 rounds before they sleep).
const SPIN_ROUNDS: u32 = 32;

/// The next job for an idle worker (counted in `idle`): polls the queue for a few rounds,
/// yielding the core between them, then blocks up to `keep_alive`. A busy submitter
/// usually queues the next job within those rounds, and a worker that never blocked costs
/// it no wake-up (a futex syscall per job otherwise).
fn wait_for_job(pool: &Pool) -> Result<Job, RecvTimeoutError> {
    for _ in 0..SPIN_ROUNDS {
        match pool.rx.try_recv() {
            Ok(job) => return Ok(job),
            Err(TryRecvError::Disconnected) => return Err(RecvTimeoutError::Disconnected),
            Err(TryRecvError::Empty) => std::thread::yield_now(),
        }
    }
    pool.rx.recv_timeout(pool.keep_alive)
}

/// After a keep-alive without work: stops being idle and, unless a job arrived that no
/// other idle worker is left for, counts the worker out in the same step (so a submitter
/// never counts on a worker that is leaving). True when the worker must exit.
fn retire_idle(pool: &Pool) -> bool {
    let mut word = pool.counts.load(Ordering::SeqCst);
    loop {
        let c = Counts::of(word);
        let stay = c.queued > c.idle - 1;
        let next = if stay {
            word - IDLE
        } else {
            word - IDLE - WORKER
        };
        match pool
            .counts
            .compare_exchange_weak(word, next, Ordering::SeqCst, Ordering::SeqCst)
        {
            Ok(_) => return !stay,
            Err(actual) => word = actual,
        }
    }
}

fn run(job: Job) {
    // Task jobs contain their own panics; this only guards the pool against others.
    let _ = halt_unwinding(|| super::run_task(job));
}
