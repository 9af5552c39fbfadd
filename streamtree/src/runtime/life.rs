//! A task's life cycle beyond one run: its options (retry, timeout, staleness, collection,
//! sharing), the work it re-runs, the last good value it keeps showing, and the
//! transitions that need them (retry, timeout, refresh, restart). `README.md` beside this
//! file draws the state machine.
//!
//! Invariants (on top of the slot's I1–I7):
//! - **one closure per task at a time**: `closure_running` is set by `start` and cleared
//!   by the finish of the closure's return; a restart or a retry started while it is set
//!   (a timed-out attempt still running) waits: the finish of the old closure queues it;
//! - `timed_out` is set only while `closure_running`: that closure's return is discarded;
//! - `last_good` is the value of an earlier run (kept through a refresh and a failed
//!   refresh); cleared when a run succeeds; `previous` (keep_previous) only while the task
//!   has no good value;
//! - user values (work, values, previous slots) replaced under the slot's lock are handed
//!   back in a [`Trash`] and dropped after it is released.

use std::any::Any;
use std::sync::{Arc, Mutex as StdMutex, Weak};
use std::time::{Duration, Instant};

use super::TaskSet;
use super::defer::Ran;
use super::retry::Retry;
use super::slot::{Cancel, Change, Outcome, Phase, Since, Slot, SlotState, TaskValue};
use super::sync::{MutexGuardOf, Ordering};
use super::timer::{self, TimerHandle};
use super::unwind::halt_unwinding;

/// What `task(..)` configures; plain `submit` tasks use the default (no retry, no
/// timeout, never stale, never collected, not shared).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Options {
    pub(crate) retry: Option<Retry>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) stale_after: Option<Duration>,
    pub(crate) gc_after: Option<Duration>,
    pub(crate) keep_previous: bool,
    pub(crate) shared: bool,
}

/// A task's closure for its next runs.
pub(crate) enum Work {
    /// A plain `submit` closure given to a refresh: runs once.
    Once(Box<dyn FnOnce(&Slot) -> Outcome + Send>),
    /// A `task(..).run(f)` closure: runs once per attempt; a job's may defer its
    /// attempt's end (`defer.rs`).
    Many(Arc<dyn Fn(&Slot) -> Ran + Send + Sync>),
}

impl Work {
    pub(crate) fn many<T, F>(f: F) -> Work
    where
        T: Send + Sync + 'static,
        F: Fn(&Slot) -> Result<T, String> + Send + Sync + 'static,
    {
        Work::Many(Arc::new(move |slot: &Slot| {
            Ran::Ended(f(slot).map(value_of))
        }))
    }

    /// A closure that may end its attempt later ([`Ran::Deferred`]).
    pub(crate) fn deferring<F>(f: F) -> Work
    where
        F: Fn(&Slot) -> Ran + Send + Sync + 'static,
    {
        Work::Many(Arc::new(f))
    }

    pub(crate) fn once<T, F>(f: F) -> Work
    where
        T: Send + 'static,
        F: FnOnce(&Slot) -> Result<T, String> + Send + 'static,
    {
        Work::Once(Box::new(move |slot: &Slot| f(slot).map(value_of)))
    }
}

pub(crate) fn value_of<T: Send + 'static>(v: T) -> TaskValue {
    Arc::new(StdMutex::new(v))
}

/// What the worker does after an attempt's finish.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Next {
    None,
    /// Queue the next attempt at this instant (a retry's backoff).
    Retry(Instant),
    /// Queue the task now (restarted while its timed-out closure still ran).
    Queue,
}

/// Values let go of under a slot's lock, dropped (and a timer cancelled) after it.
#[derive(Default)]
#[must_use]
pub(crate) struct Trash {
    items: Vec<Box<dyn Any + Send>>,
    timer: Option<TimerHandle>,
}

impl Trash {
    pub(crate) fn push<T: Any + Send>(&mut self, v: Option<T>) {
        if let Some(v) = v {
            self.items.push(Box::new(v));
        }
    }
    pub(crate) fn work(&mut self, w: Option<Work>) {
        self.push(w);
    }
    pub(crate) fn timer(&mut self, t: Option<TimerHandle>) {
        if t.is_some() {
            self.timer = t;
        }
    }
    pub(crate) fn cancel_timer(&mut self) {
        if let Some(t) = self.timer.take() {
            t.cancel();
        }
    }
}

