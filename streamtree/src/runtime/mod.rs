//! The task runtime: [`Runtime`] (a bounded, elastic worker pool shared by many sessions),
//! `TaskSet` (one session's tasks by key) and [`Subscription`] (change notifications).
//!
//! See `README.md` beside this file for the state machine, the keyed-dedupe rules and
//! shutdown. The public task API is [`crate::asyncio`].

mod pool;
mod sync;
pub(crate) mod task;
mod unwind;

#[cfg(all(test, streamtree_loom))]
mod loom;
#[cfg(all(test, streamtree_loom))]
mod loom_pool;
#[cfg(all(test, not(streamtree_loom)))]
mod tests;

use std::cell::RefCell;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock, PoisonError, Weak};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TrySendError};

use self::pool::{Job, Lane, Pool, Queue};
use self::task::{Change, SetLink, Slot, TaskHandle, TaskMap, TaskSummary};

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

struct RuntimeInner {
    pool: Arc<Pool>,
    /// The queue's sending side; taken (closing the queue) when the runtime drops.
    tx: Option<Queue>,
    shutdown_timeout: Duration,
}

impl Drop for RuntimeInner {
    fn drop(&mut self) {
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
        let id = NEXT_RUNTIME_ID.fetch_add(1, Ordering::Relaxed);
        let (pool, tx) = Pool::new(
            id,
            format!("streamtree-rt{id}"),
            self.max_workers,
            self.keep_alive,
        );
        Runtime {
            inner: Arc::new(RuntimeInner {
                pool,
                tx: Some(tx),
                shutdown_timeout: self.shutdown_timeout,
            }),
        }
    }
}

/// One session's tasks by key, and who to tell when they change.
pub(crate) struct TaskSet {
    runtime: Runtime,
    /// This set's FIFO in the runtime's queue, served round-robin with other sets'.
    lane: Lane,
    /// What this set's slots hold to reach it (see [`SetLink`]).
    link: Arc<SetLink>,
    /// Tasks by key. Written by `submit` (insert) and `dismiss` (remove); lock order: this,
    /// then a slot's state.
    tasks: sync::Mutex<TaskMap>,
    /// Set once by `close` (under `tasks`); later submits create tasks already Cancelled.
    closed: AtomicBool,
    /// Tasks Pending or Running.
    /// - incremented by `submit` before the task is queued;
    /// - decremented once per task, on its single terminal transition (`changed`);
    /// - reaching zero takes `idle_lock` before `idle` is signalled, so a waiter that
    ///   checked under `idle_lock` cannot miss the wake-up.
    active: AtomicUsize,
    idle_lock: Mutex<()>,
    idle: Condvar,
    /// Notification senders, one per live [`Subscription`]; pruned when a send finds its
    /// receiver gone.
    subscribers: Mutex<Vec<Sender<()>>>,
    /// Change callbacks of live [`OnChange`](crate::session::OnChange) guards, held weakly:
    /// pruned when the guard is gone. Called after `hooks` is unlocked, so a callback may
    /// subscribe or register again.
    hooks: Mutex<Vec<Weak<dyn Fn() + Send + Sync>>>,
    /// `subscribers.len()`, readable without the lock (the common case is none).
    subscriber_count: AtomicUsize,
}

thread_local! {
    /// The task a worker thread is running now (and its set), so the free functions inside
    /// a task resolve to the task's own session. Set by [`WorkerScope`] for one job.
    static WORKER: RefCell<Option<WorkerTask>> = const { RefCell::new(None) };
}

struct WorkerTask {
    set: Arc<TaskSet>,
    slot: Arc<Slot>,
}

/// Makes a task current on its worker thread for one job; clears it on every exit.
struct WorkerScope;

impl WorkerScope {
    fn enter(set: Arc<TaskSet>, slot: Arc<Slot>) -> WorkerScope {
        WORKER.with(|w| {
            let prev = w.borrow_mut().replace(WorkerTask { set, slot });
            debug_assert!(prev.is_none(), "a worker runs one task at a time");
        });
        WorkerScope
    }

    /// Clears the task, handing back its set (to notify without upgrading the slot's weak
    /// link again).
    fn leave(self) -> Option<Arc<TaskSet>> {
        let task = WORKER.with(|w| w.borrow_mut().take());
        task.map(|t| t.set)
    }
}

