//! One task's slot and its state machine (`Pending → Running → Done | Error | Cancelled`,
//! `Pending → Cancelled`); `README.md` beside this file states its invariants I1–I7.
//!
//! Lock order: a set's task table, then a slot's state; nothing else is taken while a
//! slot's state is locked, and no user code (closures, `Clone` or `Drop` of results) runs
//! under either lock.

use std::any::{Any, TypeId};
use std::marker::PhantomData;
use std::sync::{Arc, PoisonError, Weak};
use std::time::{Duration, Instant};

use super::TaskSet;
use super::closure::{BoxedFn, FnCell, InlineCaptures, NoFn, TaskFn};
use super::defer::Ran;
use super::life::{Life, Next, Trash};
use super::status::{Progress, TaskStatus};
use super::sync::{AtomicBool, Condvar, Mutex, MutexGuardOf, Ordering};

/// What a task produced: its value or its error message.
pub(crate) type Outcome = Result<TaskValue, String>;

/// A finished task's value: a `std::sync::Mutex<T>` behind an `Arc`. Readers clone the
/// `Arc` under the slot's lock and clone `T` after releasing it, so a large or slow
/// `Clone` never holds up the worker, the status or the summaries. The value's own mutex
/// exists only because `T` need not be `Sync`: it serialises clones of this one value and
/// guards nothing else.
pub(crate) type TaskValue = Arc<dyn Any + Send + Sync>;

/// A slot's phase. `Missing` is not a phase: a dismissed slot keeps its phase and sets
/// `dismissed`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    Pending,
    Running,
    /// Between two attempts of a retried task (reported as Running): waiting for its
    /// backoff timer, or for a timed-out attempt's closure to return.
    Backoff,
    Done,
    Error,
    Cancelled,
}

impl Phase {
    pub(crate) fn is_terminal(self) -> bool {
        matches!(self, Phase::Done | Phase::Error | Phase::Cancelled)
    }
}

/// What a transition changed, so the caller can notify (outside the slot's lock).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use]
pub(crate) enum Change {
    /// Nothing changed.
    None,
    /// Progress or the cancel request changed.
    Changed,
    /// The task left `Pending` for `Running`.
    Started,
    /// The task reached a terminal phase. Happens exactly once per slot.
    Terminal,
}

/// A running task's cancel request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cancel {
    /// No request.
    None,
    /// `cancel` asked the running task to stop; its closure sees this until it returns.
    Requested,
    /// The task's own worker agreed (`complete_cancelled`, or `Err` returned while
    /// requested): the task ends Cancelled when its closure returns.
    Honoured,
}

/// The mutable part of a slot, behind its lock.
pub(crate) struct SlotState {
    /// Written by `start` and `finish` (the worker), and by `cancel` (any thread: Pending →
    /// Cancelled only). Invariants: once terminal, never changes again; a Running task
    /// becomes terminal only in `finish`, after its closure returned, so a key never has
    /// two closures running and `wait_idle` never sees a closure still running as idle.
    pub(super) phase: Phase,
    /// Set by `dismiss` (under the set's table lock) on a terminal slot only; then the slot
    /// is no longer in the table and every handle reports `Missing`.
    pub(super) dismissed: bool,
    /// Set to Requested by `cancel` on a Running task (or by a timeout), to Honoured by
    /// its own worker; cleared by `finish`. Invariant: `Cancel::None` unless a closure of
    /// the task is running.
    pub(super) cancel: Cancel,
    /// Last progress; written only while Pending or Running, kept after the end.
    pub(super) progress: Option<Box<Progress>>,
    /// `Some` exactly when the phase is Done (`Ok`) or Error (`Err`).
    pub(super) outcome: Option<Outcome>,
    /// When the task (its current run) was submitted, started and reached its terminal
    /// phase (the last two as offsets from `submitted`).
    pub(super) submitted: Instant,
    pub(super) started: Since,
    pub(super) finished: Since,
    /// The current or last attempt, 1-based (retries count up; a restart starts at 1).
    pub(super) attempt: u32,
    /// A job for this slot is in the queue (or being handed to a worker): set by whoever
    /// queues it, under this lock; cleared by `start`, which every dequeued job calls
    /// first. A restart or retry queues a job only when none is queued, so a slot never
    /// has two jobs (a refresh of a task cancelled while queued reuses its job).
    pub(super) queued: bool,
    /// The life-cycle state of tasks started by `task(..).run(..)` or refreshed: `None`
    /// for a plain `submit` task never refreshed (which keeps the slot small and its path
    /// exactly as before).
    pub(super) life: Option<Box<Life>>,
}

