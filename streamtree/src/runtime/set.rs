//! `TaskSet`: one session's tasks by key, its count of unfinished tasks (for `wait_idle`)
//! and who to tell when they change (subscribers and hooks).
//!
//! Lock order: `tasks`, then a slot's state. `subscribers` and `hooks` are taken on their
//! own (hooks after subscribers), and every hook runs after both are released.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant};

use crossbeam_channel::{Sender, TrySendError};

use super::active::ActiveCount;
use super::handle::TaskHandle;
use super::life::{Trash, Work};
use super::pool::Lane;
use super::slot::{Change, SetLink, Slot};
use super::subscription::Subscription;
use super::summary::TaskSummary;
use super::sync;
use super::table::{self, TaskTable, Vacancy};
use super::{Runtime, RuntimeInner};

/// One session's tasks by key, and who to tell when they change.
pub(crate) struct TaskSet {
    /// The runtime its tasks run on. The first field, so a set's drop lets go of its
    /// runtime before its subscribers see the disconnection (a test relies on it).
    runtime: RuntimeRef,
    /// This set's FIFO in the runtime's queue, served round-robin with other sets'.
    pub(super) lane: Lane,
    /// What this set's slots hold to reach it (see [`SetLink`]: kept for throughput).
    pub(super) link: Arc<SetLink>,
    /// Tasks by (key, input). Written by `submit`/`run` (insert), `dismiss` and the
    /// collection sweep (remove); lock order: this, then a slot's state.
    pub(super) tasks: sync::Mutex<TaskTable>,
    /// Set once by `close`, and read by `submit`, both under `tasks`: a submit after the
    /// close creates its task already Cancelled (never counted, never queued).
    pub(super) closed: sync::AtomicBool,
    /// Tasks Pending or Running: counted in by `submit` and restarts (under `tasks`), out
    /// by `changed` on each run's single terminal transition.
    pub(super) active: ActiveCount,
    /// Set once this session ran a shared task: `wait_idle` then waits for the runtime's
    /// shared tasks too, and summaries list the shared tasks it uses.
    pub(super) uses_shared: std::sync::atomic::AtomicBool,
    /// The deadline of the pending collection sweep, if one is scheduled.
    pub(super) sweep_at: Mutex<Option<Instant>>,
    /// Notification senders, one per live [`Subscription`]; pruned when a send finds its
    /// receiver gone.
    subscribers: Mutex<Vec<Sender<()>>>,
    /// Change callbacks, held weakly: pruned when their owner (the session's `OnChange`
    /// guard) dropped them. Called after `hooks` is unlocked, so a callback may
    /// subscribe or register again.
    hooks: Mutex<Vec<Weak<dyn Fn() + Send + Sync>>>,
    /// `subscribers.len() + hooks.len()`, readable without the locks (the common case is
    /// none).
    subscriber_count: AtomicUsize,
    /// The earliest pending wake-up of [`notify_at`](Self::notify_at) and its timer: set
    /// by `notify_at` when it schedules one, cleared by that timer's callback. Invariant:
    /// at most one scheduled wake-up per set is not cancelled, so a rerun every frame
    /// asking for the same deadline schedules one timer, not one per frame. Taken on its
    /// own, then (in `notify_at`) the timer's queue.
    wake: Mutex<Option<(Instant, super::timer::TimerHandle)>>,
}

/// How a set reaches its runtime: a session's set holds it; the runtime's own set of
/// shared tasks holds it weakly (the runtime holds that set: no cycle).
enum RuntimeRef {
    Session(Runtime),
    Shared(Weak<RuntimeInner>),
}

impl TaskSet {
    pub(crate) fn new(runtime: Runtime) -> Arc<TaskSet> {
        Self::with_runtime(RuntimeRef::Session(runtime))
    }

    /// The runtime's set of shared tasks.
    pub(crate) fn new_shared(runtime: Weak<RuntimeInner>) -> Arc<TaskSet> {
        Self::with_runtime(RuntimeRef::Shared(runtime))
    }