impl Drop for Trash {
    fn drop(&mut self) {
        self.cancel_timer();
    }
}

/// The life-cycle part of a slot's state (boxed: plain tasks go without).
pub(crate) struct Life {
    pub(crate) opts: Options,
    /// The closure the next attempt runs; dropped when the task ends.
    pub(crate) work: Option<Work>,
    /// The value of an earlier run, shown while a refresh runs and after it fails.
    pub(crate) last_good: Option<TaskValue>,
    /// keep_previous: the same key's task under the input run before, while this one has
    /// no good value (always one that had a value when linked).
    pub(crate) previous: Option<Arc<Slot>>,
    /// A closure of this task is running (see the module invariants).
    pub(crate) closure_running: bool,
    /// The running closure's attempt timed out: its return is discarded.
    pub(crate) timed_out: bool,
    /// The task was started again since its creation (refresh, stale, superseded).
    pub(crate) restarted: bool,
    /// Cancelled because another input of its key ran: the next `run` restarts it.
    pub(crate) superseded: bool,
    /// When the Backoff ends.
    pub(crate) retry_at: Option<Instant>,
    /// The attempt's timeout or the backoff's requeue, cancelled when no longer needed.
    pub(crate) timer: Option<TimerHandle>,
    /// When the task was last seen read: set at creation, and by a sweep that finds
    /// `read` (so it may be later than the read itself, by up to the time between two
    /// sweeps: a task is collected no sooner than `gc_after` after its last read).
    pub(crate) last_read: Instant,
    /// A `run` read the task since the last sweep (set without reading the clock: the
    /// every-rerun path stays cheap).
    pub(crate) read: bool,
    /// This (unshared) task is its key's latest in its session (see `TaskTable::latest`;
    /// written under the session's table lock).
    pub(crate) latest: bool,
    /// Sessions using a shared task (notified on its changes).
    pub(crate) users: Vec<Weak<TaskSet>>,
    /// Set by the running closure (`TaskContext::on_cancel`, a job backend's wait), taken
    /// and called (after the unlock) by the cancel request or timeout of that attempt;
    /// dropped when the attempt ends. Invariant: `None` unless `closure_running`.
    pub(crate) on_cancel: Option<Box<dyn FnOnce() + Send>>,
    /// The attempt as a backend that owns retries counts it (a redelivery to another
    /// worker): shown by `TaskHandle::attempt` when larger than the runtime's own count.
    pub(crate) backend_attempt: u32,
}

impl Life {
    pub(crate) fn new(opts: Options, work: Option<Work>, now: Instant) -> Box<Life> {
        Box::new(Life {
            opts,
            work,
            last_good: None,
            previous: None,
            closure_running: false,
            timed_out: false,
            restarted: false,
            superseded: false,
            retry_at: None,
            timer: None,
            last_read: now,
            read: false,
            latest: false,
            users: Vec::new(),
            on_cancel: None,
            backend_attempt: 0,
        })
    }
}

