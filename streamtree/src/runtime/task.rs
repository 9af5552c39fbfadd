//! One task: its slot and state machine (`Pending → Running → Done | Error | Cancelled`,
//! `Pending → Cancelled`), and the public status, progress, handle and summary types.
//!
//! Lock order: a set's task map, then a slot's state; nothing else is taken while a slot's
//! state is locked, and no user code (closures, `Drop` of results) runs under either lock.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::collections::hash_map::{Entry, RandomState};
use std::fmt;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};
use std::marker::PhantomData;
use std::sync::{Arc, PoisonError, Weak};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::TaskSet;
use super::sync::Mutex;
use super::unwind;

/// Where a task is in its life. `Missing` means the session has no task under the key
/// (never submitted, or dismissed).
///
/// Displays and serializes as the lowercase name.
///
/// # Example
/// ```
/// use streamtree::asyncio::TaskStatus;
/// assert_eq!(TaskStatus::Cancelled.to_string(), "cancelled");
/// assert_eq!(serde_json::to_string(&TaskStatus::Done).unwrap(), "\"done\"");
/// assert!(TaskStatus::Error.is_terminal() && !TaskStatus::Running.is_terminal());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TaskStatus {
    /// Queued, waiting for a worker.
    Pending,
    /// A worker is running it.
    Running,
    /// Finished with a result.
    Done,
    /// Failed: returned `Err`, or panicked.
    Error,
    /// Cancelled before it started, or stopped early by its worker.
    Cancelled,
    /// No task under this key.
    Missing,
}

impl TaskStatus {
    /// `Done`, `Error` or `Cancelled`: the task will not change any more.
    ///
    /// # Example
    /// ```
    /// assert!(streamtree::asyncio::TaskStatus::Done.is_terminal());
    /// ```
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            TaskStatus::Done | TaskStatus::Error | TaskStatus::Cancelled
        )
    }

    /// The lowercase name, as displayed and serialized.
    ///
    /// # Example
    /// ```
    /// assert_eq!(streamtree::asyncio::TaskStatus::Pending.as_str(), "pending");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Pending => "pending",
            TaskStatus::Running => "running",
            TaskStatus::Done => "done",
            TaskStatus::Error => "error",
            TaskStatus::Cancelled => "cancelled",
            TaskStatus::Missing => "missing",
        }
    }
}

impl fmt::Display for TaskStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A task's progress: an optional fraction in `0..=1` and an optional message.
///
/// Fractions are clamped into `0..=1`; `NaN` counts as no fraction. Displays as
/// `"50% half way"`, `"50%"`, `"half way"` or `""`.
///
/// # Example
/// ```
/// use streamtree::asyncio::Progress;
/// let p = Progress::from((0.5, "half way"));
/// assert_eq!(p.fraction(), Some(0.5));
/// assert_eq!(p.message(), Some("half way"));
/// assert_eq!(p.to_string(), "50% half way");
/// assert_eq!(Progress::from(1.7).fraction(), Some(1.0));
/// assert_eq!(Progress::from("loading").to_string(), "loading");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Progress {
    fraction: Option<f64>,
    message: Option<String>,
}

impl Progress {
    /// Progress from its parts; the fraction is clamped into `0..=1`.
    ///
    /// # Example
    /// ```
    /// let p = streamtree::asyncio::Progress::new(Some(-1.0), None);
    /// assert_eq!(p.fraction(), Some(0.0));
    /// ```
    pub fn new(fraction: Option<f64>, message: Option<String>) -> Progress {
        let fraction = fraction.filter(|f| !f.is_nan()).map(|f| f.clamp(0.0, 1.0));
        Progress { fraction, message }
    }

    /// The fraction done, in `0..=1`, if one was given.
    ///
    /// # Example
    /// ```
    /// assert_eq!(streamtree::asyncio::Progress::from(0.25).fraction(), Some(0.25));
    /// ```
    pub fn fraction(&self) -> Option<f64> {
        self.fraction
    }