    fn with_runtime(runtime: RuntimeRef) -> Arc<TaskSet> {
        Arc::new_cyclic(|me| TaskSet {
            runtime,
            lane: Lane::new(),
            link: Arc::new(SetLink(me.clone())),
            tasks: sync::Mutex::new(TaskTable::default()),
            closed: sync::AtomicBool::new(false),
            active: ActiveCount::new(),
            subscribers: Mutex::new(Vec::new()),
            hooks: Mutex::new(Vec::new()),
            subscriber_count: AtomicUsize::new(0),
            uses_shared: std::sync::atomic::AtomicBool::new(false),
            sweep_at: Mutex::new(None),
            wake: Mutex::new(None),
        })
    }

    /// Whether this is a runtime's set of shared tasks.
    pub(crate) fn is_shared(&self) -> bool {
        matches!(self.runtime, RuntimeRef::Shared(_))
    }

    /// The runtime, if it is still alive.
    pub(crate) fn runtime(&self) -> Option<Runtime> {
        match &self.runtime {
            RuntimeRef::Session(rt) => Some(rt.clone()),
            RuntimeRef::Shared(weak) => weak.upgrade().map(|inner| Runtime { inner }),
        }
    }

    /// Queues `slot`'s job on this set's lane. With its runtime gone (only a shared set's
    /// can go), the task cannot run: it is cancelled and its closure dropped.
    pub(crate) fn execute(&self, slot: Arc<Slot>) {
        match &self.runtime {
            RuntimeRef::Session(rt) => rt.execute(&self.lane, slot),
            RuntimeRef::Shared(weak) => match weak.upgrade() {
                Some(inner) => Runtime { inner }.execute(&self.lane, slot),
                None => {
                    let (change, trash) = slot.cancel_with_trash();
                    slot.discard_fn();
                    drop(trash);
                    self.changed(change);
                }
            },
        }
    }

    pub(super) fn lock_tasks(&self) -> sync::MutexGuardOf<'_, TaskTable> {
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

    /// The task under `key`, starting `f` for it on the runtime if there is none (else
    /// `f` is dropped unrun, after the table is unlocked: its captures may have any
    /// `Drop`). `f` gets the task's slot (for its `TaskContext`). The every-rerun path
    /// (key present) takes one lock and allocates nothing.
    #[track_caller]
    pub(crate) fn submit<T, F>(self: &Arc<Self>, key: &str, f: F) -> TaskHandle<T>
    where
        T: Send + 'static,
        F: FnOnce(&Slot) -> Result<T, String> + Send + 'static,
    {
        let tasks = self.lock_tasks();
        match tasks.find(key) {
            Ok(existing) => {
                let existing = existing.clone();
                if existing.wants_run() && existing.is_of::<T>() {
                    // Refreshed: this call's closure runs.
                    return self.restart(tasks, existing, Work::once(f), None);
                }
                drop(tasks);
                drop(f);
                existing.check_type::<T>();
                TaskHandle::new(existing)
            }
            Err(vacancy) => self.submit_new(tasks, vacancy, key, f),
        }
    }

