//! Loom model checks of the pool's lock-free worker counts (`pool/counts.rs`): submitters
//! claiming (start a worker or queue), workers taking jobs, going idle, waking and retiring
//! after a keep-alive, and a spawn that fails, in every interleaving. Checked: `workers`
//! never exceeds the bound and `idle` never exceeds `workers`; every job runs exactly once
//! or (failed spawn, no live worker) fails; no queued job is stranded with no worker; all
//! counts return to zero.
//!
//! The real `Counts` run on loom's atomics (through `sync.rs`). The queue (lanes and
//! token channel) is modelled by a counter of sent tokens under a loom mutex: what the
//! counts must agree with. A worker's blocking wait is one poll of that counter: finding
//! nothing stands for a keep-alive timeout, so retirement races every submit.
//!
//! Run: `RUSTFLAGS="--cfg streamtree_loom" cargo test -p streamtree --release --lib runtime::loom`

use std::sync::Arc;

use loom::sync::Mutex;
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::thread::{self, JoinHandle};

use super::pool::{Claim, Counts, Fallback};

/// Jobs each model submits in all.
const JOBS: usize = 2;

struct Model {
    max_workers: usize,
    counts: Counts,
    /// The queue: tokens sent and not yet received, and whether it is closed (the
    /// runtime dropped its sending side).
    queue: Mutex<(usize, bool)>,
    /// Jobs run by workers.
    ran: AtomicUsize,
    /// Jobs whose task ended in Error (failed spawn, no live worker).
    failed: AtomicUsize,
    /// Workers started, for the model to join.
    workers: Mutex<Vec<JoinHandle<()>>>,
}

impl Model {
    fn new(max_workers: usize) -> Arc<Model> {
        Arc::new(Model {
            max_workers,
            counts: Counts::new(),
            queue: Mutex::new((0, false)),
            ran: AtomicUsize::new(0),
            failed: AtomicUsize::new(0),
            workers: Mutex::new(Vec::new()),
        })
    }

    fn check(&self) {
        let c = self.counts.load();
        assert!(
            c.workers as usize <= self.max_workers,
            "workers never exceed the bound: {c:?}"
        );
        assert!(c.idle <= c.workers, "idle workers are live workers: {c:?}");
    }

    fn send(&self) {
        let mut queue = self.queue.lock().unwrap();
        assert!(!queue.1, "no submit after the runtime dropped its queue");
        queue.0 += 1;
    }

    /// The channel's `try_recv` (and, for an idle worker, its `recv_timeout`, where `Empty`
    /// stands for the keep-alive timeout): closed only once drained.
    fn try_recv(&self) -> Recv {
        let mut queue = self.queue.lock().unwrap();
        match *queue {
            (0, false) => Recv::Empty,
            (0, true) => Recv::Closed,
            (ref mut tokens, _) => {
                *tokens -= 1;
                Recv::Token
            }
        }
    }

    /// The runtime drops its last handle: the queue closes.
    fn close(&self) {
        self.queue.lock().unwrap().1 = true;
    }

    fn run(&self) {
        self.ran.fetch_add(1, Ordering::SeqCst);
    }

    /// `Pool::execute`; `spawn_works` decides whether this submitter's thread starts.
    fn execute(self: &Arc<Self>, spawn_works: bool) {
        let claim = self.counts.claim(self.max_workers);
        self.check();
        let Claim::Spawn { live } = claim else {
            self.send();
            return;
        };
        assert!(live <= self.max_workers, "a claimed worker fits the bound");
        if spawn_works {
            let model = self.clone();
            let handle = thread::spawn(move || model.worker());
            self.workers.lock().unwrap().push(handle);
            return;
        }
        match self.counts.spawn_failed() {
            Fallback::Queue => self.send(),
            Fallback::Fail => {
                self.failed.fetch_add(1, Ordering::SeqCst);
            }
        }
        self.check();
    }

    /// The `worker` loop: its first job, then queued ones, until it retires or finds the
    /// queue closed.
    fn worker(&self) {
        self.run();
        loop {
            match self.try_recv() {
                Recv::Token => {
                    self.counts.took();
                    self.run();
                    continue;
                }
                Recv::Closed => return self.counts.left(),
                Recv::Empty => {}
            }
            self.counts.idle();
            self.check();
            match self.try_recv() {
                Recv::Token => {
                    self.counts.woke();
                    self.run();
                }
                Recv::Closed => {
                    self.counts.closed();
                    self.counts.left();
                    return;
                }
                Recv::Empty if self.counts.retire_idle() => return,
                // Stayed: a job is counted in whose token is on its way.
                Recv::Empty => thread::yield_now(),
            }
        }
    }

    /// Joins every worker (submitters are done), then checks the end state.
    fn settle(&self) {
        loop {
            let next = self.workers.lock().unwrap().pop();
            match next {
                Some(w) => w.join().unwrap(),
                None => break,
            }
        }
        let (ran, failed) = (
            self.ran.load(Ordering::SeqCst),
            self.failed.load(Ordering::SeqCst),
        );
        assert_eq!(
            ran + failed,
            JOBS,
            "every job ran once or failed; none stranded"
        );
        assert_eq!(self.queue.lock().unwrap().0, 0, "no token left unreceived");
        let c = self.counts.load();
        assert_eq!(
            (c.workers, c.idle, c.queued),
            (0, 0, 0),
            "every count returns to zero"
        );
    }
}

/// What a worker's poll of the queue finds.
enum Recv {
    Token,
    Empty,
    Closed,
}

fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    // The retire-and-stay loop multiplies interleavings; three preemptions cover every
    // race between one claim, one retirement and one wake-up.
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(3);
    }
    builder.check(f);
}

/// Two submitters, one worker at most: a submit races a worker's retirement; the second
/// job either reaches the live worker or starts a new one after the first left.
#[test]
fn counts_one_worker() {
    model(|| {
        let m = Model::new(1);
        let other = {
            let m = m.clone();
            thread::spawn(move || m.execute(true))
        };
        m.execute(true);
        other.join().unwrap();
        m.settle();
    });
}

/// Two submitters, two workers at most: both may start a worker, or one queues to the
/// other's; retirements race both.
#[test]
fn counts_two_workers() {
    model(|| {
        let m = Model::new(2);
        let other = {
            let m = m.clone();
            thread::spawn(move || m.execute(true))
        };
        m.execute(true);
        other.join().unwrap();
        m.settle();
    });
}

/// One submitter's spawn fails while the other's works: the failed job is queued to the
/// live worker when there is one at that instant, else its task fails; never both, never
/// lost, and the failed worker is not counted.
#[test]
fn counts_failed_spawn() {
    model(|| {
        let m = Model::new(2);
        let other = {
            let m = m.clone();
            thread::spawn(move || m.execute(true))
        };
        m.execute(false);
        other.join().unwrap();
        m.settle();
        assert!(
            m.failed.load(Ordering::SeqCst) <= 1,
            "only the failed spawn's job"
        );
    });
}

/// The runtime drops its queue once both submits returned, racing the workers: they drain
/// every queued job before they see the queue closed, and each leaves counted out once,
/// whether it retired first or saw the close (idle or between jobs).
#[test]
fn counts_close_races_workers() {
    model(|| {
        let m = Model::new(1);
        let other = {
            let m = m.clone();
            thread::spawn(move || m.execute(true))
        };
        m.execute(true);
        other.join().unwrap();
        m.close();
        m.settle();
    });
}