    /// The message, if one was given.
    ///
    /// # Example
    /// ```
    /// assert_eq!(streamtree::asyncio::Progress::from("hi").message(), Some("hi"));
    /// ```
    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }
}

impl fmt::Display for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.fraction, &self.message) {
            (Some(x), Some(m)) => write!(f, "{:.0}% {m}", x * 100.0),
            (Some(x), None) => write!(f, "{:.0}%", x * 100.0),
            (None, Some(m)) => f.write_str(m),
            (None, None) => Ok(()),
        }
    }
}

impl From<f64> for Progress {
    fn from(f: f64) -> Progress {
        Progress::new(Some(f), None)
    }
}

impl From<f32> for Progress {
    fn from(f: f32) -> Progress {
        Progress::new(Some(f64::from(f)), None)
    }
}

impl From<&str> for Progress {
    fn from(m: &str) -> Progress {
        Progress::new(None, Some(m.to_owned()))
    }
}

impl From<String> for Progress {
    fn from(m: String) -> Progress {
        Progress::new(None, Some(m))
    }
}

impl From<(f64, &str)> for Progress {
    fn from((f, m): (f64, &str)) -> Progress {
        Progress::new(Some(f), Some(m.to_owned()))
    }
}

impl From<(f64, String)> for Progress {
    fn from((f, m): (f64, String)) -> Progress {
        Progress::new(Some(f), Some(m))
    }
}

/// What a task produced: its boxed value or its error message.
pub(crate) type Outcome = Result<Box<dyn Any + Send>, String>;

/// A slot's phase. `Missing` is not a phase: a dismissed slot keeps its phase and sets
/// `dismissed`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    Pending,
    Running,
    Done,
    Error,
    Cancelled,
}