impl Drop for WorkerScope {
    fn drop(&mut self) {
        // Taken out first: dropping the set may drop a runtime, which must not happen while
        // the thread-local is borrowed.
        let task = WORKER.with(|w| w.borrow_mut().take());
        drop(task);
    }
}
/// Marks a started task Error if its job unwinds before finishing (a guard: a task never
/// stays Running after its worker left it).
struct Unfinished<'a>(Option<&'a Slot>);

impl Drop for Unfinished<'_> {
    fn drop(&mut self) {
        if let Some(slot) = self.0 {
            let (change, discarded) = slot.finish(Err(
                "the task's worker unwound before it finished".to_owned(),
            ));
            slot.publish(change);
            drop(discarded);
        }
    }
}

/// Runs `f` with the task set the free functions resolve to on this thread: the current
/// session's (entered with [`Session::enter`](crate::Session::enter)), else the set of the
/// task this worker runs. Borrowed, not cloned: the every-rerun `submit` path.
pub(crate) fn with_current<R>(f: impl FnOnce(Option<&Arc<TaskSet>>, Option<&Arc<Slot>>) -> R) -> R {
    // `f` moves into the session's closure and comes back out only when no session is
    // current (no `Option` to take it from on the common path).
    let from_session = crate::session::with_current_tasks(move |tasks| match tasks {
        Some(t) => Ok(f(Some(t), None)),
        None => Err(f),
    });
    match from_session {
        Ok(r) => r,
        Err(f) => WORKER.with(|w| {
            let w = w.borrow();
            match &*w {
                Some(task) => f(Some(&task.set), Some(&task.slot)),
                None => f(None, None),
            }
        }),
    }
}

/// The slot for `key` in the current set; the running task's own slot without a lookup.
pub(crate) fn find_current(key: &str) -> Option<Arc<Slot>> {
    with_current(|set, own| match own {
        Some(own) if own.key() == key => Some(own.clone()),
        _ => set.and_then(|set| set.get(key)),
    })
}

impl TaskSet {
    pub(crate) fn new(runtime: Runtime) -> Arc<TaskSet> {
        Arc::new_cyclic(|me| TaskSet {
            runtime,
            lane: Lane::new(),
            link: Arc::new(SetLink(me.clone())),
            tasks: sync::Mutex::new(TaskMap::default()),
            closed: AtomicBool::new(false),
            active: AtomicUsize::new(0),
            idle_lock: Mutex::new(()),
            idle: Condvar::new(),
            subscribers: Mutex::new(Vec::new()),
            hooks: Mutex::new(Vec::new()),
            subscriber_count: AtomicUsize::new(0),
        })
    }

    fn lock_tasks(&self) -> sync::MutexGuardOf<'_, TaskMap> {
        self.tasks.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The slot under `key`, if any.
    pub(crate) fn get(&self, key: &str) -> Option<Arc<Slot>> {
        self.lock_tasks().get(key).cloned()
    }