/// A task's slot: shared by the session's task map, every handle, and the queue. One
/// allocation holds the bookkeeping and the task's closure (the unsized last field `job`),
/// so queueing a task allocates nothing more and the worker frees nothing.
pub(crate) struct SlotOf<J: ?Sized> {
    /// The task's key; immutable. Inline up to 24 bytes, so most keys cost no allocation.
    key: compact_str::CompactString,
    /// The input's fingerprint (`task(key).input(&i)`); `None` for plain `submit`.
    /// Immutable: the task's identity is (key, input).
    input: Option<u64>,
    /// Set by `refresh` on a finished task, cleared by the restart: read without the lock
    /// on every rerun's `submit`, so a plain submit pays one load for refresh support.
    pub(super) wants_run: AtomicBool,
    /// Set once the slot has a `Life` (never cleared): lets the worker skip the
    /// life-cycle steps (timeout, collection) of plain tasks without taking the lock.
    pub(super) has_life: AtomicBool,
    /// The result type `T` the task was submitted with, and its name (for the "key reused
    /// with another type" panic); immutable. A reference to a constant, 8 bytes where the
    /// pair takes 32.
    result_type: &'static ResultType,
    /// The set to notify, through its [`SetLink`] (weak: the set's map holds the slot, so
    /// a strong link would be a cycle; a dead set means nobody is left to notify).
    pub(super) set: Arc<SetLink>,
    /// Everything that changes; see [`SlotState`] for who writes each field.
    state: Mutex<SlotState>,
    /// Signalled (under `state`) when a cancel is requested; `wait_cancelled` waits on it.
    pub(super) cancel_signal: Condvar,
    /// The closure, until the worker that dequeues the slot takes it (to run it, or to drop
    /// it unrun when the task was cancelled first).
    job: J,
}

/// A set's weak self-reference, shared by all its slots. Cloning it for a new slot touches
/// only this allocation's count; a `Weak<TaskSet>` per slot would count on the line of the
/// set's own counts, which every worker writes (upgrading) as it runs a task. Aligned so
/// the weak pointer the workers read sits on another cache line than that count.
///
/// Measured (`cargo bench -p streamtree --bench tasks`, 100,000 trivial tasks, shared
/// 2-core machine): with this link and the hash-once [`TaskTable`](super::table::TaskTable),
/// `throughput_streamtree` workers=64 took 56.8 ms median (1.76 Mitem/s), workers=cores
/// 103.7 ms; with a plain `Weak<TaskSet>` per slot and a std `HashSet` hashing through the
/// slots, 120.8 ms (0.83 Mitem/s) and 145.6 ms. The two were measured together.
#[repr(align(128))]
pub(crate) struct SetLink(pub(crate) Weak<TaskSet>);

impl SetLink {
    /// A link to no set (slots outside any session: tests, a worker process's jobs).
    #[cfg(any(test, feature = "nats"))]
    pub(crate) fn detached() -> Arc<SetLink> {
        Arc::new(SetLink(Weak::new()))
    }
}

/// A slot with its closure's type erased: what maps, handles and the queue hold.
pub(crate) type Slot = SlotOf<dyn TaskFn>;

