//! The worker pool: elastic worker threads, started on demand up to a bound and retired
//! after a keep-alive when idle, serving a queue that is fair across task sets.
//!
//! - Jobs wait in [`Lanes`]: one FIFO per task set, served round-robin (see `lanes.rs`).
//! - Workers wait on a `crossbeam-channel` of tokens, one per queued job: a job is pushed
//!   to its lane before its token is sent, and a worker pops a job only after it received a
//!   token, so a received token always finds a job (pushes ≥ sends ≥ receives ≥ pops).
//!   Which job it pops is the ring's choice, not the token's.
//! - Accounting is one atomic word, [`Counts`] (see `counts.rs`): a submitter starts a
//!   worker only when no idle worker is left for its job and the bound allows; otherwise
//!   the job is queued. A thread that fails to start hands its job to a live worker, or,
//!   with none alive, ends the task in Error with the spawn error.

mod counts;
mod lanes;
#[cfg(all(test, not(streamtree_loom)))]
mod tests;

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TryRecvError};

use self::counts::MAX_BOUND;
pub(crate) use self::counts::{Claim, Counts, Fallback};
pub(crate) use self::lanes::Lane;
use self::lanes::Lanes;
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

/// The sending side of a pool's queue, held by its runtime. Dropping it closes the queue:
/// workers drain what is queued, then exit.
pub(crate) struct Queue {
    tokens: Sender<()>,
}

/// A new worker's first job, handed over through a shared cell so that the submitter gets
/// it back when the thread cannot start (the thread's closure is dropped with it).
type Handoff = Arc<Mutex<Option<Job>>>;

/// The shared part of a pool: what workers hold.
pub(crate) struct Pool {
    /// Unique per process; names threads `streamtree-rt{id}-w{n}`.
    pub(crate) id: u64,
    /// Thread-name prefix.
    name: String,
    max_workers: usize,
    keep_alive: Duration,
    /// Queued jobs, by task set (see [`Lanes`]). Written by submitters (push) and by
    /// workers that received a token (pop).
    lanes: Lanes,
    /// One token per queued job; see the module header for the order of push and send.
    tokens: Receiver<()>,
    /// See [`Counts`].
    counts: Counts,
    /// The most workers ever live at once (`fetch_max` by submitters).
    peak: AtomicUsize,
    /// Workers started so far; numbers thread names.
    started: AtomicU64,
    /// Taken by an exiting worker (after it counted itself out) to signal `exited`, and by
    /// `wait_exited` to wait on it; guards nothing else.
    exit_lock: Mutex<()>,
    /// Signalled when a worker exits; `Runtime`'s drop waits on it.
    exited: Condvar,
    /// Spawns still to fail on purpose, for tests of the spawn-failure paths.
    #[cfg(test)]
    fail_spawns: AtomicUsize,
}

impl Pool {
    /// A pool and the sending side of its queue.
    pub(crate) fn new(
        id: u64,
        name: String,
        max_workers: usize,
        keep_alive: Duration,
    ) -> (Arc<Pool>, Queue) {
        let (tx, rx) = crossbeam_channel::unbounded();
        let pool = Arc::new(Pool {
            id,
            name,
            max_workers: max_workers.clamp(1, MAX_BOUND),
            keep_alive,
            lanes: Lanes::new(),
            tokens: rx,
            counts: Counts::new(),
            peak: AtomicUsize::new(0),
            started: AtomicU64::new(0),
            exit_lock: Mutex::new(()),
            exited: Condvar::new(),
            #[cfg(test)]
            fail_spawns: AtomicUsize::new(0),
        });
        (pool, Queue { tokens: tx })
    }

    pub(crate) fn max_workers(&self) -> usize {
        self.max_workers
    }

    pub(crate) fn workers(&self) -> usize {
        self.counts.load().workers as usize
    }

    /// How many jobs are ahead of `slot` in `lane`; `None` if it is not queued there.
    pub(crate) fn position(&self, lane: &Lane, slot: &Slot) -> Option<usize> {
        self.lanes.position(lane, slot)
    }

    pub(crate) fn peak_workers(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }

    /// Runs `job` (a task of the set that owns `lane`) on a worker: an idle one if any is
    /// free, else a new one if the bound allows, else it waits in `lane` (FIFO within the
    /// lane, round-robin across lanes). If a new worker cannot start, the job is queued
    /// for a live one, or with none alive its task ends in Error.
    pub(crate) fn execute(self: &Arc<Self>, queue: &Queue, lane: &Lane, job: Job) {
        let Claim::Spawn { live } = self.counts.claim(self.max_workers) else {
            self.enqueue(queue, lane, job);
            return;
        };
        let n = self.started.fetch_add(1, Ordering::Relaxed) + 1;
        let handoff: Handoff = Arc::new(Mutex::new(Some(job)));
        let pool = self.clone();
        let first = handoff.clone();
        let Err(e) = self.spawn(format!("{}-w{n}", self.name), move || worker(pool, &first)) else {
            self.peak.fetch_max(live, Ordering::SeqCst);
            return;
        };
        let job = handoff
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
            .expect("a thread that could not start never took its first job");
        match self.counts.spawn_failed() {
            Fallback::Queue => self.enqueue(queue, lane, job),
            Fallback::Fail => fail(&job, format!("could not start a worker thread: {e}")),
        }
    }

