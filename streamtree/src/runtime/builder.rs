//! [`TaskBuilder`]: `task(key)` with its options, ending in [`run`](TaskBuilder::run).

use std::fmt;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::time::Duration;

use super::handle::{TaskContext, TaskHandle};
use super::life::Options;
use super::retry::Retry;
use super::slot::Slot;

/// The default [`gc_after`](TaskBuilder::gc_after): 5 minutes.
pub(crate) const DEFAULT_GC_AFTER: Duration = Duration::from_secs(300);

/// A task being described: its key, input and options; [`run`](Self::run) returns its
/// handle. Made by [`task`](crate::asyncio::task).
///
/// # Example
/// ```
/// use std::time::Duration;
/// use streamtree::prelude::*;
/// let session = Session::new();
/// let region = "north";
/// let h = session.enter(|| {
///     task("sales")
///         .input(&region)
///         .retry(Retry::times(2).backoff(Duration::from_millis(10)))
///         .timeout(Duration::from_secs(30))
///         .run(move |_ctx: &TaskContext| Ok::<_, String>(format!("sales of {region}")))
/// });
/// assert!(session.wait_idle(Duration::from_secs(10)));
/// assert_eq!(h.result().as_deref(), Some("sales of north"));
/// ```
#[derive(Clone, Debug)]
#[must_use = "a task starts only when `run` is called"]
pub struct TaskBuilder<'k> {
    key: &'k str,
    input: Option<u64>,
    opts: Options,
}