/// The largest slot: one holding an inline closure of [`InlineCaptures`] size: 176 bytes
/// (the tasks bench prints it). The compact fields are for this figure: `Since` takes 8
/// bytes where `Option<Instant>` takes 16 (two of them), `&'static ResultType` 8 where
/// `(TypeId, &str)` takes 32, and boxed progress 8 where `Option<Progress>` takes 40.
pub(crate) const MAX_SLOT_BYTES: usize = size_of::<SlotOf<FnCell<InlineCaptures, ()>>>();

impl Slot {
    /// A new slot without a closure, `Pending` (or `Cancelled` when the session is already
    /// closed).
    pub(crate) fn new<T: 'static>(key: &str, set: Arc<SetLink>, cancelled: bool) -> Arc<Slot> {
        Arc::new(SlotOf::build::<T>(key, None, set, cancelled, NoFn))
    }

    /// A new `Pending` slot for (key, input) whose runs are driven by `life` (its work).
    pub(crate) fn with_life<T: 'static>(
        key: &str,
        input: Option<u64>,
        set: Arc<SetLink>,
        life: Box<Life>,
    ) -> Arc<Slot> {
        let slot = SlotOf::build::<T>(key, input, set, false, NoFn);
        slot.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .life = Some(life);
        slot.has_life.store(true, Ordering::Release);
        Arc::new(slot)
    }

    /// A new `Pending` slot that runs `f`; one allocation when `f`'s captures are small.
    pub(crate) fn with_fn<T, F>(key: &str, set: Arc<SetLink>, f: F) -> Arc<Slot>
    where
        F: FnOnce(&Slot) -> Result<T, String> + Send + 'static,
        T: Send + 'static,
    {
        if size_of::<F>() <= size_of::<InlineCaptures>()
            && align_of::<F>() <= align_of::<InlineCaptures>()
        {
            Arc::new(SlotOf::build::<T>(key, None, set, false, FnCell::new(f)))
        } else {
            let f: BoxedFn<T> = Box::new(f);
            Arc::new(SlotOf::build::<T>(key, None, set, false, FnCell::new(f)))
        }
    }

    /// Runs the task's closure for this attempt: the inline one of a first plain run
    /// (taken), else the life-cycle work (see `Life::work`); `None` when there is none.
    pub(crate) fn run_fn(&self) -> Option<Ran> {
        self.job
            .run(self)
            .map(Ran::Ended)
            .or_else(|| self.run_work())
    }

    /// Takes the inline closure and drops it unrun (life-cycle work is dropped by the
    /// terminal transitions themselves).
    pub(crate) fn discard_fn(&self) {
        self.job.discard();
    }

    /// Takes the inline closure out unrun, to drop later (a restart replaces it).
    pub(crate) fn take_fn(&self) -> Option<Box<dyn Any + Send>> {
        self.job.take_out()
    }

    #[inline]
    pub(crate) fn key(&self) -> &str {
        &self.key
    }

    /// The input's fingerprint; `None` for plain `submit` tasks.
    #[inline]
    pub(crate) fn input(&self) -> Option<u64> {
        self.input
    }

    /// Whether `refresh` asked for a new run (read without the lock).
    #[inline]
    pub(crate) fn wants_run(&self) -> bool {
        self.wants_run.load(Ordering::Acquire)
    }

    /// The slot's set, if it is still alive.
    pub(crate) fn set_upgrade(&self) -> Option<Arc<TaskSet>> {
        self.set.0.upgrade()
    }

    /// The result type's name without module paths (`Vec<String>`, not
    /// `alloc::vec::Vec<alloc::string::String>`).
    pub(crate) fn result_type_name(&self) -> String {
        short_type_name((self.result_type.name)())
    }

    pub(super) fn lock(&self) -> MutexGuardOf<'_, SlotState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether this slot was submitted with result type `T`.
    pub(crate) fn is_of<T: 'static>(&self) -> bool {
        self.result_type.id == TypeId::of::<T>()
    }

    /// Panics unless this slot was submitted with result type `T`.
    #[track_caller]
    pub(crate) fn check_type<T: 'static>(&self) {
        if !self.is_of::<T>() {
            panic!(
                "task key `{}` is already used by a task with result type `{}`; this call \
                 wants result type `{}`: use another key, or dismiss the task first",
                self.key,
                self.result_type_name(),
                short_type_name(std::any::type_name::<T>())
            );
        }
    }

    /// The public status.
    pub(crate) fn status(&self) -> TaskStatus {
        let st = self.lock();
        status_of(&st)
    }

    /// `Pending → Running`. False when the task was cancelled before it started: then the
    /// worker must not run it.
    pub(crate) fn start(&self) -> bool {
        let mut st = self.lock();
        st.queued = false;
        debug_assert!(
            !matches!(st.phase, Phase::Running),
            "one closure per task at a time: only a queued task (or one cancelled in the \
             queue) reaches a worker"
        );
        match st.phase {
            Phase::Pending => {
                st.started = Since::at(st.submitted, Instant::now());
            }
            // The next attempt of a retried task: it keeps its first start.
            Phase::Backoff => {}
            _ => return false,
        }
        st.phase = Phase::Running;
        if let Some(life) = st.life.as_mut() {
            debug_assert!(!life.closure_running, "one closure per task at a time");
            life.closure_running = true;
        }
        true
    }

    /// `Running → Done | Error` with `outcome` (the closure returned), or `→ Cancelled`
    /// when its worker honoured a cancel request: then the outcome is discarded and
    /// returned, for the caller to drop outside the lock. Clears the cancel request.
    #[cfg_attr(
        not(all(test, streamtree_loom)),
        allow(dead_code, reason = "the loom models drive plain finishes")
    )]
    pub(crate) fn finish(&self, outcome: Outcome) -> (Change, Option<Outcome>) {
        let (change, discarded, _next, trash) = self.finish_attempt(outcome);
        drop(trash);
        (change, discarded)
    }

    /// [`finish`](Self::finish) with the life cycle: a failed attempt with retries left
    /// goes to Backoff (`Next::Retry`), a timed-out attempt's late return is discarded,
    /// and values replaced here are handed back in `Trash` (dropped outside the lock).
    pub(crate) fn finish_attempt(
        &self,
        outcome: Outcome,
    ) -> (Change, Option<Outcome>, Next, Trash) {
        let mut st = self.lock();
        if st.life.is_some() {
            return super::life::finish_with_life(&mut st, outcome);
        }
        debug_assert_eq!(
            st.phase,
            Phase::Running,
            "only the task's own worker ends its running task, once"
        );
        if st.phase != Phase::Running {
            return (Change::None, Some(outcome), Next::None, Trash::default());
        }
        let discarded = if st.cancel == Cancel::Honoured {
            st.phase = Phase::Cancelled;
            Some(outcome)
        } else {
            st.phase = if outcome.is_ok() {
                Phase::Done
            } else {
                Phase::Error
            };
            st.outcome = Some(outcome);
            None
        };
        st.cancel = Cancel::None;
        st.finished = Since::at(st.submitted, Instant::now());
        (Change::Terminal, discarded, Next::None, Trash::default())
    }

    /// Cancels: `Pending → Cancelled` at once; on `Running` only records the request (and
    /// wakes `wait_cancelled`); a no-op on a terminal task.
    pub(crate) fn cancel(&self) -> Change {
        let (change, trash) = self.cancel_with_trash();
        drop(trash);
        change
    }

    /// [`cancel`](Self::cancel), handing back what it let go of (a retry's timer and
    /// work) to drop outside the lock.
    pub(crate) fn cancel_with_trash(&self) -> (Change, Trash) {
        let mut st = self.lock();
        let mut trash = Trash::default();
        let mut on_cancel = None;
        let change = match st.phase {
            Phase::Pending | Phase::Backoff => {
                st.phase = Phase::Cancelled;
                st.finished = Since::at(st.submitted, Instant::now());
                if let Some(life) = st.life.as_mut() {
                    trash.timer(life.timer.take());
                    if !life.closure_running {
                        trash.work(life.work.take());
                    }
                }
                Change::Terminal
            }
            Phase::Running if st.cancel == Cancel::None => {
                st.cancel = Cancel::Requested;
                on_cancel = st.life.as_mut().and_then(|l| l.on_cancel.take());
                Change::Changed
            }
            _ => Change::None,
        };
        drop(st);
        if change == Change::Changed {
            // After the unlock: a waiter re-checks the request under the lock.
            self.cancel_signal.notify_all();
        }
        if let Some(f) = on_cancel {
            f();
        }
        trash.cancel_timer();
        (change, trash)
    }

    /// Whether a cancel was requested (and the task is still running).
    pub(crate) fn is_cancel_requested(&self) -> bool {
        self.lock().cancel != Cancel::None
    }

    /// Blocks until a cancel is requested or `timeout` passes (the task's own worker calls
    /// this); true when requested. Returns at once on a task that is not Running.
    pub(crate) fn wait_cancelled(&self, timeout: Duration) -> bool {
        let deadline = Instant::now().checked_add(timeout);
        let mut st = self.lock();
        while st.phase == Phase::Running
            && st.cancel == Cancel::None
            && st.life.as_ref().is_none_or(|l| !l.timed_out)
        {
            let left = match deadline {
                Some(d) => d.saturating_duration_since(Instant::now()),
                None => Duration::MAX,
            };
            if left.is_zero() {
                break;
            }
            st = self
                .cancel_signal
                .wait_timeout(st, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        st.cancel != Cancel::None
    }

    /// Agrees to a cancel request: the task will end Cancelled when its closure returns
    /// (its value discarded). Only the task's own worker may call this (callers check);
    /// a no-op without a request. True when the request is (now) honoured.
    pub(crate) fn honour_cancel(&self) -> bool {
        let mut st = self.lock();
        if st.phase == Phase::Running && st.cancel != Cancel::None {
            st.cancel = Cancel::Honoured;
            true
        } else {
            false
        }
    }

    /// Records progress while Pending or Running; ignored once terminal, and while a
    /// timed-out closure still runs (its progress would land on the next attempt or run).
    pub(crate) fn set_progress(&self, progress: Progress) -> Change {
        let mut st = self.lock();
        if st.phase.is_terminal() || st.life.as_ref().is_some_and(|l| l.timed_out) {
            return Change::None;
        }
        st.progress = Some(Box::new(progress));
        Change::Changed
    }

    /// Marks a terminal slot dismissed. Called with the set's map locked, which then
    /// removes the slot.
    pub(crate) fn try_dismiss(&self) -> bool {
        let mut st = self.lock();
        if st.phase.is_terminal() && !st.dismissed {
            st.dismissed = true;
            true
        } else {
            false
        }
    }

    /// Runs `f` on the state; for handles and summaries.
    pub(crate) fn with_state<R>(&self, f: impl FnOnce(&SlotState) -> R) -> R {
        f(&self.lock())
    }

    /// Tells the slot's set what changed: wakes subscribers, and `wait_idle` on a terminal
    /// change. Never called with a lock held.
    pub(crate) fn publish(&self, change: Change) {
        if change == Change::None {
            return;
        }
        if let Some(set) = self.set_upgrade() {
            set.changed(change);
            if set.is_shared() {
                self.notify_users();
            }
        }
    }
}

impl<J> SlotOf<J> {
    fn build<T: 'static>(
        key: &str,
        input: Option<u64>,
        set: Arc<SetLink>,
        cancelled: bool,
        job: J,
    ) -> SlotOf<J> {
        let now = Instant::now();
        SlotOf {
            key: compact_str::CompactString::new(key),
            input,
            wants_run: AtomicBool::new(false),
            has_life: AtomicBool::new(false),
            result_type: ResultType::of::<T>(),
            set,
            cancel_signal: Condvar::new(),
            state: Mutex::new(SlotState {
                phase: if cancelled {
                    Phase::Cancelled
                } else {
                    Phase::Pending
                },
                dismissed: false,
                cancel: Cancel::None,
                progress: None,
                outcome: None,
                submitted: now,
                started: Since::NOT_YET,
                finished: if cancelled { Since(0) } else { Since::NOT_YET },
                attempt: 1,
                queued: !cancelled,
                life: None,
            }),
            job,
        }
    }
}