    /// Starts the terminal `slot` again with `work` (a refresh, a stale or a superseded
    /// task), counted and queued; unlocks the table. A task that is no longer terminal
    /// (or a closed set) is left as it is.
    pub(crate) fn restart<T: 'static>(
        &self,
        tasks: sync::MutexGuardOf<'_, TaskTable>,
        slot: Arc<Slot>,
        work: Work,
        opts: Option<super::life::Options>,
    ) -> TaskHandle<T> {
        let mut trash = Trash::default();
        let mut queue = false;
        if self.closed.load(Ordering::Acquire) {
            trash.work(Some(work));
        } else if let Some((now, t)) = slot.restart(work, opts) {
            // Counted under the table lock, as a new task is.
            self.active.started();
            queue = now;
            trash = t;
        }
        drop(tasks);
        drop(trash);
        if queue {
            self.execute(slot.clone());
        }
        self.notify();
        TaskHandle::new(slot)
    }

    /// `submit` for a key without a task: a new slot, queued unless the set is closed.
    fn submit_new<T, F>(
        self: &Arc<Self>,
        tasks: sync::MutexGuardOf<'_, TaskTable>,
        vacancy: Vacancy,
        key: &str,
        f: F,
    ) -> TaskHandle<T>
    where
        T: Send + 'static,
        F: FnOnce(&Slot) -> Result<T, String> + Send + 'static,
    {
        let (slot, queue) = self.admit(tasks, vacancy, key, f);
        if queue {
            self.execute(slot.clone());
        }
        self.notify();
        TaskHandle::new(slot)
    }

    /// Adds a new task under `key` (where `tasks` has a vacancy) and unlocks the table:
    /// counted and to be queued (`true`), or, in a closed set, already Cancelled (`f`
    /// dropped unrun, after the unlock).
    fn admit<T, F>(
        &self,
        mut tasks: sync::MutexGuardOf<'_, TaskTable>,
        vacancy: Vacancy,
        key: &str,
        f: F,
    ) -> (Arc<Slot>, bool)
    where
        T: Send + 'static,
        F: FnOnce(&Slot) -> Result<T, String> + Send + 'static,
    {
        let set = self.link.clone();
        if self.closed.load(Ordering::Acquire) {
            let slot = Slot::new::<T>(key, set, true);
            tasks.insert(vacancy, slot.clone());
            drop(tasks);
            drop(f);
            return (slot, false);
        }
        // Counted before anyone can see the task (the table is still locked), so
        // `wait_idle` never misses it.
        self.active.started();
        let slot = Slot::with_fn(key, set, f);
        tasks.insert(vacancy, slot.clone());
        drop(tasks);
        (slot, true)
    }

    /// `submit` without queueing, for the loom models (which play the worker): the task
    /// under `key`, and its job when one must run.
    #[cfg(all(test, streamtree_loom))]
    pub(crate) fn admit_for_model<T, F>(&self, key: &str, f: F) -> (Arc<Slot>, Option<Arc<Slot>>)
    where
        T: Send + 'static,
        F: FnOnce(&Slot) -> Result<T, String> + Send + 'static,
    {
        let tasks = self.lock_tasks();
        match tasks.find(key) {
            Ok(existing) => (existing.clone(), None),
            Err(vacancy) => {
                let (slot, queue) = self.admit(tasks, vacancy, key, f);
                let job = queue.then(|| slot.clone());
                (slot, job)
            }
        }
    }

    /// Removes the terminal task under `key`; false for Pending, Running or absent keys.
    pub(crate) fn dismiss(&self, key: &str) -> bool {
        let removed = table::dismiss_all(&self.tasks, key);
        let mut dismissed = !removed.is_empty();
        drop(removed);
        if dismissed {
            self.notify();
        }
        // Shared tasks under the key go for every session.
        if !self.is_shared()
            && self.uses_shared.load(Ordering::Acquire)
            && let Some(shared) = self.runtime().and_then(|rt| rt.shared_set_if_any())
        {
            let removed = table::dismiss_all(&shared.tasks, key);
            let users: Vec<Arc<Slot>> = removed.clone();
            dismissed |= !removed.is_empty();
            drop(removed);
            for slot in users {
                slot.notify_users();
            }
        }
        dismissed
    }

    /// Every task under `key`, whatever its input, and the shared ones this set uses
    /// (the by-key actions of the task inspector).
    pub(crate) fn slots_with_key(&self, key: &str) -> Vec<Arc<Slot>> {
        let mut slots: Vec<Arc<Slot>> = self
            .lock_tasks()
            .slots()
            .filter(|s| s.key() == key)
            .cloned()
            .collect();
        if self.uses_shared.load(Ordering::Acquire)
            && let Some(shared) = self.runtime().and_then(|rt| rt.shared_set_if_any())
        {
            let all: Vec<Arc<Slot>> = shared.lock_tasks().slots().cloned().collect();
            slots.extend(
                all.into_iter()
                    .filter(|s| s.key() == key && s.is_used_by(self)),
            );
        }
        slots
    }

    /// One row per task (and per shared task this session uses), sorted by key.
    pub(crate) fn summaries(&self) -> Vec<TaskSummary> {
        let mut slots: Vec<Arc<Slot>> = self.lock_tasks().slots().cloned().collect();
        if self.uses_shared.load(Ordering::Acquire)
            && let Some(shared) = self.runtime().and_then(|rt| rt.shared_set_if_any())
        {
            let all: Vec<Arc<Slot>> = shared.lock_tasks().slots().cloned().collect();
            slots.extend(all.into_iter().filter(|s| s.is_used_by(self)));
        }
        let now = Instant::now();
        let mut rows: Vec<TaskSummary> = slots.iter().map(|s| TaskSummary::of(s, now)).collect();
        rows.sort_by(|a, b| a.key.cmp(&b.key));
        rows
    }

    /// Reacts to a slot's change: counts a terminal transition out of `active` (waking
    /// `wait_idle` at zero), then notifies subscribers.
    pub(crate) fn changed(&self, change: Change) {
        if change == Change::Terminal {
            self.active.ended();
        }
        if change != Change::None {
            self.notify();
        }
    }

    /// Wakes every subscriber and hook, as a task change does (a shared task's change).
    pub(crate) fn notify_change(&self) {
        self.notify();
    }

    /// Wakes every subscriber (coalescing: a subscriber with a wake-up pending gets no
    /// second one).
    pub(super) fn notify(&self) {
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

    /// At `deadline`, notifies this set's subscribers and hooks as a task change does, so
    /// live runners rerun (a delayed loading arm, say). Holds the set weakly: a set
    /// dropped before the deadline is not kept alive, and nothing is notified.
    #[allow(dead_code, reason = "called by MatchTask::delay (loading.rs)")]
    pub(crate) fn notify_at(self: &Arc<Self>, deadline: Instant) {
        let mut wake = self.wake.lock().unwrap_or_else(PoisonError::into_inner);
        // An overdue one may be lost (its timer could not start): schedule anew.
        let now = Instant::now();
        if wake
            .as_ref()
            .is_some_and(|(at, _)| *at <= deadline && *at > now)
        {
            return;
        }
        let set = Arc::downgrade(self);
        let timer = super::timer::after(deadline, move || {
            if let Some(set) = set.upgrade() {
                set.woken(deadline);
            }
        });
        let replaced = wake.replace((deadline, timer));
        drop(wake);
        if let Some((_, timer)) = replaced {
            timer.cancel();
        }
    }

    /// The wake-up scheduled for `deadline` fired: forget it (unless a newer one replaced
    /// it), then notify.
    fn woken(&self, deadline: Instant) {
        let mut wake = self.wake.lock().unwrap_or_else(PoisonError::into_inner);
        let mine = wake.as_ref().is_some_and(|(at, _)| *at == deadline);
        let fired = if mine { wake.take() } else { None };
        drop(wake);
        drop(fired);
        self.notify();
    }

    /// The pending wake-up's deadline, for tests.
    #[cfg(test)]
    pub(crate) fn pending_wake(&self) -> Option<Instant> {
        let wake = self.wake.lock().unwrap_or_else(PoisonError::into_inner);
        wake.as_ref().map(|(at, _)| *at)
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
        let deadline = Instant::now().checked_add(timeout);
        if !self.active.wait_idle(timeout) {
            return false;
        }
        if self.uses_shared.load(Ordering::Acquire)
            && let Some(shared) = self.runtime().and_then(|rt| rt.shared_set_if_any())
        {
            let left = deadline.map_or(Duration::MAX, |d| {
                d.saturating_duration_since(Instant::now())
            });
            return shared.active.wait_idle(left);
        }
        true
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
        Subscription::new(rx)
    }
}