impl Phase {
    fn is_terminal(self) -> bool {
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

/// The mutable part of a slot, behind its lock.
pub(crate) struct SlotState {
    /// Written by `start` (worker), `finish`/`complete_cancelled` (worker), `cancel` (any
    /// thread). Invariant: once terminal, never changes again.
    phase: Phase,
    /// Set by `dismiss` (under the set's map lock) on a terminal slot only; then the slot is
    /// no longer in the map and every handle reports `Missing`.
    dismissed: bool,
    /// Set by `cancel` on a Running task; cleared when it finishes normally. Invariant:
    /// only ever true while Running.
    cancel_requested: bool,
    /// Last progress; written only while Pending or Running, kept after the end.
    progress: Option<Box<Progress>>,
    /// `Some` exactly when the phase is Done (`Ok`) or Error (`Err`).
    outcome: Option<Outcome>,
    /// When the task was submitted, started and reached its terminal phase (the last two
    /// as offsets from `submitted`).
    submitted: Instant,
    started: Since,
    finished: Since,
}

/// A task's slot: shared by the session's task map, every handle, and the queue. One
/// allocation holds the bookkeeping and the task's closure (the unsized last field `job`),
/// so queueing a task allocates nothing more and the worker frees nothing.
pub(crate) struct SlotOf<J: ?Sized> {
    /// The task's key; immutable. Inline up to 24 bytes, so most keys cost no allocation.
    key: compact_str::CompactString,
    /// The result type `T` the task was submitted with, and its name (for the "key reused
    /// with another type" panic); immutable. A reference to a constant, 8 bytes where the
    /// pair takes 32.
    result_type: &'static ResultType,
    /// The set to notify, through its [`SetLink`] (weak: the set's map holds the slot, so
    /// a strong link would be a cycle; a dead set means nobody is left to notify).
    set: Arc<SetLink>,
    /// Everything that changes; see [`SlotState`] for who writes each field.
    state: Mutex<SlotState>,
    /// The closure, until the worker that dequeues the slot takes it (to run it, or to drop
    /// it unrun when the task was cancelled first).
    job: J,
}

/// A set's weak self-reference, shared by all its slots. Cloning it for a new slot touches
/// only this allocation's count; a `Weak<TaskSet>` per slot would count on the line of the
/// set's own counts, which every worker writes (upgrading) as it runs a task. Aligned so
/// the weak pointer the workers read sits on another cache line than that count.
#[repr(align(128))]
pub(crate) struct SetLink(pub(crate) Weak<TaskSet>);

impl SetLink {
    /// A link to no set (slots outside any session, in tests).
    #[cfg(test)]
    pub(crate) fn detached() -> Arc<SetLink> {
        Arc::new(SetLink(Weak::new()))
    }
}

/// A slot with its closure's type erased: what maps, handles and the queue hold.
pub(crate) type Slot = SlotOf<dyn TaskFn>;

/// A slot's closure, taken out at most once by the worker that dequeues the slot.
pub(crate) trait TaskFn: Send + Sync + 'static {
    /// Takes the closure and runs it on `slot`, a panic becoming `Err(message)`; `None`
    /// when there is no closure (already taken, or a slot created without one).
    fn run(&self, slot: &Slot) -> Option<Outcome>;
    /// Takes the closure and drops it unrun (outside every lock: its captures may have
    /// arbitrary `Drop`).
    fn discard(&self);
}

/// No closure: slots of closed sessions (their closure goes back to the caller) and tests.
pub(crate) struct NoFn;

impl TaskFn for NoFn {
    fn run(&self, _: &Slot) -> Option<Outcome> {
        None
    }
    fn discard(&self) {}
}

/// A closure returning `Result<T, String>`, stored inline in its slot.
pub(crate) struct FnCell<F, T> {
    f: std::sync::Mutex<Option<F>>,
    /// `fn() -> T`: no `T` is stored here, so this is `Send + Sync` whatever `T` is.
    _result: PhantomData<fn() -> T>,
}

impl<F, T> FnCell<F, T> {
    fn take(&self) -> Option<F> {
        self.f.lock().unwrap_or_else(PoisonError::into_inner).take()
    }
}

impl<F, T> TaskFn for FnCell<F, T>
where
    F: FnOnce(&Slot) -> Result<T, String> + Send + 'static,
    T: Send + 'static,
{
    fn run(&self, slot: &Slot) -> Option<Outcome> {
        let f = self.take()?;
        Some(match unwind::halt_unwinding(|| f(slot)) {
            Ok(Ok(value)) => Ok(Box::new(value)),
            Ok(Err(message)) | Err(message) => Err(message),
        })
    }

    fn discard(&self) {
        drop(self.take());
    }
}

/// Closures whose captures take at most this much are stored inline in their slot (and
/// that space stays with the slot until it is freed); larger ones are boxed, the box freed
/// when they have run.
type InlineCaptures = [usize; 4];

/// A closure too large to store inline.
type BoxedFn<T> = Box<dyn FnOnce(&Slot) -> Result<T, String> + Send>;

/// The largest slot: one holding an inline closure of [`InlineCaptures`] size.
pub(crate) const MAX_SLOT_BYTES: usize = size_of::<SlotOf<FnCell<InlineCaptures, ()>>>();

impl Slot {
    /// A new slot without a closure, `Pending` (or `Cancelled` when the session is already
    /// closed).
    pub(crate) fn new<T: 'static>(key: &str, set: Arc<SetLink>, cancelled: bool) -> Arc<Slot> {
        Arc::new(SlotOf::build::<T>(key, set, cancelled, NoFn))
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
            Arc::new(SlotOf::build::<T>(key, set, false, FnCell::new(f)))
        } else {
            let f: BoxedFn<T> = Box::new(f);
            Arc::new(SlotOf::build::<T>(key, set, false, FnCell::new(f)))
        }
    }

    /// Takes the closure and runs it; `None` when there is none (see [`TaskFn::run`]).
    pub(crate) fn run_fn(&self) -> Option<Outcome> {
        self.job.run(self)
    }

    /// Takes the closure and drops it unrun.
    pub(crate) fn discard_fn(&self) {
        self.job.discard();
    }

    #[inline]
    pub(crate) fn key(&self) -> &str {
        &self.key
    }

    /// The slot's set, if it is still alive.
    pub(crate) fn set_upgrade(&self) -> Option<Arc<TaskSet>> {
        self.set.0.upgrade()
    }

    pub(crate) fn result_type_name(&self) -> &'static str {
        (self.result_type.name)()
    }

    fn lock(&self) -> crate::runtime::sync::MutexGuardOf<'_, SlotState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Panics unless this slot was submitted with result type `T`.
    #[track_caller]
    pub(crate) fn check_type<T: 'static>(&self) {
        if self.result_type.id != TypeId::of::<T>() {
            panic!(
                "task key `{}` is already used by a task with result type `{}`; this call \
                 wants result type `{}`: use another key, or dismiss the task first",
                self.key,
                self.result_type_name(),
                std::any::type_name::<T>()
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
        debug_assert!(
            matches!(st.phase, Phase::Pending | Phase::Cancelled),
            "a task starts once: only a queued task (or one cancelled in the queue) reaches a worker"
        );
        if st.phase != Phase::Pending {
            return false;
        }
        st.phase = Phase::Running;
        st.started = Since::at(st.submitted, Instant::now());
        true
    }

    /// `Running → Done | Error` with `outcome`, clearing any cancel request. When the
    /// worker already completed the task as cancelled, the outcome is discarded and
    /// returned so the caller drops it outside the lock.
    pub(crate) fn finish(&self, outcome: Outcome) -> (Change, Option<Outcome>) {
        let mut st = self.lock();
        if st.phase != Phase::Running {
            debug_assert!(
                st.phase == Phase::Cancelled,
                "only the task's own worker ends a running task, once"
            );
            return (Change::None, Some(outcome));
        }
        st.phase = if outcome.is_ok() {
            Phase::Done
        } else {
            Phase::Error
        };
        st.outcome = Some(outcome);
        st.cancel_requested = false;
        st.finished = Since::at(st.submitted, Instant::now());
        (Change::Terminal, None)
    }

    /// Cancels: `Pending → Cancelled` at once; on `Running` only records the request; a
    /// no-op on a terminal task.
    pub(crate) fn cancel(&self) -> Change {
        let mut st = self.lock();
        match st.phase {
            Phase::Pending => {
                st.phase = Phase::Cancelled;
                st.finished = Since::at(st.submitted, Instant::now());
                Change::Terminal
            }
            Phase::Running if !st.cancel_requested => {
                st.cancel_requested = true;
                Change::Changed
            }
            _ => Change::None,
        }
    }

    /// Whether a cancel was requested (and the task is still running).
    pub(crate) fn is_cancel_requested(&self) -> bool {
        self.lock().cancel_requested
    }

    /// `Running` with a cancel request `→ Cancelled`; a no-op otherwise.
    pub(crate) fn complete_cancelled(&self) -> Change {
        let mut st = self.lock();
        if st.phase == Phase::Running && st.cancel_requested {
            st.phase = Phase::Cancelled;
            st.cancel_requested = false;
            st.finished = Since::at(st.submitted, Instant::now());
            Change::Terminal
        } else {
            Change::None
        }
    }

    /// Records progress while Pending or Running; ignored once terminal.
    pub(crate) fn set_progress(&self, progress: Progress) -> Change {
        let mut st = self.lock();
        if st.phase.is_terminal() {
            return Change::None;
        }
        st.progress = Some(Box::new(progress));
        Change::Changed
    }

    /// Marks a terminal slot dismissed. Called with the set's map locked, which then
    /// removes the slot.
    fn try_dismiss(&self) -> bool {
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
        }
    }
}