/// A result type and its name, as a constant per type.
pub(crate) struct ResultType {
    id: TypeId,
    name: fn() -> &'static str,
}

impl ResultType {
    fn of<T: 'static>() -> &'static ResultType {
        &<PhantomData<T> as OfType>::RESULT_TYPE
    }
}

trait OfType {
    const RESULT_TYPE: ResultType;
}

impl<T: 'static> OfType for PhantomData<T> {
    const RESULT_TYPE: ResultType = ResultType {
        id: TypeId::of::<T>(),
        name: std::any::type_name::<T>,
    };
}

/// A moment after a task's submission, as nanoseconds since it (`NOT_YET`: none); 8 bytes
/// where an `Option<Instant>` takes 16.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Since(u64);

impl Since {
    pub(super) const NOT_YET: Since = Since(u64::MAX);

    pub(super) fn at(submitted: Instant, t: Instant) -> Since {
        let nanos = t.saturating_duration_since(submitted).as_nanos();
        Since(
            u64::try_from(nanos)
                .unwrap_or(u64::MAX - 1)
                .min(u64::MAX - 1),
        )
    }

    pub(super) fn instant(self, submitted: Instant) -> Option<Instant> {
        (self != Since::NOT_YET).then(|| submitted + Duration::from_nanos(self.0))
    }
}

