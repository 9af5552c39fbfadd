//! The task runtime: [`Runtime`] (a bounded, elastic worker pool shared by many sessions),
//! `TaskSet` (one session's tasks by key) and [`Subscription`] (change notifications).
//!
//! See `README.md` beside this file for the state machine, the keyed-dedupe rules and
//! shutdown. The public task API is [`crate::asyncio`].

mod active;
mod builder;
mod cancelled;
mod closure;
mod current;
mod defer;
mod handle;
pub(crate) mod life;
mod pool;
mod retry;
mod run;
mod set;
mod share;
mod slot;
mod status;
mod subscription;
mod summary;
mod sync;
mod table;
pub(crate) mod timer;
mod timing;
mod unwind;

#[cfg(all(test, streamtree_loom))]
mod loom;
#[cfg(all(test, streamtree_loom))]
mod loom_defer;
#[cfg(all(test, streamtree_loom))]
mod loom_pool;
#[cfg(all(test, not(streamtree_loom)))]
mod tests;

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

pub use self::builder::TaskBuilder;
pub use self::cancelled::Cancelled;
use self::current::WorkerScope;
pub(crate) use self::current::{current_set, enter, find_current, is_own_task};
pub(crate) use self::defer::{Deferred, Ran};
pub use self::handle::{TaskContext, TaskHandle};
pub(crate) use self::life::value_of;
use self::pool::{Job, Lane, Pool, Queue};
pub use self::retry::Retry;
pub(crate) use self::set::TaskSet;
pub(crate) use self::slot::Change;
pub(crate) use self::slot::{MAX_SLOT_BYTES, Outcome, Slot, TaskValue};
pub use self::status::{Progress, TaskStatus};
pub use self::subscription::Subscription;
pub use self::summary::TaskSummary;
pub(crate) use self::unwind::halt_unwinding;
pub(crate) use self::unwind::panic_message;

/// A running task outside any session, for a job a worker process runs: its handle-less
/// slot carries the cancel request and progress of `TaskContext`.
#[cfg(feature = "nats")]
pub(crate) fn detached_running_slot(key: &str) -> Arc<Slot> {
    let slot = Slot::new::<()>(key, self::slot::SetLink::detached(), false);
    let started = slot.start();
    debug_assert!(started, "a new slot is Pending, so it starts");
    slot
}
use crate::jobs::{InProcess, JobBackend, Jobs};

static NEXT_RUNTIME_ID: AtomicU64 = AtomicU64::new(1);

/// A pool of worker threads that runs background tasks, shared by any number of sessions.
///
/// Workers start on demand up to [`max_workers`](RuntimeBuilder::max_workers) and exit
/// after [`keep_alive`](RuntimeBuilder::keep_alive) without work; tasks beyond the bound
/// wait as `Pending`, first in first out within a session, while sessions with waiting
/// tasks take turns (one task each), so one session's backlog cannot starve another's.
/// Threads are named `streamtree-rt{id}-w{n}`.
/// Cloning is cheap; dropping the last clone shuts the pool down and waits (bounded by
/// [`shutdown_timeout`](RuntimeBuilder::shutdown_timeout)) for its workers to exit.
///
/// # Example
/// ```
/// use streamtree::{Runtime, Session};
/// let rt = Runtime::builder().max_workers(4).build();
/// let sessions: Vec<Session> =
///     (0..100).map(|_| Session::builder().runtime(rt.clone()).build()).collect();
/// assert_eq!(rt.max_workers(), 4);
/// # drop(sessions);
/// ```
#[derive(Clone)]
pub struct Runtime {
    inner: Arc<RuntimeInner>,
}

pub(crate) struct RuntimeInner {
    pool: Arc<Pool>,
    /// The tasks shared by all sessions on this runtime (`task(..).shared()`), created
    /// on first use. Its set holds this runtime weakly.
    shared: OnceLock<Arc<TaskSet>>,
    /// The queue's sending side; taken (closing the queue) when the runtime drops.
    tx: Option<Queue>,
    shutdown_timeout: Duration,
    /// What runs jobs (`jobs::JobBackend`): set at build, never changed.
    jobs: Arc<dyn JobBackend>,
}

impl Drop for RuntimeInner {
    fn drop(&mut self) {
        if let Some(shared) = self.shared.get() {
            shared.close();
        }
        drop(self.tx.take());
        self.pool.wait_exited(self.shutdown_timeout);
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("id", &self.inner.pool.id)
            .field("max_workers", &self.max_workers())
            .field("workers", &self.workers())
            .finish()
    }
}