impl<'k> TaskBuilder<'k> {
    pub(crate) fn new(key: &'k str) -> TaskBuilder<'k> {
        TaskBuilder {
            key,
            input: None,
            opts: Options {
                gc_after: Some(DEFAULT_GC_AFTER),
                ..Options::default()
            },
        }
    }

    /// The task's identity is (key, input): a new input is a new task under the same
    /// key. The input is hashed (std's SipHash with fixed keys, so equal inputs give equal
    /// fingerprints in every session of the process) into a 64-bit fingerprint kept
    /// beside the key; the input itself is not stored. Running the key with another input
    /// cancels the previous input's unfinished task (unless shared); finished ones stay
    /// until collected, so switching back shows them at once.
    ///
    /// # Example
    /// ```
    /// use std::time::Duration;
    /// use streamtree::prelude::*;
    /// let s = Session::new();
    /// let run = |region: &'static str| s.enter(|| {
    ///     task("sales").input(region).run(move |_| Ok::<_, String>(region.len()))
    /// });
    /// let north = run("north");
    /// s.wait_idle(Duration::from_secs(10));
    /// let west = run("west");
    /// s.wait_idle(Duration::from_secs(10));
    /// assert_eq!((north.result(), west.result()), (Some(5), Some(4)));
    /// assert_eq!(run("north").result(), Some(5)); // cached: no new run
    /// ```
    pub fn input<I: Hash + ?Sized>(mut self, input: &I) -> Self {
        self.input = Some(fingerprint(input));
        self
    }

    /// Retries a failed attempt (an `Err`, a panic or a timeout) as `retry` says, without
    /// any rerun; the waits hold no worker thread. Between attempts the status stays
    /// Running, [`attempt`](TaskHandle::attempt) counts, and
    /// [`error`](TaskHandle::error) is `None` until the last attempt fails. A cancelled
    /// attempt is never retried.
    ///
    /// # Example
    /// ```
    /// use std::sync::atomic::{AtomicU32, Ordering};
    /// use std::time::Duration;
    /// use streamtree::prelude::*;
    /// static CALLS: AtomicU32 = AtomicU32::new(0);
    /// let s = Session::new();
    /// let h = s.enter(|| task("flaky").retry(Retry::times(3).backoff(Duration::ZERO)).run(|_| {
    ///     if CALLS.fetch_add(1, Ordering::SeqCst) < 2 { Err("try again") } else { Ok(7) }
    /// }));
    /// assert!(s.wait_idle(Duration::from_secs(10)));
    /// assert_eq!((h.result(), h.attempt()), (Some(7), 3));
    /// ```
    pub fn retry(mut self, retry: Retry) -> Self {
        self.opts.retry = Some(retry);
        self
    }

    /// An attempt still running after `limit` is asked to cancel and counts as failed at
    /// once: the handle reports Error (`"timed out after …"`) or, with retries left, the
    /// next attempt's Running, without waiting for the closure. The closure's eventual
    /// return is discarded, and the next attempt (or a refresh) starts only after it
    /// returned: one closure per task at a time, always. So a closure that ignores the
    /// cancel request delays its task's next attempt, never doubles it.
    ///
    /// # Example
    /// ```
    /// use std::time::Duration;
    /// use streamtree::prelude::*;
    /// let s = Session::new();
    /// let h = s.enter(|| task("hang").timeout(Duration::from_millis(20)).run(|ctx: &TaskContext| {
    ///     ctx.wait_cancelled(Duration::from_secs(60)); // a hung call that honours the cancel
    ///     Ok::<u8, String>(1)
    /// }));
    /// assert!(s.wait_idle(Duration::from_secs(10)));
    /// assert_eq!(h.status(), TaskStatus::Error);
    /// assert_eq!(h.error().as_deref(), Some("timed out after 20ms"));
    /// ```
    pub fn timeout(mut self, limit: Duration) -> Self {
        self.opts.timeout = Some(limit);
        self
    }

    /// A Done task whose result is older than `age` is refreshed by the first
    /// [`run`](Self::run) after that (in the background: the old result stays visible, as
    /// for [`TaskHandle::refresh`]).
    ///
    /// # Example
    /// ```
    /// use std::time::Duration;
    /// use streamtree::prelude::*;
    /// let s = Session::new();
    /// let run = || s.enter(|| task("t").stale_after(Duration::ZERO).run(|_| Ok::<_, String>(1)));
    /// run();
    /// s.wait_idle(Duration::from_secs(10));
    /// let h = run(); // stale at once: a new run starts, the old value shows meanwhile
    /// assert_eq!(h.result(), Some(1));
    /// s.wait_idle(Duration::from_secs(10));
    /// ```
    pub fn stale_after(mut self, age: Duration) -> Self {
        self.opts.stale_after = Some(age);
        self
    }

    /// While a new input's first run is unfinished, [`result`](TaskHandle::result)
    /// shows the latest result of the same key under its previous input, and
    /// [`is_refreshing`](TaskHandle::is_refreshing) is true.
    ///
    /// # Example
    /// ```
    /// use std::time::Duration;
    /// use streamtree::prelude::*;
    /// let s = Session::builder().max_workers(1).build();
    /// s.enter(|| task("q").input(&1).keep_previous().run(|_| Ok::<_, String>(10)));
    /// s.wait_idle(Duration::from_secs(10));
    /// let (tx, rx) = std::sync::mpsc::channel::<()>();
    /// let rx = std::sync::Mutex::new(rx); // `run` closures are `Sync` (retries re-run them)
    /// let h = s.enter(|| task("q").input(&2).keep_previous().run(move |_| {
    ///     rx.lock().unwrap().recv().ok();
    ///     Ok::<_, String>(20)
    /// }));
    /// assert_eq!((h.result(), h.is_refreshing()), (Some(10), true));
    /// tx.send(()).unwrap();
    /// s.wait_idle(Duration::from_secs(10));
    /// assert_eq!((h.result(), h.is_refreshing()), (Some(20), false));
    /// ```
    pub fn keep_previous(mut self) -> Self {
        self.opts.keep_previous = true;
        self
    }

    /// One task per (key, input) for every session on the same runtime: each gets the
    /// same task, progress and result. [`cancel`](TaskHandle::cancel) cancels it for
    /// everyone; closing a session does not cancel it; `dismiss_task` in any session
    /// removes it for all. Every session using it is notified of its changes, and its
    /// `wait_idle` waits for the runtime's shared tasks too.
    ///
    /// # Example
    /// ```
    /// use std::time::Duration;
    /// use streamtree::prelude::*;
    /// let rt = streamtree::Runtime::builder().build();
    /// let a = Session::builder().runtime(rt.clone()).build();
    /// let b = Session::builder().runtime(rt).build();
    /// let ha = a.enter(|| task("rates").shared().run(|_| Ok::<_, String>(1.08)));
    /// let hb = b.enter(|| task("rates").shared().run(|_| -> Result<f64, String> { unreachable!() }));
    /// assert!(a.wait_idle(Duration::from_secs(10)));
    /// assert_eq!((ha.result(), hb.result()), (Some(1.08), Some(1.08)));
    /// ```
    pub fn shared(mut self) -> Self {
        self.opts.shared = true;
        self
    }

    /// A finished task no rerun's [`run`](Self::run) read for `idle` is dropped (its
    /// handles then report Missing), shared ones too; default 5 minutes. A timer sweeps
    /// each session's tasks (and the shared ones) when the earliest may expire, so memory
    /// stays bounded however many inputs a long-lived server sees. Plain
    /// [`submit`](crate::asyncio::submit) tasks are never collected.
    ///
    /// # Example
    /// ```
    /// use std::time::Duration;
    /// use streamtree::prelude::*;
    /// let s = Session::new();
    /// // Dropped once no rerun asked for this input for a minute.
    /// let h = s.enter(|| task("tmp").input(&7).gc_after(Duration::from_secs(60)).run(|_| Ok::<_, String>(1)));
    /// s.wait_idle(Duration::from_secs(10));
    /// assert_eq!(h.result(), Some(1));
    /// ```
    pub fn gc_after(mut self, idle: Duration) -> Self {
        self.opts.gc_after = Some(idle);
        self
    }

    /// Returns the task for (key, input) in the current session (or the runtime, when
    /// [`shared`](Self::shared)), starting `f` on a worker if there is none (or it is due
    /// for a new run: refreshed, stale, or superseded earlier). `Err(e)` ends an attempt
    /// failed with `e.to_string()` (or Cancelled when a cancel was requested), as
    /// [`submit_fallible_with`](crate::asyncio::submit_fallible_with).
    ///
    /// # Panics
    /// As [`submit`](crate::asyncio::submit): a blank key, a key holding another result
    /// type under the same input, no current session.
    ///
    /// # Example
    /// ```
    /// use streamtree::prelude::*;
    /// let s = Session::new();
    /// let h = s.enter(|| task("k").input(&3).run(|ctx: &TaskContext| {
    ///     ctx.set_progress(0.5);
    ///     Ok::<_, std::num::ParseIntError>("42".parse::<u32>()?)
    /// }));
    /// s.wait_idle(std::time::Duration::from_secs(10));
    /// assert_eq!(h.result(), Some(42));
    /// ```
    #[track_caller]
    pub fn run<T, E, F>(self, f: F) -> TaskHandle<T>
    where
        T: Send + Sync + 'static,
        E: fmt::Display,
        F: Fn(&TaskContext) -> Result<T, E> + Send + Sync + 'static,
    {
        crate::asyncio::check_key(self.key);
        let Some(set) = super::current_set() else {
            crate::asyncio::no_session()
        };
        set.run(self.key, self.input, self.opts, move |slot: &Slot| {
            crate::asyncio::ended(slot, f(&TaskContext::new(slot)))
        })
    }
}

impl<'k> TaskBuilder<'k> {
    /// Its key, input fingerprint and options (for `jobs::JobBuilder::submit`).
    pub(crate) fn into_parts(self) -> (&'k str, Option<u64>, Options) {
        (self.key, self.input, self.opts)
    }
}

/// The fixed-key fingerprint of an input.
pub(crate) fn fingerprint<I: Hash + ?Sized>(input: &I) -> u64 {
    let mut h = DefaultHasher::new();
    input.hash(&mut h);
    h.finish()
}