fn status_of(st: &SlotState) -> TaskStatus {
    if st.dismissed {
        return TaskStatus::Missing;
    }
    match st.phase {
        Phase::Pending => TaskStatus::Pending,
        Phase::Running | Phase::Backoff => TaskStatus::Running,
        Phase::Done => TaskStatus::Done,
        Phase::Error => TaskStatus::Error,
        Phase::Cancelled => TaskStatus::Cancelled,
    }
}

impl SlotState {
    /// When the task's current run was submitted: where `MatchTask::delay` counts from.
    pub(crate) fn submitted(&self) -> Instant {
        self.submitted
    }

    pub(crate) fn status(&self) -> TaskStatus {
        status_of(self)
    }

    pub(crate) fn progress(&self) -> Option<&Progress> {
        self.progress.as_deref()
    }

    pub(crate) fn error(&self) -> Option<&str> {
        if self.phase != Phase::Error {
            return None;
        }
        match (&self.outcome, self.dismissed) {
            (Some(Err(e)), false) => Some(e),
            _ => None,
        }
    }

    /// The value, if Done and not dismissed.
    pub(crate) fn value(&self) -> Option<&TaskValue> {
        match (&self.outcome, self.dismissed) {
            (Some(Ok(v)), false) => Some(v),
            _ => None,
        }
    }

    pub(crate) fn cancel_requested(&self) -> bool {
        self.cancel != Cancel::None
    }
}

/// `full` (a `std::any::type_name`) with every path cut to its last segment:
/// `alloc::vec::Vec<alloc::string::String>` → `Vec<String>`.
pub(crate) fn short_type_name(full: &str) -> String {
    let mut out = String::with_capacity(full.len());
    let mut segment_start = 0;
    let mut chars = full.chars().peekable();
    while let Some(c) = chars.next() {
        if c == ':' && chars.peek() == Some(&':') {
            chars.next();
            out.truncate(segment_start);
        } else {
            out.push(c);
            if !(c.is_alphanumeric() || c == '_') {
                segment_start = out.len();
            }
        }
    }
    out
}