/// Configures a [`Runtime`].
///
/// # Example
/// ```
/// use std::time::Duration;
/// let rt = streamtree::Runtime::builder()
///     .max_workers(8)
///     .keep_alive(Duration::from_secs(30))
///     .build();
/// assert_eq!(rt.max_workers(), 8);
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct RuntimeBuilder {
    max_workers: usize,
    keep_alive: Duration,
    shutdown_timeout: Duration,
    jobs: Jobs,
    backend: Option<Arc<dyn JobBackend>>,
    #[cfg(feature = "persist")]
    persist: Option<std::path::PathBuf>,
}

impl Runtime {
    /// Default bound on worker threads: tasks are mostly blocking I/O (HTTP calls, database
    /// queries, file reads) that wait far more than they compute, so the bound is set by how
    /// many waits may overlap, not by the core count. 64 idle-retiring threads cost little.
    ///
    /// # Example
    /// ```
    /// use streamtree::Runtime;
    /// assert_eq!(Runtime::builder().build().max_workers(), Runtime::DEFAULT_MAX_WORKERS);
    /// ```
    pub const DEFAULT_MAX_WORKERS: usize = 64;
    /// Default time an idle worker waits for work before it exits.
    ///
    /// # Example
    /// ```
    /// assert_eq!(streamtree::Runtime::DEFAULT_KEEP_ALIVE.as_secs(), 10);
    /// ```
    pub const DEFAULT_KEEP_ALIVE: Duration = Duration::from_secs(10);
    /// Default longest wait, when the last handle to a runtime drops, for its workers to exit.
    ///
    /// # Example
    /// ```
    /// assert_eq!(streamtree::Runtime::DEFAULT_SHUTDOWN_TIMEOUT.as_secs(), 5);
    /// ```
    pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

    /// A builder with the defaults: [`DEFAULT_MAX_WORKERS`](Self::DEFAULT_MAX_WORKERS)
    /// workers, [`DEFAULT_KEEP_ALIVE`](Self::DEFAULT_KEEP_ALIVE),
    /// [`DEFAULT_SHUTDOWN_TIMEOUT`](Self::DEFAULT_SHUTDOWN_TIMEOUT).
    ///
    /// # Example
    /// ```
    /// let rt = streamtree::Runtime::builder().build();
    /// assert_eq!(rt.max_workers(), streamtree::Runtime::DEFAULT_MAX_WORKERS);
    /// ```
    pub fn builder() -> RuntimeBuilder {
        RuntimeBuilder {
            max_workers: Self::DEFAULT_MAX_WORKERS,
            keep_alive: Self::DEFAULT_KEEP_ALIVE,
            shutdown_timeout: Self::DEFAULT_SHUTDOWN_TIMEOUT,
            jobs: Jobs::new(),
            backend: None,
            #[cfg(feature = "persist")]
            persist: None,
        }
    }

    /// The process-wide runtime, created on first use with the defaults; it lives until
    /// the process exits. Sessions built without options use it.
    ///
    /// # Example
    /// ```
    /// use streamtree::Runtime;
    /// assert_eq!(Runtime::global().id(), Runtime::global().id());
    /// ```
    pub fn global() -> Runtime {
        static GLOBAL: OnceLock<Runtime> = OnceLock::new();
        GLOBAL.get_or_init(|| Runtime::builder().build()).clone()
    }

    /// A number unique to this runtime within the process (the `{id}` in thread names).
    ///
    /// # Example
    /// ```
    /// use streamtree::Runtime;
    /// assert_ne!(Runtime::builder().build().id(), Runtime::builder().build().id());
    /// ```
    pub fn id(&self) -> u64 {
        self.inner.pool.id
    }

    /// The bound on worker threads.
    ///
    /// # Example
    /// ```
    /// assert_eq!(streamtree::Runtime::builder().max_workers(3).build().max_workers(), 3);
    /// ```
    pub fn max_workers(&self) -> usize {
        self.inner.pool.max_workers()
    }

    /// Worker threads alive now.
    ///
    /// # Example
    /// ```
    /// assert_eq!(streamtree::Runtime::builder().build().workers(), 0);
    /// ```
    pub fn workers(&self) -> usize {
        self.inner.pool.workers()
    }

    /// The most worker threads ever alive at once; never above
    /// [`max_workers`](Self::max_workers).
    ///
    /// # Example
    /// ```
    /// assert_eq!(streamtree::Runtime::builder().build().peak_workers(), 0);
    /// ```
    pub fn peak_workers(&self) -> usize {
        self.inner.pool.peak_workers()
    }