/// `finish_attempt` for a slot with a life (see `Slot::finish_attempt`).
pub(crate) fn finish_with_life(
    st: &mut MutexGuardOf<'_, SlotState>,
    outcome: Outcome,
) -> (Change, Option<Outcome>, Next, Trash) {
    let now = Instant::now();
    let st = &mut **st;
    let life = st.life.as_mut().expect("called with a life");
    let mut trash = Trash::default();
    life.closure_running = false;
    trash.push(life.on_cancel.take());
    trash.timer(life.timer.take());
    if life.timed_out {
        // Counted failed at its deadline already: the late return is discarded.
        life.timed_out = false;
        st.cancel = Cancel::None;
        let next = match st.phase {
            Phase::Backoff => Next::Retry(life.retry_at.unwrap_or(now)),
            Phase::Pending if !st.queued => {
                st.queued = true;
                Next::Queue
            }
            Phase::Pending => Next::None,
            _ => {
                trash.work(life.work.take());
                Next::None
            }
        };
        return (Change::Changed, Some(outcome), next, trash);
    }
    debug_assert_eq!(
        st.phase,
        Phase::Running,
        "only the task's own worker ends its attempt"
    );
    if st.phase != Phase::Running {
        return (Change::None, Some(outcome), Next::None, trash);
    }
    let honoured = st.cancel == Cancel::Honoured;
    let requested = st.cancel != Cancel::None;
    st.cancel = Cancel::None;
    let mut discarded = None;
    match outcome {
        _ if honoured => {
            st.phase = Phase::Cancelled;
            discarded = Some(outcome);
        }
        Ok(value) => {
            st.phase = Phase::Done;
            st.outcome = Some(Ok(value));
            trash.push(life.last_good.take());
            trash.push(life.previous.take());
        }
        Err(e) => {
            if !requested
                && let Some(retry) = life.opts.retry
                && st.attempt <= retry.retries()
            {
                let at = now + retry.delay(st.attempt);
                st.attempt += 1;
                st.phase = Phase::Backoff;
                life.retry_at = Some(at);
                return (Change::Changed, None, Next::Retry(at), trash);
            }
            st.phase = Phase::Error;
            st.outcome = Some(Err(e));
            trash.push(life.previous.take());
        }
    }
    trash.work(life.work.take());
    st.finished = Since::at(st.submitted, now);
    (Change::Terminal, discarded, Next::None, trash)
}

/// Whether `run` should restart a found task.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum OnRun {
    Keep,
    Restart,
}

impl Slot {
    /// A `run` found this task: note the read (for collection) and say whether it must
    /// restart (refresh requested, stale, or superseded and switched back to), and whether
    /// it is flagged its key's latest. Reads the clock only for a Done task with
    /// `stale_after`.
    pub(crate) fn on_run(&self) -> (OnRun, bool) {
        let mut st = self.lock();
        let st = &mut *st;
        if st.dismissed {
            return (OnRun::Keep, false);
        }
        let stale = |life: &Life| {
            st.phase == Phase::Done
                && life
                    .opts
                    .stale_after
                    .zip(st.finished.instant(st.submitted))
                    .is_some_and(|(age, at)| Instant::now() >= at + age)
        };
        let restart = self.wants_run()
            || st.life.as_deref().is_some_and(|life| {
                stale(life) || (st.phase == Phase::Cancelled && life.superseded)
            });
        let latest = match st.life.as_mut() {
            Some(life) => {
                life.read = true;
                life.latest
            }
            None => false,
        };
        if restart && st.phase.is_terminal() {
            (OnRun::Restart, latest)
        } else {
            (OnRun::Keep, latest)
        }
    }

    /// Whether this task was started again (a refresh, a stale or superseded rerun): a
    /// job then recomputes rather than take a kept result.
    pub(crate) fn is_rerun(&self) -> bool {
        self.lock().life.as_ref().is_some_and(|l| l.restarted)
    }

    /// Whether this task lives in the runtime's shared set.
    pub(crate) fn is_shared(&self) -> bool {
        self.lock().life.as_ref().is_some_and(|l| l.opts.shared)
    }

    /// Flags this task as its key's latest in its session (or not).
    pub(crate) fn set_latest(&self, latest: bool) {
        if let Some(life) = self.lock().life.as_mut() {
            life.latest = latest;
        }
    }