    /// Panics if `key` holds a task whose result type is not `T`.
    #[track_caller]
    pub(crate) fn check_type<T: 'static>(&self, key: &str) {
        if let Some(slot) = self.get(key) {
            slot.check_type::<T>();
        }
    }

    /// The task under `key`, starting `f` for it on the runtime if there is none; `f` is
    /// handed back in `unused` when the key already holds a task, for the caller to drop
    /// outside any borrow (an out-parameter, so the handle alone comes back in registers).
    /// `f` gets the task's slot (for [`TaskContext`](crate::asyncio::TaskContext)). The
    /// every-rerun path (key present) takes one lock and allocates nothing.
    #[track_caller]
    #[inline]
    pub(crate) fn submit<T, F>(
        self: &Arc<Self>,
        key: &str,
        f: F,
        unused: &mut Option<F>,
    ) -> TaskHandle<T>
    where
        T: Send + 'static,
        F: FnOnce(&Slot) -> Result<T, String> + Send + 'static,
    {
        let tasks = self.lock_tasks();
        match tasks.find(key) {
            Ok(existing) => {
                let existing = existing.clone();
                drop(tasks);
                existing.check_type::<T>();
                *unused = Some(f);
                TaskHandle::new(existing)
            }
            Err(vacancy) => self.submit_new(tasks, vacancy, key, f, unused),
        }
    }

    /// `submit` for a key without a task: a new slot, queued unless the set is closed.
    /// Kept out of line so the every-rerun path above inlines into its caller.
    #[inline(never)]
    fn submit_new<T, F>(
        self: &Arc<Self>,
        mut tasks: sync::MutexGuardOf<'_, TaskMap>,
        vacancy: task::Vacancy,
        key: &str,
        f: F,
        unused: &mut Option<F>,
    ) -> TaskHandle<T>
    where
        T: Send + 'static,
        F: FnOnce(&Slot) -> Result<T, String> + Send + 'static,
    {
        let set = self.link.clone();
        if self.closed.load(Ordering::Acquire) {
            let slot = Slot::new::<T>(key, set, true);
            tasks.insert(vacancy, slot.clone());
            drop(tasks);
            self.notify();
            *unused = Some(f);
            return TaskHandle::new(slot);
        }
        // Counted before anyone can see the task (the map is still locked), so `wait_idle`
        // never misses it; and before the slot is written, so this atomic does not wait
        // for those stores.
        self.active.fetch_add(1, Ordering::SeqCst);
        let slot = Slot::with_fn(key, set, f);
        tasks.insert(vacancy, slot.clone());
        drop(tasks);
        self.runtime.execute(&self.lane, slot.clone());
        self.notify();
        TaskHandle::new(slot)
    }

    /// Removes the terminal task under `key`; false for Pending, Running or absent keys.
    pub(crate) fn dismiss(&self, key: &str) -> bool {
        let removed = task::dismiss(&self.tasks, key);
        let dismissed = removed.is_some();
        drop(removed);
        if dismissed {
            self.notify();
        }
        dismissed
    }

    /// One row per task, sorted by key.
    pub(crate) fn summaries(&self) -> Vec<TaskSummary> {
        let slots: Vec<Arc<Slot>> = self.lock_tasks().slots().cloned().collect();
        let now = Instant::now();
        let mut rows: Vec<TaskSummary> = slots.iter().map(|s| TaskSummary::of(s, now)).collect();
        rows.sort_by(|a, b| a.key.cmp(&b.key));
        rows
    }

    /// Reacts to a slot's change: counts a terminal transition out of `active` (waking
    /// `wait_idle` at zero), then notifies subscribers.
    pub(crate) fn changed(&self, change: Change) {
        if change == Change::Terminal {
            let before = self.active.fetch_sub(1, Ordering::SeqCst);
            debug_assert!(before > 0, "each counted task ends exactly once");
            if before == 1 {
                drop(
                    self.idle_lock
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner),
                );
                self.idle.notify_all();
            }
        }
        if change != Change::None {
            self.notify();
        }
    }

    /// Wakes every subscriber (coalescing: a subscriber with a wake-up pending gets no
    /// second one).
    fn notify(&self) {
        if self.subscriber_count.load(Ordering::SeqCst) == 0 {
            return;
        }
        let mut subs = self
            .subscribers
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        subs.retain(|tx| !matches!(tx.try_send(()), Err(TrySendError::Disconnected(()))));
        let live: Vec<Arc<dyn Fn() + Send + Sync>> = {
            let mut hooks = self.hooks.lock().unwrap_or_else(PoisonError::into_inner);
            hooks.retain(|w| w.strong_count() > 0);
            hooks.iter().filter_map(Weak::upgrade).collect()
        };
        self.subscriber_count
            .store(subs.len() + live.len(), Ordering::SeqCst);
        drop(subs);
        for hook in live {
            hook();
        }
    }

    /// Registers `hook` to run on every change; it stays registered while `hook` lives.
    pub(crate) fn add_hook(&self, hook: &Arc<dyn Fn() + Send + Sync>) {
        let subs = self
            .subscribers
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let mut hooks = self.hooks.lock().unwrap_or_else(PoisonError::into_inner);
        hooks.push(Arc::downgrade(hook));
        self.subscriber_count
            .store(subs.len() + hooks.len(), Ordering::SeqCst);
    }

    /// Blocks until no task is Pending or Running, or `timeout` passes; true when idle.
    pub(crate) fn wait_idle(&self, timeout: Duration) -> bool {
        let guard = self
            .idle_lock
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let (_guard, _) = self
            .idle
            .wait_timeout_while(guard, timeout, |()| self.active.load(Ordering::SeqCst) > 0)
            .unwrap_or_else(PoisonError::into_inner);
        self.active.load(Ordering::SeqCst) == 0
    }

    /// The session is gone: cancel Pending tasks, ask Running ones to stop, and make later
    /// submits (from its tasks' workers) start nothing.
    pub(crate) fn close(&self) {
        let slots: Vec<Arc<Slot>> = {
            let tasks = self.lock_tasks();
            self.closed.store(true, Ordering::Release);
            tasks.slots().cloned().collect()
        };
        for slot in slots {
            let change = slot.cancel();
            self.changed(change);
        }
    }

    /// A new subscription to this set's changes.
    pub(crate) fn subscribe(&self) -> Subscription {
        let (tx, rx) = crossbeam_channel::bounded(1);
        let mut subs = self
            .subscribers
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        subs.push(tx);
        let hooks = self
            .hooks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len();
        self.subscriber_count
            .store(subs.len() + hooks, Ordering::SeqCst);
        Subscription { rx }
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
        set.changed(Change::Started);
    }
    let scope = set.map(|set| WorkerScope::enter(set, slot.clone()));
    let mut unfinished = Unfinished(Some(&slot));
    let outcome = slot
        .run_fn()
        .unwrap_or_else(|| Err("the task's closure was already taken".to_owned()));
    unfinished.0 = None;
    let (change, discarded) = slot.finish(outcome);
    // The set goes out of the thread-local before it is told (as for `Started`): its
    // hooks then run outside the task, and it is the last reference that drops here.
    match scope.and_then(WorkerScope::leave) {
        Some(set) => set.changed(change),
        None => slot.publish(change),
    }
    // A value discarded after `complete_cancelled`: dropped here, outside every lock; its
    // `Drop` may panic, which the worker contains.
    drop(discarded);
}