    /// What runs this runtime's jobs.
    pub(crate) fn job_backend(&self) -> Arc<dyn JobBackend> {
        self.inner.jobs.clone()
    }

    /// The runtime's set of shared tasks, created on first use.
    pub(crate) fn shared_set(&self) -> Arc<TaskSet> {
        self.inner
            .shared
            .get_or_init(|| TaskSet::new_shared(Arc::downgrade(&self.inner)))
            .clone()
    }

    /// The runtime's set of shared tasks, if one was ever created.
    pub(crate) fn shared_set_if_any(&self) -> Option<Arc<TaskSet>> {
        self.inner.shared.get().cloned()
    }

    /// How many jobs are ahead of `slot` in `lane`; `None` if it is not queued there.
    pub(crate) fn lane_position(&self, lane: &Lane, slot: &Slot) -> Option<usize> {
        self.inner.pool.position(lane, slot)
    }

    /// Runs `job`, a task of the set that owns `lane` (see `Pool::execute`).
    pub(crate) fn execute(&self, lane: &Lane, job: Job) {
        let tx = self
            .inner
            .tx
            .as_ref()
            .expect("a live runtime has its queue: the sender is taken only in drop");
        self.inner.pool.execute(tx, lane, job);
    }
}

impl RuntimeBuilder {
    /// The jobs this runtime can run ([`jobs::job`](crate::jobs::job) submits them); a
    /// job not in `jobs` ends its task in Error naming it. Default: none.
    ///
    /// # Example
    /// ```
    /// let rt = streamtree::Runtime::builder().jobs(streamtree::jobs::Jobs::new()).build();
    /// # drop(rt);
    /// ```
    pub fn jobs(mut self, jobs: Jobs) -> Self {
        self.jobs = jobs;
        self
    }

    /// Runs jobs on `backend` instead of in process (then [`jobs`](Self::jobs) and
    /// [`persist`](Self::persist) are the backend's business and ignored here).
    ///
    /// # Example
    /// ```
    /// use std::sync::Arc;
    /// use streamtree::jobs::{InProcess, Jobs};
    /// let rt = streamtree::Runtime::builder().backend(Arc::new(InProcess::new(Jobs::new()))).build();
    /// # drop(rt);
    /// ```
    pub fn backend(mut self, backend: Arc<dyn JobBackend>) -> Self {
        self.backend = Some(backend);
        self
    }

    /// Keeps finished job results in the redb file at `path`, so that they survive a
    /// restart: a new runtime on the same path shows a finished job's result without
    /// running it again (its first attempt reads the store instead), and starts again
    /// the runs that were under way when the process died (a marker is written before
    /// each run and removed when it ends; such a run may then run twice if a session
    /// submits it before the resumed run finished). Outputs are stored as serde_json.
    /// A file it cannot read (another format, corrupted) is renamed aside
    /// (`<path>.unreadable-<unix seconds>`) with a warning and a new store is made;
    /// one it cannot create at all leaves jobs unpersisted, with a warning. Never a panic.
    ///
    /// # Example
    /// ```
    /// let path = std::env::temp_dir().join(format!("streamtree-persist-doc-{}.redb", std::process::id()));
    /// let rt = streamtree::Runtime::builder().persist(&path).build();
    /// drop(rt);
    /// std::fs::remove_file(&path).unwrap();
    /// ```
    #[cfg(feature = "persist")]
    #[cfg_attr(docsrs, doc(cfg(feature = "persist")))]
    pub fn persist(mut self, path: impl AsRef<std::path::Path>) -> Self {
        self.persist = Some(path.as_ref().to_owned());
        self
    }

    /// At most `n` worker threads (`n` is raised to 1).
    ///
    /// # Example
    /// ```
    /// let rt = streamtree::Runtime::builder().max_workers(0).build();
    /// assert_eq!(rt.max_workers(), 1);
    /// ```
    pub fn max_workers(mut self, n: usize) -> Self {
        self.max_workers = n.max(1);
        self
    }

    /// How long an idle worker waits for work before it exits.
    ///
    /// # Example
    /// ```
    /// let rt = streamtree::Runtime::builder()
    ///     .keep_alive(std::time::Duration::from_millis(100))
    ///     .build();
    /// # drop(rt);
    /// ```
    pub fn keep_alive(mut self, keep_alive: Duration) -> Self {
        self.keep_alive = keep_alive;
        self
    }

