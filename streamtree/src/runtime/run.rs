//! `TaskSet::run`: what `task(key)...run(f)` does in a set (identity by (key, input),
//! restarts, supersede, keep_previous, shared tasks), and the collection sweep.
//!
//! Lock order: a session's table and the shared set's table are never held together; a
//! table, then a slot's state; two slots' states are never held together.

use std::sync::atomic::Ordering as StdOrdering;
use std::sync::{Arc, PoisonError};
use std::time::Instant;

use super::TaskSet;
use super::handle::TaskHandle;
use super::life::{Life, OnRun, Options, Work};
use super::slot::Slot;
use super::sync::Ordering;
use super::timer;

impl TaskSet {
    /// The task for (key, input) with `opts`: the existing one (restarted if a refresh was
    /// asked, it is stale, or it was superseded), or a new one running `f`. Supersedes the
    /// key's task under another input in this session. `self` is the session's set; a
    /// shared task lives in the runtime's.
    #[track_caller]
    pub(crate) fn run<T, F>(
        self: &Arc<Self>,
        key: &str,
        input: Option<u64>,
        opts: Options,
        f: F,
    ) -> TaskHandle<T>
    where
        T: Send + Sync + 'static,
        F: Fn(&Slot) -> Result<T, String> + Send + Sync + 'static,
    {
        self.run_work::<T>(key, input, opts, Work::many(f))
    }

    /// [`run`](Self::run) with its closure as [`Work`]: one that may defer its attempt's
    /// end (a job waiting on its backend, `Work::deferring`); its value, when it ends, is
    /// a `T`.
    #[track_caller]
    pub(crate) fn run_work<T: Send + Sync + 'static>(
        self: &Arc<Self>,
        key: &str,
        input: Option<u64>,
        opts: Options,
        work: Work,
    ) -> TaskHandle<T> {
        let shared = if opts.shared {
            self.runtime().map(|rt| {
                self.uses_shared.store(true, StdOrdering::Release);
                rt.shared_set()
            })
        } else {
            None
        };
        let home = shared.as_ref().unwrap_or(self);
        let (slot, is_latest) = home.find_or_start::<T>(key, input, opts, work, self);
        if home.is_shared() {
            slot.add_user(self);
        }
        if !is_latest {
            self.make_latest(key, &slot, opts.keep_previous);
        }
        TaskHandle::new(slot)
    }

    /// The slot for (key, input) in this set, started if new or due for a restart; and
    /// whether it already is its key's latest in `session` (checked under the same lock
    /// when `session` is this set, the every-rerun path).
    #[track_caller]
    fn find_or_start<T: Send + Sync + 'static>(
        self: &Arc<Self>,
        key: &str,
        input: Option<u64>,
        opts: Options,
        work: Work,
        session: &Arc<TaskSet>,
    ) -> (Arc<Slot>, bool) {
        let tasks = self.lock_tasks();
        match tasks.find_as(key, input) {
            Ok(existing) => {
                let slot = existing.clone();
                if !slot.is_of::<T>() {
                    drop(tasks);
                    drop(work);
                    slot.check_type::<T>();
                    unreachable!("check_type panics on another type");
                }
                // A task of this set is its key's latest here iff its flag says so (kept
                // under this lock by `make_latest`); a shared task's is per session.
                let (on_run, flagged) = slot.on_run();
                let is_latest = flagged && Arc::ptr_eq(self, session);
                match on_run {
                    OnRun::Keep => {
                        drop(tasks);
                        drop(work);
                    }
                    OnRun::Restart => {
                        let h: TaskHandle<T> = self.restart(tasks, slot.clone(), work, Some(opts));
                        drop(h);
                    }
                }
                (slot, is_latest)
            }
            Err(vacancy) => {
                let now = Instant::now();
                let mut tasks = tasks;
                let closed = self.closed.load(Ordering::Acquire);
                let life = Life::new(opts, (!closed).then_some(work), now);
                let slot = Slot::with_life::<T>(key, input, self.link.clone(), life);
                if closed {
                    let change = slot.cancel();
                    debug_assert_eq!(change, super::slot::Change::Terminal);
                } else {
                    // Counted before anyone can see it (the table is locked).
                    self.active.started();
                }
                tasks.insert(vacancy, slot.clone());
                drop(tasks);
                if !closed {
                    self.execute(slot.clone());
                }
                self.notify();
                if let Some(idle) = opts.gc_after {
                    self.schedule_sweep(now + idle);
                }
                (slot, false)
            }
        }
    }

    /// Records `slot` as its key's latest in this session: the task it replaces is
    /// superseded (cancelled if unfinished and not shared) and, with `keep_previous`,
    /// shown while `slot` has no value.
    fn make_latest(&self, key: &str, slot: &Arc<Slot>, keep_previous: bool) {
        let prev = {
            let mut tasks = self.lock_tasks();
            let prev = tasks
                .latest
                .insert(key.into(), Arc::downgrade(slot))
                .and_then(|w| w.upgrade());
            // The flags change under the table lock, with the map (lock order: table,
            // then slot): a flagged task of this set is its key's latest.
            if !slot.is_shared() {
                slot.set_latest(true);
            }
            if let Some(p) = prev.as_ref().filter(|p| !Arc::ptr_eq(p, slot)) {
                p.set_latest(false);
            }
            prev
        };
        let Some(prev) = prev.filter(|p| !Arc::ptr_eq(p, slot)) else {
            return;
        };
        if keep_previous {
            slot.link_previous(&prev);
        }
        prev.supersede();
    }

    /// Schedules a collection sweep of this set at `at`, unless one is due sooner.
    pub(crate) fn schedule_sweep(self: &Arc<Self>, at: Instant) {
        {
            let mut next = self.sweep_at.lock().unwrap_or_else(PoisonError::into_inner);
            if next.is_some_and(|t| t <= at) {
                return;
            }
            *next = Some(at);
        }
        let set = Arc::downgrade(self);
        // The timer holds the set weakly: a dropped session's set is not kept for it.
        let _ = timer::after(at, move || {
            if let Some(set) = set.upgrade() {
                set.sweep();
            }
        });
    }

    /// Drops the finished tasks no `run` read for their `gc_after` (handles report
    /// Missing), and schedules the next sweep for the earliest task still to expire.
    pub(crate) fn sweep(self: &Arc<Self>) {
        let now = Instant::now();
        *self.sweep_at.lock().unwrap_or_else(PoisonError::into_inner) = None;
        let mut removed = Vec::new();
        let mut next: Option<Instant> = None;
        {
            let mut tasks = self.lock_tasks();
            let mut due = Vec::new();
            for slot in tasks.slots() {
                match slot.gc_due(now) {
                    Some(Ok(())) => due.push(slot.clone()),
                    Some(Err(at)) => next = Some(next.map_or(at, |n| n.min(at))),
                    None => {}
                }
            }
            for slot in due {
                if slot.try_dismiss() {
                    removed.extend(tasks.remove_as(slot.key(), slot.input()));
                }
                removed.push(slot);
            }
        }
        // Users of collected shared tasks rerun (their handles report Missing).
        if self.is_shared() {
            for slot in &removed {
                slot.notify_users();
            }
        }
        drop(removed);
        if let Some(at) = next {
            self.schedule_sweep(at);
        }
    }

    /// A Pending task's place in this set's lane: how many of this session's queued jobs
    /// are ahead of it (0: next, or already handed to a worker).
    pub(crate) fn queue_position(&self, slot: &Slot) -> usize {
        self.runtime()
            .and_then(|rt| rt.lane_position(&self.lane, slot))
            .unwrap_or(0)
    }
}