/// Notifications of a session's task changes: every status or progress change wakes the
/// subscriber. Wake-ups coalesce: several changes before a wait count as one, so after a
/// wake-up, re-read what you watch.
///
/// # Example
/// ```
/// use std::time::Duration;
/// use streamtree::prelude::*;
/// let session = Session::new();
/// let sub = session.subscribe();
/// let h = session.enter(|| submit("job", || 1));
/// while h.status() != TaskStatus::Done {
///     assert!(sub.wait_timeout(Duration::from_secs(10)));
/// }
/// ```
pub struct Subscription {
    rx: Receiver<()>,
}

impl fmt::Debug for Subscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscription").finish_non_exhaustive()
    }
}

impl Subscription {
    /// Waits up to `timeout` for a change; true if one came, false on timeout or when the
    /// session is gone.
    ///
    /// # Example
    /// ```
    /// let sub = streamtree::Session::new().subscribe();
    /// assert!(!sub.wait_timeout(std::time::Duration::ZERO));
    /// ```
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        match self.rx.recv_timeout(timeout) {
            Ok(()) => true,
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => false,
        }
    }

    /// Waits for a change; false when the session is gone (no change can come).
    ///
    /// # Example
    /// ```
    /// use streamtree::prelude::*;
    /// let session = Session::new();
    /// let sub = session.subscribe();
    /// session.enter(|| submit("job", || ()));
    /// assert!(sub.recv());
    /// ```
    pub fn recv(&self) -> bool {
        self.rx.recv().is_ok()
    }

    /// Takes a pending change without waiting; true if there was one.
    ///
    /// # Example
    /// ```
    /// let sub = streamtree::Session::new().subscribe();
    /// assert!(!sub.try_recv());
    /// ```
    pub fn try_recv(&self) -> bool {
        self.rx.try_recv().is_ok()
    }

    /// The underlying channel, for `crossbeam_channel::select!` alongside other events.
    /// Each message is one (coalesced) change; disconnection means the session is gone.
    ///
    /// # Example
    /// ```
    /// let sub = streamtree::Session::new().subscribe();
    /// assert!(sub.receiver().is_empty());
    /// ```
    pub fn receiver(&self) -> &Receiver<()> {
        &self.rx
    }
}