    /// A terminal task starts again with `work` (and `opts`, if given): Pending, attempt
    /// 1, its value kept as `last_good`. `None` if it is not terminal (or dismissed);
    /// else whether to queue it now (false while a timed-out closure still runs: that
    /// closure's finish queues it).
    pub(crate) fn restart(&self, work: Work, opts: Option<Options>) -> Option<(bool, Trash)> {
        let now = Instant::now();
        let mut guard = self.lock();
        let st = &mut *guard;
        let mut trash = Trash::default();
        if !st.phase.is_terminal() || st.dismissed {
            trash.work(Some(work));
            drop(guard);
            drop(trash);
            return None;
        }
        let life = st
            .life
            .get_or_insert_with(|| Life::new(Options::default(), None, now));
        self.has_life.store(true, Ordering::Release);
        if let Some(opts) = opts {
            life.opts = opts;
        }
        trash.work(life.work.replace(work));
        // A first closure that never ran (cancelled while queued): replaced too.
        trash.push(self.take_fn());
        if let Some(Ok(value)) = st.outcome.take() {
            trash.push(life.last_good.replace(value));
        }
        life.superseded = false;
        life.restarted = true;
        life.backend_attempt = 0;
        life.retry_at = None;
        trash.timer(life.timer.take());
        if !life.closure_running {
            st.cancel = Cancel::None;
        }
        // Queued now unless a timed-out closure still runs (its return queues it) or the
        // job of a run cancelled while queued is still in the queue (it starts this run).
        let queue = !life.closure_running && !st.queued;
        if queue {
            st.queued = true;
        }
        trash.push(st.progress.take());
        st.phase = Phase::Pending;
        st.attempt = 1;
        st.submitted = now;
        st.started = Since::NOT_YET;
        st.finished = Since::NOT_YET;
        self.wants_run.store(false, Ordering::Release);
        drop(guard);
        Some((queue, trash))
    }

    /// `TaskHandle::refresh`: marks a finished task for a new run (started by the next
    /// `run`/`submit` of its key); nothing on a Pending or Running task.
    pub(crate) fn request_refresh(&self) -> Change {
        let st = self.lock();
        if !st.phase.is_terminal() || st.dismissed {
            return Change::None;
        }
        self.wants_run.store(true, Ordering::Release);
        Change::Changed
    }

    /// Runs the life-cycle work for one attempt, a panic becoming `Err(message)`.
    pub(crate) fn run_work(&self) -> Option<Ran> {
        let work = {
            let mut st = self.lock();
            let life = st.life.as_mut()?;
            match life.work.as_ref()? {
                Work::Many(f) => Work::Many(f.clone()),
                Work::Once(_) => life.work.take()?,
            }
        };
        Some(match work {
            Work::Many(f) => halt_unwinding(|| f(self)).unwrap_or_else(|e| Ran::Ended(Err(e))),
            Work::Once(f) => Ran::Ended(halt_unwinding(|| f(self)).unwrap_or_else(Err)),
        })
    }

    /// The attempt's timeout, if any: `(limit, attempt)`.
    pub(crate) fn attempt_timeout(&self) -> Option<(Duration, u32)> {
        if !self.has_life.load(Ordering::Acquire) {
            return None;
        }
        let st = self.lock();
        let limit = st.life.as_ref()?.opts.timeout?;
        Some((limit, st.attempt))
    }

    /// Stores the timer of the attempt or backoff now under way, when it is still the
    /// current phase's (else cancels it).
    pub(crate) fn keep_timer(&self, timer: TimerHandle, attempt: u32) {
        let mut st = self.lock();
        let current = st.attempt == attempt && matches!(st.phase, Phase::Running | Phase::Backoff);
        match st.life.as_mut() {
            Some(life) if current => {
                // The replaced one belongs to a finished attempt: fired or cancelled.
                let old = life.timer.replace(timer);
                drop(st);
                drop(old);
            }
            _ => {
                drop(st);
                timer.cancel();
            }
        }
    }