impl<F, T> FnCell<F, T> {
    fn new(f: F) -> FnCell<F, T> {
        FnCell {
            f: std::sync::Mutex::new(Some(f)),
            _result: PhantomData,
        }
    }
}

impl<J> SlotOf<J> {
    fn build<T: 'static>(key: &str, set: Arc<SetLink>, cancelled: bool, job: J) -> SlotOf<J> {
        let now = Instant::now();
        SlotOf {
            key: compact_str::CompactString::new(key),
            result_type: ResultType::of::<T>(),
            set,
            state: Mutex::new(SlotState {
                phase: if cancelled {
                    Phase::Cancelled
                } else {
                    Phase::Pending
                },
                dismissed: false,
                cancel_requested: false,
                progress: None,
                outcome: None,
                submitted: now,
                started: Since::NOT_YET,
                finished: if cancelled { Since(0) } else { Since::NOT_YET },
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
struct Since(u64);

impl Since {
    const NOT_YET: Since = Since(u64::MAX);

    fn at(submitted: Instant, t: Instant) -> Since {
        let nanos = t.saturating_duration_since(submitted).as_nanos();
        Since(
            u64::try_from(nanos)
                .unwrap_or(u64::MAX - 1)
                .min(u64::MAX - 1),
        )
    }

    fn instant(self, submitted: Instant) -> Option<Instant> {
        (self != Since::NOT_YET).then(|| submitted + Duration::from_nanos(self.0))
    }
}

fn status_of(st: &SlotState) -> TaskStatus {
    if st.dismissed {
        return TaskStatus::Missing;
    }
    match st.phase {
        Phase::Pending => TaskStatus::Pending,
        Phase::Running => TaskStatus::Running,
        Phase::Done => TaskStatus::Done,
        Phase::Error => TaskStatus::Error,
        Phase::Cancelled => TaskStatus::Cancelled,
    }
}

impl SlotState {
    pub(crate) fn status(&self) -> TaskStatus {
        status_of(self)
    }

    pub(crate) fn progress(&self) -> Option<&Progress> {
        self.progress.as_deref()
    }

    pub(crate) fn error(&self) -> Option<&str> {
        match (&self.outcome, self.dismissed) {
            (Some(Err(e)), false) => Some(e),
            _ => None,
        }
    }

    pub(crate) fn value(&self) -> Option<&(dyn Any + Send)> {
        match (&self.outcome, self.dismissed) {
            (Some(Ok(v)), false) => Some(&**v),
            _ => None,
        }
    }

    pub(crate) fn cancel_requested(&self) -> bool {
        self.cancel_requested
    }

    /// Time spent queued: until it started, or until now / its end if it never started.
    pub(crate) fn queued_for(&self, now: Instant) -> Duration {
        let at = |t: Since| t.instant(self.submitted);
        let until = at(self.started).or(at(self.finished)).unwrap_or(now);
        until.saturating_duration_since(self.submitted)
    }

    /// Time spent running, if it started.
    pub(crate) fn running_for(&self, now: Instant) -> Option<Duration> {
        let at = |t: Since| t.instant(self.submitted);
        at(self.started).map(|s| {
            at(self.finished)
                .unwrap_or(now)
                .saturating_duration_since(s)
        })
    }
}

/// A set's tasks by key. Each key is hashed once, with the std (keyed SipHash, so
/// flood-resistant) hasher, and the map itself is keyed by that `u64` with an identity
/// hash: lookups, inserts and growth never hash a key again. Keys whose 64-bit hashes
/// collide share a bucket.
#[derive(Default)]
pub(crate) struct TaskMap {
    by_hash: HashMap<u64, Bucket, BuildHasherDefault<IdentityHasher>>,
    keys: RandomState,
}

enum Bucket {
    One(Arc<Slot>),
    Many(Vec<Arc<Slot>>),
}

impl Bucket {
    fn slots(&self) -> &[Arc<Slot>] {
        match self {
            Bucket::One(s) => std::slice::from_ref(s),
            Bucket::Many(v) => v,
        }
    }
}

/// Where [`TaskMap::find`] found no slot: the key's hash, for [`TaskMap::insert`].
#[must_use]
pub(crate) struct Vacancy(u64);

/// Passes a `u64` key through: the map's keys are already SipHash outputs.
#[derive(Default)]
pub(crate) struct IdentityHasher(u64);

impl Hasher for IdentityHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

impl TaskMap {
    fn hash(&self, key: &str) -> u64 {
        self.keys.hash_one(key)
    }

    pub(crate) fn get(&self, key: &str) -> Option<&Arc<Slot>> {
        self.find(key).ok()
    }

    #[cfg(all(test, streamtree_loom))]
    pub(crate) fn contains(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Adds a slot whose key is not in the map.
    #[cfg(all(test, streamtree_loom))]
    pub(crate) fn insert_new(&mut self, slot: Arc<Slot>) {
        let vacancy = self.find(slot.key()).err().expect("one task per key");
        self.insert(vacancy, slot);
    }

    /// The slot under `key`, or else where to insert one for it (its hash: the key is
    /// hashed once for both).
    pub(crate) fn find(&self, key: &str) -> Result<&Arc<Slot>, Vacancy> {
        let hash = self.hash(key);
        match self.by_hash.get(&hash) {
            Some(bucket) => match bucket.slots().iter().find(|s| s.key() == key) {
                Some(slot) => Ok(slot),
                None => Err(Vacancy(hash)),
            },
            None => Err(Vacancy(hash)),
        }
    }

    /// Adds `slot` where [`find`](Self::find) found no slot for its key (nothing changed
    /// the map in between).
    pub(crate) fn insert(&mut self, Vacancy(hash): Vacancy, slot: Arc<Slot>) {
        match self.by_hash.entry(hash) {
            Entry::Vacant(v) => {
                v.insert(Bucket::One(slot));
            }
            Entry::Occupied(mut o) => {
                let b = o.get_mut();
                debug_assert!(
                    b.slots().iter().all(|s| s.key() != slot.key()),
                    "one task per key"
                );
                let mut all = b.slots().to_vec();
                all.push(slot);
                *b = Bucket::Many(all);
            }
        }
    }

    pub(crate) fn remove(&mut self, key: &str) -> Option<Arc<Slot>> {
        let Entry::Occupied(mut o) = self.by_hash.entry(self.hash(key)) else {
            return None;
        };
        match o.get_mut() {
            Bucket::One(s) if s.key() == key => Some(o.remove_entry().1.into_one()),
            Bucket::One(_) => None,
            Bucket::Many(v) => {
                let i = v.iter().position(|s| s.key() == key)?;
                let slot = v.swap_remove(i);
                if v.len() == 1 {
                    let last = v.pop().expect("one left");
                    *o.get_mut() = Bucket::One(last);
                }
                Some(slot)
            }
        }
    }

    pub(crate) fn slots(&self) -> impl Iterator<Item = &Arc<Slot>> {
        self.by_hash.values().flat_map(Bucket::slots)
    }
}

impl Bucket {
    fn into_one(self) -> Arc<Slot> {
        match self {
            Bucket::One(s) => s,
            Bucket::Many(_) => unreachable!("called on a single-slot bucket"),
        }
    }
}

/// Removes the terminal task under `key` from `map`, marking it dismissed; returns it (to
/// be dropped by the caller outside the lock). Pending, Running and absent keys: `None`.
///
/// Invariant: a slot is in the map if and only if it is not dismissed.
pub(crate) fn dismiss(map: &Mutex<TaskMap>, key: &str) -> Option<Arc<Slot>> {
    let mut map = map.lock().unwrap_or_else(PoisonError::into_inner);
    let slot = map.get(key)?;
    if !slot.try_dismiss() {
        return None;
    }
    map.remove(key)
}

/// A handle to one task of a session: poll its status, result, error and progress, or
/// cancel it. Cheap to clone, usable from any thread, and it outlives reruns; after the
/// task is dismissed it reports [`TaskStatus::Missing`].
///
/// # Example
/// ```
/// use std::time::Duration;
/// use streamtree::prelude::*;
/// let session = Session::new();
/// let h = session.enter(|| submit("answer", || 6 * 7));
/// assert!(session.wait_idle(Duration::from_secs(10)));
/// assert_eq!(h.key(), "answer");
/// assert_eq!(h.status(), TaskStatus::Done);
/// assert_eq!(h.result(), Some(42));
/// assert_eq!(h.error(), None);
/// ```
pub struct TaskHandle<T> {
    slot: Arc<Slot>,
    /// `fn() -> T`: the handle only hands out clones of `T`, so it is `Send + Sync` for any
    /// `T` (the value itself sits behind the slot's lock).
    _result: PhantomData<fn() -> T>,
}

impl<T> Clone for TaskHandle<T> {
    fn clone(&self) -> Self {
        TaskHandle {
            slot: self.slot.clone(),
            _result: PhantomData,
        }
    }
}

impl<T> fmt::Debug for TaskHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskHandle")
            .field("key", &self.slot.key())
            .field("status", &self.slot.status())
            .finish()
    }
}

impl<T> TaskHandle<T> {
    /// The task's slot, for crate-internal readers (`asyncio::snapshot`).
    pub(crate) fn slot(&self) -> &Slot {
        &self.slot
    }

    /// Wraps a slot known to hold a task with result type `T`.
    pub(crate) fn new(slot: Arc<Slot>) -> TaskHandle<T>
    where
        T: 'static,
    {
        debug_assert!(
            slot.result_type.id == TypeId::of::<T>(),
            "a handle's type is its slot's result type"
        );
        TaskHandle {
            slot,
            _result: PhantomData,
        }
    }
}

impl<T: Clone + Send + 'static> TaskHandle<T> {
    /// The task's key.
    ///
    /// # Example
    /// ```
    /// use streamtree::prelude::*;
    /// let s = Session::new();
    /// assert_eq!(s.enter(|| submit("k", || ())).key(), "k");
    /// ```
    pub fn key(&self) -> &str {
        self.slot.key()
    }

    /// The task's status; [`TaskStatus::Missing`] once dismissed.
    ///
    /// # Example
    /// ```
    /// use streamtree::prelude::*;
    /// let s = Session::new();
    /// let h = s.enter(|| submit("k", || ()));
    /// s.wait_idle(std::time::Duration::from_secs(10));
    /// assert_eq!(h.status(), TaskStatus::Done);
    /// ```
    pub fn status(&self) -> TaskStatus {
        self.slot.status()
    }

    /// A clone of the result: `Some` only when the task is Done (so `Some(())` tells
    /// "returned nothing" apart from "no result yet").
    ///
    /// # Example
    /// ```
    /// use streamtree::prelude::*;
    /// let s = Session::new();
    /// let h = s.enter(|| submit("unit", || ()));
    /// s.wait_idle(std::time::Duration::from_secs(10));
    /// assert_eq!(h.result(), Some(()));
    /// ```
    pub fn result(&self) -> Option<T> {
        self.slot.with_state(|st| {
            st.value().map(|v| {
                v.downcast_ref::<T>()
                    .expect("a slot's value has the type its handles were created with")
                    .clone()
            })
        })
    }

    /// The error message: `Some` only when the task is Error (it returned `Err` through
    /// [`submit_fallible`](crate::asyncio::submit_fallible), or panicked).
    ///
    /// # Example
    /// ```
    /// use streamtree::prelude::*;
    /// let s = Session::new();
    /// let h = s.enter(|| submit_fallible("f", || Err::<u8, _>("disk full")));
    /// s.wait_idle(std::time::Duration::from_secs(10));
    /// assert_eq!(h.error().as_deref(), Some("disk full"));
    /// ```
    pub fn error(&self) -> Option<String> {
        self.slot.with_state(|st| st.error().map(str::to_owned))
    }

    /// The last progress the task reported (kept after it finished).
    ///
    /// # Example
    /// ```
    /// use streamtree::prelude::*;
    /// let s = Session::new();
    /// let h = s.enter(|| submit("p", || set_task_progress("p", (0.5, "half"))));
    /// s.wait_idle(std::time::Duration::from_secs(10));
    /// assert_eq!(h.progress().unwrap().to_string(), "50% half");
    /// ```
    pub fn progress(&self) -> Option<Progress> {
        self.slot.with_state(|st| st.progress().cloned())
    }

    /// Cancels: a Pending task becomes Cancelled at once and never runs; a Running task
    /// gets a cancel request its worker may honour; a finished task is left alone.
    ///
    /// # Example
    /// ```
    /// use streamtree::prelude::*;
    /// let s = Session::builder().max_workers(1).build();
    /// let (tx, rx) = std::sync::mpsc::channel::<()>();
    /// let (blocker, queued) = s.enter(|| (submit("block", move || rx.recv().ok()), submit("q", || 1)));
    /// queued.cancel();
    /// assert_eq!(queued.status(), TaskStatus::Cancelled);
    /// tx.send(()).unwrap();
    /// s.wait_idle(std::time::Duration::from_secs(10));
    /// assert_eq!(blocker.status(), TaskStatus::Done);
    /// ```
    pub fn cancel(&self) {
        let change = self.slot.cancel();
        self.slot.publish(change);
    }

    /// Whether a cancel was requested while the task runs (cleared when it finishes).
    ///
    /// # Example
    /// ```
    /// use streamtree::prelude::*;
    /// let s = Session::new();
    /// let h = s.enter(|| submit("k", || ()));
    /// assert!(!h.is_cancel_requested());
    /// ```
    pub fn is_cancel_requested(&self) -> bool {
        self.slot.is_cancel_requested()
    }
}

/// A debugging-panel row for one task, from
/// [`summarize_async_tasks`](crate::asyncio::summarize_async_tasks).
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// let s = Session::new();
/// s.enter(|| submit("a", || 1));
/// s.wait_idle(std::time::Duration::from_secs(10));
/// let rows = s.enter(summarize_async_tasks);
/// assert_eq!(rows[0].key, "a");
/// assert_eq!(rows[0].status, TaskStatus::Done);
/// assert!(rows[0].has_result);
/// let json = serde_json::to_value(&rows[0]).unwrap();
/// assert_eq!(json["status"], "done");
/// ```
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct TaskSummary {
    /// The task's key.
    pub key: String,
    /// Its status.
    pub status: TaskStatus,
    /// Whether it ended with an error.
    pub has_error: bool,
    /// Whether it ended with a result.
    pub has_result: bool,
    /// Whether a cancel request is pending.
    pub cancel_requested: bool,
    /// Readable progress (`"50% half way"`), at most 120 characters, ending in `...` when cut.
    pub progress: String,
    /// The progress fraction, if any.
    pub progress_fraction: Option<f64>,
    /// The error message, at most 120 characters, ending in `...` when cut.
    pub error_preview: Option<String>,
    /// The result type's name.
    pub result_type: String,
    /// Milliseconds spent queued (so far, if still pending).
    pub queued_ms: f64,
    /// Milliseconds spent running (so far, if still running); `None` if it never started.
    pub running_ms: Option<f64>,
}

/// Longest preview in a [`TaskSummary`], in characters.
const PREVIEW_CHARS: usize = 120;

/// `s` cut to at most [`PREVIEW_CHARS`] characters, ending in `...` when cut.
pub(crate) fn preview(s: &str) -> String {
    if s.chars().count() <= PREVIEW_CHARS {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(PREVIEW_CHARS - 3).collect();
    out.push_str("...");
    out
}

impl TaskSummary {
    pub(crate) fn of(slot: &Slot, now: Instant) -> TaskSummary {
        slot.with_state(|st| TaskSummary {
            key: slot.key().to_owned(),
            status: st.status(),
            has_error: st.error().is_some(),
            has_result: st.value().is_some(),
            cancel_requested: st.cancel_requested(),
            progress: st
                .progress()
                .map(|p| preview(&p.to_string()))
                .unwrap_or_default(),
            progress_fraction: st.progress().and_then(Progress::fraction),
            error_preview: st.error().map(preview),
            result_type: slot.result_type_name().to_owned(),
            queued_ms: st.queued_for(now).as_secs_f64() * 1e3,
            running_ms: st.running_for(now).map(|d| d.as_secs_f64() * 1e3),
        })
    }
}
