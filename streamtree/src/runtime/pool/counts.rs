//! The pool's lock-free accounting: how many workers live, how many of them are idle and
//! how many jobs are queued, in one atomic word, and every transition on it. Each decision
//! (start a worker or queue; retire or stay) is one compare-and-swap over all three counts,
//! so it sees them at one instant without a lock. Model-checked in `runtime/loom_pool.rs`.

use std::sync::atomic::Ordering;

use crate::runtime::sync::AtomicU64;

/// The largest bound a pool accepts (it must fit in the `workers` field).
pub(crate) const MAX_BOUND: usize = 0x7fff;

const QUEUED: u64 = 1;
const IDLE: u64 = 1 << 32;
const WORKER: u64 = 1 << 48;

/// The three counts, read at one instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Snapshot {
    pub(crate) workers: u64,
    pub(crate) idle: u64,
    pub(crate) queued: u64,
}

impl Snapshot {
    fn of(word: u64) -> Snapshot {
        Snapshot {
            workers: word >> 48,
            idle: (word >> 32) & 0xffff,
            queued: word & 0xffff_ffff,
        }
    }
}

/// What a submitter does with a new job, decided by [`Counts::claim`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Claim {
    /// Counted in as queued: send it; an idle or busy worker takes it.
    Queue,
    /// Counted in as a new worker (`live` workers now, itself included): start a thread
    /// that runs the job first.
    Spawn { live: usize },
}

/// What becomes of a job whose new worker could not start, decided by
/// [`Counts::spawn_failed`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fallback {
    /// Another worker lives and the job is counted in as queued: send it.
    Queue,
    /// No worker lives to take it: the task must end in Error.
    Fail,
}

/// The pool's counts packed in one word: `workers` (bits 48..64), `idle` (32..48) and
/// `queued` (0..32).
/// - `workers`: live threads; counted in by a submitter before it starts one
///   ([`claim`](Self::claim)), counted out by the thread as it leaves ([`left`](Self::left),
///   [`retire_idle`](Self::retire_idle)) or by the submitter when the thread could not start
///   ([`spawn_failed`](Self::spawn_failed)). Invariant: `workers <= max_workers <= MAX_BOUND`.
/// - `idle`: workers waiting on the queue; a worker counts itself in before it waits and out
///   when it wakes. Invariant: `idle <= workers`.
/// - `queued`: jobs sent or about to be sent; counted in before the send, out by the worker
///   that received the job. So `idle - queued` is exactly the idle workers with no job on
///   its way to them.
///
/// No job is stranded: a job is counted in as queued only while `workers > 0` (a worker that
/// counted itself in is alive), and a worker counts itself out only while some other worker
/// is left for the queued jobs (`retire_idle`) or once the queue is closed.
pub(crate) struct Counts {
    word: AtomicU64,
}

impl Counts {
    pub(crate) fn new() -> Counts {
        Counts {
            word: AtomicU64::new(0),
        }
    }

    pub(crate) fn load(&self) -> Snapshot {
        Snapshot::of(self.word.load(Ordering::SeqCst))
    }

    /// Applies `step` to the word until the CAS succeeds; returns `step`'s verdict.
    fn update<R>(&self, mut step: impl FnMut(Snapshot) -> (u64, R)) -> R {
        let mut word = self.word.load(Ordering::SeqCst);
        loop {
            let (next, verdict) = step(Snapshot::of(word));
            match self
                .word
                .compare_exchange_weak(word, next, Ordering::SeqCst, Ordering::SeqCst)
            {
                Ok(_) => return verdict,
                Err(actual) => word = actual,
            }
        }
    }

    /// A submitter's new job: queue it when an idle worker with no job on its way is left
    /// for it or the bound is reached; otherwise count in a new worker to start for it.
    pub(crate) fn claim(&self, max_workers: usize) -> Claim {
        self.update(|c| {
            if c.idle > c.queued || c.workers >= max_workers as u64 {
                (pack(c) + QUEUED, Claim::Queue)
            } else {
                let live = c.workers as usize + 1;
                debug_assert!(live <= max_workers, "workers never exceed the bound");
                (pack(c) + WORKER, Claim::Spawn { live })
            }
        })
    }

    /// The thread [`claim`](Self::claim) counted in could not start: counts it out and, in
    /// the same step, counts its job in as queued when another worker lives to take it.
    pub(crate) fn spawn_failed(&self) -> Fallback {
        self.update(|c| {
            let word = pack(c) - WORKER;
            debug_assert!(c.workers > 0, "the failed worker was counted in");
            if c.workers > 1 {
                (word + QUEUED, Fallback::Queue)
            } else {
                (word, Fallback::Fail)
            }
        })
    }

    /// A worker received a queued job without waiting.
    pub(crate) fn took(&self) {
        let before = self.word.fetch_sub(QUEUED, Ordering::SeqCst);
        debug_assert!(
            Snapshot::of(before).queued > 0,
            "a received job was counted in"
        );
    }

    /// A worker found the queue empty and is about to wait on it.
    pub(crate) fn idle(&self) {
        self.word.fetch_add(IDLE, Ordering::SeqCst);
    }

    /// An idle worker received a job: neither idle nor queued any more.
    pub(crate) fn woke(&self) {
        let before = Snapshot::of(self.word.fetch_sub(IDLE + QUEUED, Ordering::SeqCst));
        debug_assert!(
            before.idle > 0 && before.queued > 0,
            "a woken worker was idle, its job queued"
        );
    }

    /// An idle worker found the queue closed and drained: it leaves (its `Retire` guard
    /// counts it out of `workers`).
    pub(crate) fn closed(&self) {
        self.word.fetch_sub(IDLE, Ordering::SeqCst);
    }

    /// After a keep-alive without work: stops being idle and, unless a job is queued that no
    /// other idle worker is left for, counts the worker out in the same step (so a submitter
    /// never counts on a worker that is leaving). True when the worker must exit.
    pub(crate) fn retire_idle(&self) -> bool {
        self.update(|c| {
            debug_assert!(c.idle > 0, "only an idle worker retires");
            let stay = c.queued > c.idle - 1;
            if stay {
                (pack(c) - IDLE, false)
            } else {
                (pack(c) - IDLE - WORKER, true)
            }
        })
    }

    /// A worker leaves (queue closed, or unwinding) without `retire_idle`.
    pub(crate) fn left(&self) {
        self.word.fetch_sub(WORKER, Ordering::SeqCst);
    }
}

fn pack(c: Snapshot) -> u64 {
    c.workers * WORKER + c.idle * IDLE + c.queued * QUEUED
}