    /// The timer fired for `attempt` still running after `limit`: ask its closure to
    /// cancel and count it failed now (Backoff to the next attempt, or Error).
    pub(crate) fn time_out(&self, attempt: u32, limit: Duration) {
        let now = Instant::now();
        let mut guard = self.lock();
        let st = &mut *guard;
        let mut trash = Trash::default();
        let Some(life) = st.life.as_mut() else {
            return;
        };
        if st.phase != Phase::Running || st.attempt != attempt || !life.closure_running {
            return;
        }
        life.timed_out = true;
        life.timer = None;
        // Woken after the unlock, as `cancel_with_trash` does (the close-vs-worker loom
        // model failed with a notify under the slot's lock).
        let requested = st.cancel == Cancel::None;
        let mut on_cancel = None;
        if requested {
            st.cancel = Cancel::Requested;
            on_cancel = life.on_cancel.take();
        }
        let change = match life.opts.retry {
            Some(retry) if st.attempt <= retry.retries() => {
                life.retry_at = Some(now + retry.delay(st.attempt));
                st.attempt += 1;
                st.phase = Phase::Backoff;
                Change::Changed
            }
            _ => {
                st.phase = Phase::Error;
                st.outcome = Some(Err(format!("timed out after {limit:?}")));
                st.finished = Since::at(st.submitted, now);
                trash.push(life.previous.take());
                Change::Terminal
            }
        };
        drop(guard);
        if requested {
            self.cancel_signal.notify_all();
        }
        if let Some(f) = on_cancel {
            f();
        }
        drop(trash);
        self.publish(change);
    }

    /// Whether the task waits in Backoff with no closure running and no job queued; if
    /// so, claims the queueing of its next attempt (the caller queues it).
    pub(crate) fn claim_requeue(&self) -> bool {
        let mut st = self.lock();
        let idle = st.phase == Phase::Backoff
            && !st.queued
            && st.life.as_ref().is_some_and(|l| !l.closure_running);
        if idle {
            st.queued = true;
        }
        idle
    }
}

/// Arms the attempt's timeout, if it has one (called by the worker after `start`, before
/// the closure runs).
pub(crate) fn arm_timeout(slot: &Arc<Slot>) {
    if let Some((limit, attempt)) = slot.attempt_timeout() {
        let weak = Arc::downgrade(slot);
        let h = timer::after(Instant::now() + limit, move || {
            if let Some(slot) = weak.upgrade() {
                slot.time_out(attempt, limit);
            }
        });
        slot.keep_timer(h, attempt);
    }
}

/// Queues the next attempt at `at` on the slot's set (holds no worker meanwhile).
pub(crate) fn schedule_retry(slot: &Arc<Slot>, at: Instant) {
    let attempt = slot.lock().attempt;
    let s = slot.clone();
    let h = timer::after(at, move || requeue(&s));
    slot.keep_timer(h, attempt);
}

/// Queues `slot` now if it still waits in Backoff (else a cancel won).
pub(crate) fn requeue(slot: &Arc<Slot>) {
    if slot.claim_requeue() {
        match slot.set_upgrade() {
            Some(set) => set.execute(slot.clone()),
            // The session is gone (its close cancelled the task, or is about to).
            None => slot.publish(slot.cancel()),
        }
    }
}

/// After an attempt's finish: its retry or restart, if any.
pub(crate) fn follow(slot: &Arc<Slot>, next: Next) {
    match next {
        Next::None => {}
        Next::Retry(at) => schedule_retry(slot, at),
        Next::Queue => {
            if let Some(set) = slot.set_upgrade() {
                set.execute(slot.clone());
            }
        }
    }
}

impl Slot {
    /// Calls `f` once when a cancel is requested of the running attempt (by a handle, a
    /// closed session or a timeout), on the requesting thread after the slot's lock is
    /// released; at once (on this thread) when one is requested already. Dropped uncalled
    /// when the attempt ends first, or on a task without a life cycle (plain `submit`).
    pub(crate) fn on_cancel(&self, f: Box<dyn FnOnce() + Send>) {
        let mut guard = self.lock();
        let st = &mut *guard;
        if st.cancel != Cancel::None {
            drop(guard);
            f();
            return;
        }
        let dropped = match st.life.as_mut() {
            Some(life) if life.closure_running => life.on_cancel.replace(f),
            _ => Some(f),
        };
        drop(guard);
        drop(dropped);
    }

    /// Records the attempt a backend that owns retries reports (see `Life::backend_attempt`).
    pub(crate) fn set_backend_attempt(&self, attempt: u32) -> Change {
        let mut st = self.lock();
        match st.life.as_mut() {
            // A timed-out closure's count would land on the next run.
            Some(life) if life.backend_attempt != attempt && !life.timed_out => {
                life.backend_attempt = attempt;
                Change::Changed
            }
            _ => Change::None,
        }
    }
}