    /// Queues a job already counted in as queued: into its lane, then its token.
    fn enqueue(&self, queue: &Queue, lane: &Lane, job: Job) {
        self.lanes.push(lane, job);
        queue
            .tokens
            .send(())
            .expect("a pool's queue outlives its sender: workers hold the receiver");
    }

    /// The job for a token a worker received.
    fn next_job(&self) -> Job {
        self.lanes
            .pop()
            .expect("a received token finds its job: jobs are pushed before their token")
    }

    /// Starts a worker thread running `f`. On error `f` was dropped unrun.
    fn spawn(&self, name: String, f: impl FnOnce() + Send + 'static) -> std::io::Result<()> {
        #[cfg(test)]
        if self
            .fail_spawns
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            drop(f);
            return Err(std::io::Error::other("spawn failure injected by a test"));
        }
        std::thread::Builder::new().name(name).spawn(f).map(drop)
    }

    /// Makes the next `n` worker spawns fail (tests of the spawn-failure paths).
    #[cfg(all(test, not(streamtree_loom)))]
    pub(crate) fn fail_next_spawns(&self, n: usize) {
        self.fail_spawns.store(n, Ordering::SeqCst);
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

/// Ends a task that no worker can run: Error with `message`, its closure dropped unrun
/// (before the end is published, so a waiter sees its captures gone). A task cancelled
/// meanwhile stays Cancelled.
fn fail(job: &Job, message: String) {
    let started = job.start();
    job.discard_fn();
    if started {
        let (change, discarded, next, trash) = job.finish_attempt(Err(message));
        debug_assert!(
            discarded.is_none(),
            "only this thread ends the task it started"
        );
        drop(trash);
        // A task with retries left waits for its next attempt (which may find a worker).
        super::life::follow(job, next);
        job.publish(change);
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
            self.pool.counts.left();
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

fn worker(pool: Arc<Pool>, first: &Handoff) {
    WORKER_OF.with(|w| w.set(pool.id));
    let mut retire = Retire {
        pool: &pool,
        done: false,
    };
    let first = first.lock().unwrap_or_else(PoisonError::into_inner).take();
    if let Some(job) = first {
        run(job);
    }
    loop {
        match pool.tokens.try_recv() {
            Ok(()) => {
                pool.counts.took();
                run(pool.next_job());
                continue;
            }
            Err(TryRecvError::Disconnected) => return,
            Err(TryRecvError::Empty) => {}
        }
        pool.counts.idle();
        match wait_for_token(&pool) {
            Ok(()) => {
                pool.counts.woke();
                run(pool.next_job());
            }
            Err(RecvTimeoutError::Timeout) => {
                if pool.counts.retire_idle() {
                    retire.done = true;
                    return;
                }
            }
            Err(RecvTimeoutError::Disconnected) => {
                pool.counts.closed();
                return;
            }
        }
    }
}

/// Rounds of `yield_now` an idle worker polls the queue before it blocks (rayon's idle
/// workers yield 32 rounds before they sleep). Kept for its measured win on a lone task
/// (`cargo bench -p streamtree --bench tasks`, one run each, 2 loaded cores): the
/// submit → run → subscriber-wakes round trip took a median 2.8 µs with 32 rounds and
/// 11.3 µs with none (notification latency p50 2.0 µs against 5.3 µs), as the next job
/// finds its worker still polling instead of asleep on a futex. Throughput of 100,000
/// trivial tasks showed no difference beyond the noise (2.1–2.8 against 2.3–2.6 Mitems/s).
const SPIN_ROUNDS: u32 = 32;

/// The next token for an idle worker (counted in `idle`): polls the queue for a few rounds,
/// yielding the core between them, then blocks up to `keep_alive`. A busy submitter
/// usually queues the next job within those rounds, and a worker that never blocked costs
/// it no wake-up (a futex syscall per job otherwise).
fn wait_for_token(pool: &Pool) -> Result<(), RecvTimeoutError> {
    for _ in 0..SPIN_ROUNDS {
        match pool.tokens.try_recv() {
            Ok(()) => return Ok(()),
            Err(TryRecvError::Disconnected) => return Err(RecvTimeoutError::Disconnected),
            Err(TryRecvError::Empty) => std::thread::yield_now(),
        }
    }
    pool.tokens.recv_timeout(pool.keep_alive)
}

fn run(job: Job) {
    // Task jobs contain their own panics; this only guards the pool against others.
    let _ = halt_unwinding(|| super::run_task(job));
}