    /// The longest wait, when the runtime's last handle drops, for workers to finish their
    /// current task and exit; stragglers are left to finish detached.
    ///
    /// # Example
    /// ```
    /// let rt = streamtree::Runtime::builder()
    ///     .shutdown_timeout(std::time::Duration::from_secs(1))
    ///     .build();
    /// drop(rt);
    /// ```
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// Builds the runtime; no thread starts until the first task.
    ///
    /// # Example
    /// ```
    /// let rt = streamtree::Runtime::builder().build();
    /// assert_eq!(rt.workers(), 0);
    /// ```
    pub fn build(self) -> Runtime {
        #[cfg(feature = "persist")]
        let persisted = self.persist.as_deref().map(|path| {
            Arc::new(InProcess::persisted(self.jobs.clone(), path)) as Arc<dyn JobBackend>
        });
        #[cfg(not(feature = "persist"))]
        let persisted = None;
        let registry = self.jobs.clone();
        let jobs = self
            .backend
            .or(persisted)
            .unwrap_or_else(|| Arc::new(InProcess::new(self.jobs)));
        let id = NEXT_RUNTIME_ID.fetch_add(1, Ordering::Relaxed);
        let (pool, tx) = Pool::new(
            id,
            format!("streamtree-rt{id}"),
            self.max_workers,
            self.keep_alive,
        );
        let rt = Runtime {
            inner: Arc::new(RuntimeInner {
                pool,
                shared: OnceLock::new(),
                tx: Some(tx),
                shutdown_timeout: self.shutdown_timeout,
                jobs,
            }),
        };
        crate::jobs::resume_interrupted(&rt, &registry);
        rt
    }
}

/// Marks a started task Error if its job unwinds before finishing (a guard: a task never
/// stays Running after its worker left it).
struct Unfinished<'a>(Option<&'a Arc<Slot>>);

impl Drop for Unfinished<'_> {
    fn drop(&mut self) {
        if let Some(slot) = self.0 {
            let (change, discarded, next, trash) = slot.finish_attempt(Err(
                "the task's worker unwound before it finished".to_owned(),
            ));
            slot.publish(change);
            drop(discarded);
            drop(trash);
            life::follow(slot, next);
        }
    }
}

/// The job a worker runs for one task: start it unless cancelled (then drop its closure
/// unrun), run the closure with the task current on this thread, record the outcome,
/// notify.
pub(crate) fn run_task(slot: Arc<Slot>) {
    if !slot.start() {
        slot.discard_fn();
        return;
    }
    let set = slot.set_upgrade();
    if let Some(set) = &set {
        changed(set, &slot, Change::Started);
    }
    life::arm_timeout(&slot);
    let scope = WorkerScope::enter(set, slot.clone());
    let mut unfinished = Unfinished(Some(&slot));
    let ran = slot
        .run_fn()
        .unwrap_or_else(|| Ran::Ended(Err("the task's closure was already taken".to_owned())));
    unfinished.0 = None;
    // The set goes out of the thread-local before it is told (as for `Started`): its
    // hooks then run outside the task, and it is the last reference that drops here.
    let set = scope.leave();
    match ran {
        Ran::Ended(outcome) => end_attempt(&slot, set, outcome),
        // Whoever holds the `Deferred` ends it (perhaps already, on another thread): the
        // slot is not touched here again (see `defer.rs`).
        Ran::Deferred => drop(set),
    }
}

/// Ends the running attempt of `slot` with `outcome` and tells `set` (the slot's set, if
/// it still lives): the end of `run_task`, or of a [`Deferred`](defer::Deferred) attempt.
pub(crate) fn end_attempt(slot: &Arc<Slot>, set: Option<Arc<TaskSet>>, outcome: Outcome) {
    let (change, discarded, next, trash) = slot.finish_attempt(outcome);
    life::follow(slot, next);
    match set {
        Some(set) => {
            // Before `changed`: once it counts the task out, `wait_idle` may return, and
            // the sweep is then already scheduled.
            if change == Change::Terminal
                && let Some(idle) = share::gc_after(slot)
            {
                set.schedule_sweep(std::time::Instant::now() + idle);
            }
            changed(&set, slot, change);
        }
        None => slot.publish(change),
    }
    // A value discarded because the task honoured a cancel (or timed out), and what the
    // finish let go of: dropped here, outside every lock; a `Drop` may panic, which the
    // worker contains.
    drop(discarded);
    drop(trash);
}

/// Tells `set` (and, for a shared task, the sessions using it) about `slot`'s change.
fn changed(set: &TaskSet, slot: &Slot, change: Change) {
    set.changed(change);
    if change != Change::None && set.is_shared() {
        slot.notify_users();
    }
}
