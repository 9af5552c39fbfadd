//! The seam between the task runtime and whatever runs jobs: [`JobBackend`], and the
//! in-process backend [`InProcess`] (jobs run on the runtime's worker pool like tasks,
//! their finished results optionally kept in a store, `persist`).
//!
//! The runtime keeps the life cycle (identity, dedupe, timeout, stale, keep_previous,
//! shared, gc, refresh, progress, cancel, and retries unless the backend owns them); a
//! backend answers two questions for one run of (job name, serialized input): "is there a
//! finished result?" and "run it now" (one attempt, or every attempt when it
//! [owns retries](JobBackend::owns_retries)). `JobRun::fresh` tells a refresh from a
//! first run, so a backend with shared state (a key-value bucket) starts a new run
//! rather than join a finished one; `TaskContext` tells it of a cancel by callback
//! (crate-internal `on_cancel`) and shows the attempts it counts (`set_attempt`).
//!
//! A backend that waits on something else (a network) need not hold a runtime worker
//! while it waits: [`JobBackend::start`] takes the run as a [`StartedRun`] and returns at
//! once; whichever thread learns the run's end calls [`StartedRun::finish`].

use std::fmt;

use super::registry::{Jobs, unregistered};
use crate::runtime::{Deferred, Progress, TaskContext, TaskValue};

/// One run of a job, as a backend sees it: the job's name and its serialized input
/// (serde_json). Equal (name, input) are the same run everywhere: in a store, on a
/// worker, in another replica.
///
/// # Example
/// ```
/// use streamtree::jobs::JobRun;
/// let run = JobRun::new("report", br#"{"region":"north"}"#);
/// assert_eq!(run.id(), b"report\0{\"region\":\"north\"}".to_vec());
/// assert!(!run.fresh);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct JobRun<'a> {
    /// [`Job::NAME`](super::Job::NAME).
    pub name: &'a str,
    /// The input, serialized with serde_json.
    pub input: &'a [u8],
    /// A refresh or a stale rerun: the run must compute again, never join or reuse a
    /// finished run of the same (name, input) that the backend keeps.
    pub fresh: bool,
    /// The task's retry policy, when the backend [owns retries](JobBackend::owns_retries)
    /// (the runtime then does not retry); `None` otherwise.
    pub retry: Option<crate::runtime::Retry>,
}

impl<'a> JobRun<'a> {
    /// A first run of job `name` on serialized `input`, without retries.
    ///
    /// # Example
    /// ```
    /// let run = streamtree::jobs::JobRun::new("a", b"1");
    /// assert_eq!((run.name, run.retry), ("a", None));
    /// ```
    pub fn new(name: &'a str, input: &'a [u8]) -> JobRun<'a> {
        JobRun {
            name,
            input,
            fresh: false,
            retry: None,
        }
    }
}

impl JobRun<'_> {
    /// A stable byte key for this run: the name, a NUL, the input (names hold no NUL).
    ///
    /// # Example
    /// ```
    /// let run = streamtree::jobs::JobRun::new("a", b"1");
    /// assert_eq!(run.id(), b"a\x001".to_vec());
    /// ```
    pub fn id(&self) -> Vec<u8> {
        let mut id = Vec::with_capacity(self.name.len() + 1 + self.input.len());
        id.extend_from_slice(self.name.as_bytes());
        id.push(0);
        id.extend_from_slice(self.input);
        id
    }
}

/// What the runtime asks of whatever runs jobs. Both methods are called on one of the
/// runtime's workers, inside the job's task (so `ctx` reports progress and sees cancel
/// requests), never under a runtime lock.
///
/// # Example
/// A backend that answers every run from a fixed table (a test double):
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use streamtree::jobs::{Job, JobBackend, JobRun, job};
/// use streamtree::prelude::*;
/// #[derive(Debug)]
/// struct Canned;
/// impl JobBackend for Canned {
///     fn finished(&self, _: &JobRun<'_>) -> Option<Vec<u8>> { Some(b"42".to_vec()) }
///     fn execute(&self, _: &TaskContext, _: &JobRun<'_>) -> Result<Vec<u8>, String> { unreachable!() }
/// }
/// struct Answer;
/// impl Job for Answer {
///     const NAME: &'static str = "answer";
///     type Input = ();
///     type Output = u32;
///     type Error = String;
///     fn run(_: &TaskContext, _: &()) -> Result<u32, String> { unreachable!() }
/// }
/// let rt = streamtree::Runtime::builder().backend(Arc::new(Canned)).build();
/// let s = Session::builder().runtime(rt).build();
/// let h = s.enter(|| job::<Answer>(&()).submit());
/// assert!(s.wait_idle(Duration::from_secs(10)));
/// assert_eq!(h.result(), Some(42));
/// ```
pub trait JobBackend: fmt::Debug + Send + Sync + 'static {
    /// The serialized output of a finished run of `run`, if the backend kept one (a
    /// store, a key-value bucket). Asked before a task's first attempt, not on a
    /// refresh or a stale rerun (those recompute).
    fn finished(&self, run: &JobRun<'_>) -> Option<Vec<u8>>;

    /// Runs one attempt of `run`, blocking this worker until it ends: the serialized
    /// output, or the error's text. A cancel request shows in `ctx`; progress set on
    /// `ctx` reaches the task's handles. The runtime retries, times out and cancels.
    fn execute(&self, ctx: &TaskContext, run: &JobRun<'_>) -> Result<Vec<u8>, String>;

    /// Runs that were under way when the process last stopped, to start again once
    /// the runtime is built (each as a shared task, not tied to a session).
    ///
    /// # Example
    /// ```
    /// use streamtree::jobs::{InProcess, JobBackend, Jobs};
    /// assert!(InProcess::new(Jobs::new()).interrupted().is_empty());
    /// ```
    fn interrupted(&self) -> Vec<(String, Vec<u8>)> {
        Vec::new()
    }

    /// Whether this backend retries failed attempts itself (a worker's delayed negative
    /// acknowledgement holds no thread): then the runtime hands the task's retry policy
    /// over in [`JobRun::retry`], calls [`execute`](Self::execute) once per run, and shows
    /// the attempts the backend reports. False by default: the runtime retries.
    ///
    /// # Example
    /// ```
    /// use streamtree::jobs::{InProcess, JobBackend, Jobs};
    /// assert!(!InProcess::new(Jobs::new()).owns_retries());
    /// ```
    fn owns_retries(&self) -> bool {
        false
    }

    /// Starts `run` without holding the runtime's worker while it runs: returns at once,
    /// and the run ends when `started` is [finished](StartedRun::finish), from any thread
    /// (dropping it unfinished ends the task in Error). Meanwhile `started` shows
    /// progress and attempts and tells of cancel requests, as `ctx` does for
    /// [`execute`](Self::execute); timeouts, cancel, sharing and retries (unless the
    /// backend [owns them](Self::owns_retries)) stay with the runtime, as there.
    ///
    /// `Err(started)` declines: the runtime then calls `execute` on its worker. The
    /// default declines, so a backend that runs jobs on the calling thread implements
    /// `execute` alone.
    ///
    /// # Errors
    /// `started` handed back: this backend runs `run` through `execute`.
    ///
    /// # Example
    /// A backend that runs every job on a thread of its own:
    /// ```
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use streamtree::jobs::{Job, JobBackend, JobRun, StartedRun, job};
    /// use streamtree::prelude::*;
    /// #[derive(Debug)]
    /// struct Threaded;
    /// impl JobBackend for Threaded {
    ///     fn finished(&self, _: &JobRun<'_>) -> Option<Vec<u8>> { None }
    ///     fn execute(&self, _: &TaskContext, _: &JobRun<'_>) -> Result<Vec<u8>, String> {
    ///         unreachable!("every run goes through start")
    ///     }
    ///     fn start(&self, run: &JobRun<'_>, started: StartedRun) -> Result<(), StartedRun> {
    ///         let input = run.input.to_vec(); // the echo job: output = input
    ///         std::thread::spawn(move || {
    ///             started.set_progress("halfway");
    ///             started.finish(Ok(input));
    ///         });
    ///         Ok(())
    ///     }
    /// }
    /// struct Echo;
    /// impl Job for Echo {
    ///     const NAME: &'static str = "echo";
    ///     type Input = u32;
    ///     type Output = u32;
    ///     type Error = String;
    ///     fn run(_: &TaskContext, n: &u32) -> Result<u32, String> { Ok(*n) }
    /// }
    /// let rt = streamtree::Runtime::builder().backend(Arc::new(Threaded)).build();
    /// let s = Session::builder().runtime(rt).build();
    /// let h = s.enter(|| job::<Echo>(&7).submit());
    /// assert!(s.wait_idle(Duration::from_secs(10)));
    /// assert_eq!(h.result(), Some(7));
    /// ```
    fn start(&self, run: &JobRun<'_>, started: StartedRun) -> Result<(), StartedRun> {
        let _ = run;
        Err(started)
    }
}

/// A run that [`JobBackend::start`] took: the task stays Running, holding no runtime
/// worker, until [`finish`](Self::finish) is called, from any thread; dropped unfinished,
/// the task ends in Error. Until then it shows progress and attempts on the task's
/// handles and tells of cancel requests.
///
/// # Example
/// See [`JobBackend::start`]; a `StartedRun` is made only by the runtime.
/// ```
/// fn _is_send(run: streamtree::jobs::StartedRun) -> impl Send { run }
/// ```
pub struct StartedRun {
    deferred: Deferred,
    job: &'static str,
    /// The output's decoder: serde_json into the job's `Output` type.
    decode: fn(&[u8]) -> Result<TaskValue, String>,
    /// The backend owns retries: only then does `set_attempt` show its count.
    owns_retries: bool,
}

impl fmt::Debug for StartedRun {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StartedRun")
            .field("job", &self.job)
            .field("task", &self.deferred)
            .finish()
    }
}

impl StartedRun {
    pub(crate) fn new(
        deferred: Deferred,
        job: &'static str,
        decode: fn(&[u8]) -> Result<TaskValue, String>,
        owns_retries: bool,
    ) -> StartedRun {
        StartedRun {
            deferred,
            job,
            decode,
            owns_retries,
        }
    }

    /// The task's context, as its closure would have it: what the methods above act on.
    fn ctx(&self) -> TaskContext<'_> {
        TaskContext::new(self.deferred.slot())
    }

    /// Hands the attempt back to the runtime's worker (a declined `start`).
    pub(crate) fn decline(self) {
        self.deferred.decline();
    }

    /// The job's name, [`Job::NAME`](super::Job::NAME).
    ///
    /// # Example
    /// ```
    /// fn name(run: &streamtree::jobs::StartedRun) -> &str { run.job() }
    /// ```
    pub fn job(&self) -> &'static str {
        self.job
    }

    /// Shows `value` as the task's progress, as [`TaskContext::set_progress`] does.
    ///
    /// # Example
    /// ```
    /// fn step(run: &streamtree::jobs::StartedRun) { run.set_progress((0.5, "halfway")) }
    /// ```
    pub fn set_progress(&self, value: impl Into<Progress>) {
        self.ctx().set_progress(value);
    }

    /// Shows `attempt` as the task's attempt, when the backend
    /// [owns retries](JobBackend::owns_retries) and counts them itself (a redelivery to
    /// another worker). Ignored otherwise: the runtime counts its own retries.
    ///
    /// # Example
    /// ```
    /// fn redelivered(run: &streamtree::jobs::StartedRun) { run.set_attempt(2) }
    /// ```
    pub fn set_attempt(&self, attempt: u32) {
        if self.owns_retries {
            self.ctx().set_attempt(attempt);
        }
    }

    /// Whether a cancel (or this attempt's timeout) was requested.
    ///
    /// # Example
    /// ```
    /// fn stop(run: &streamtree::jobs::StartedRun) -> bool { run.is_cancel_requested() }
    /// ```
    pub fn is_cancel_requested(&self) -> bool {
        self.ctx().is_cancel_requested()
    }

    /// Calls `f` once when a cancel (or this attempt's timeout) is requested, on the
    /// requesting thread, at once if one already was: a backend learns of it with no
    /// polling. A later call replaces an earlier `f`; `f` is dropped uncalled when the
    /// run ends without a request.
    ///
    /// # Example
    /// ```
    /// fn watch(run: &streamtree::jobs::StartedRun, tx: std::sync::mpsc::Sender<()>) {
    ///     run.on_cancel(move || { let _ = tx.send(()); });
    /// }
    /// ```
    pub fn on_cancel(&self, f: impl FnOnce() + Send + 'static) {
        self.ctx().on_cancel(f);
    }

    /// Ends the run Cancelled whether or not this task asked for it: the run was
    /// cancelled elsewhere (another replica's handle of a shared job), and every task
    /// following it shows Cancelled, as the handles of one shared task in a process do.
    /// `message` is the attempt's error text.
    ///
    /// # Example
    /// ```
    /// fn elsewhere(run: streamtree::jobs::StartedRun) { run.finish_cancelled("cancelled") }
    /// ```
    pub fn finish_cancelled(self, message: impl Into<String>) {
        let slot = self.deferred.slot();
        // Asked and honoured here, as the task's own cancel would be: its handles show
        // Cancelled, not an error.
        let change = slot.cancel();
        slot.publish(change);
        slot.honour_cancel();
        self.deferred.finish(Err(message.into()));
    }

    /// Ends the run: `Ok(output)` serialized with serde_json (decoded here into the job's
    /// output type; one that does not decode ends the task in Error naming the type), or
    /// `Err(message)`, which ends it Cancelled when a cancel was requested, else in Error.
    /// Runs the task's end on this thread: values the task lets go of are dropped here.
    ///
    /// # Example
    /// ```
    /// fn answer(run: streamtree::jobs::StartedRun) { run.finish(Ok(b"42".to_vec())) }
    /// ```
    pub fn finish(self, result: Result<Vec<u8>, String>) {
        let outcome = match result {
            Ok(output) => (self.decode)(&output),
            Err(message) => {
                // As a closure's `Err` does: a requested cancel is honoured by it.
                self.deferred.slot().honour_cancel();
                Err(message)
            }
        };
        self.deferred.finish(outcome);
    }
}

/// The default backend: jobs run on the runtime's own worker pool, from its [`Jobs`]
/// registry; with [`persist`](crate::RuntimeBuilder::persist), finished results are
/// kept in a file and runs interrupted by a crash are started again.
///
/// # Example
/// ```
/// use streamtree::jobs::{InProcess, Jobs};
/// let backend = InProcess::new(Jobs::new());
/// assert_eq!(backend.jobs().names().count(), 0);
/// ```
#[derive(Debug)]
pub struct InProcess {
    jobs: Jobs,
    #[cfg(feature = "persist")]
    store: Option<super::store::Store>,
}

impl InProcess {
    /// Runs `jobs` in process, keeping nothing.
    ///
    /// # Example
    /// ```
    /// let _ = streamtree::jobs::InProcess::new(streamtree::jobs::Jobs::new());
    /// ```
    pub fn new(jobs: Jobs) -> InProcess {
        InProcess {
            jobs,
            #[cfg(feature = "persist")]
            store: None,
        }
    }

    /// Runs `jobs` in process, keeping finished results in the store at `path` (created
    /// if absent; an unreadable one is set aside, see [`RuntimeBuilder::persist`](crate::RuntimeBuilder::persist)).
    ///
    /// # Example
    /// ```
    /// use streamtree::jobs::{InProcess, Jobs};
    /// let path = std::env::temp_dir().join(format!("streamtree-doc-{}.redb", std::process::id()));
    /// let backend = InProcess::persisted(Jobs::new(), &path);
    /// drop(backend);
    /// std::fs::remove_file(&path).unwrap();
    /// ```
    #[cfg(feature = "persist")]
    #[cfg_attr(docsrs, doc(cfg(feature = "persist")))]
    pub fn persisted(jobs: Jobs, path: &std::path::Path) -> InProcess {
        InProcess {
            jobs,
            store: super::store::Store::open(path),
        }
    }

    /// The registry it runs jobs from.
    ///
    /// # Example
    /// ```
    /// use streamtree::jobs::{InProcess, Jobs};
    /// assert!(!InProcess::new(Jobs::new()).jobs().contains("x"));
    /// ```
    pub fn jobs(&self) -> &Jobs {
        &self.jobs
    }
}

impl JobBackend for InProcess {
    fn finished(&self, _run: &JobRun<'_>) -> Option<Vec<u8>> {
        #[cfg(feature = "persist")]
        if let Some(store) = &self.store {
            return store.finished(&_run.id());
        }
        None
    }

    fn execute(&self, ctx: &TaskContext, run: &JobRun<'_>) -> Result<Vec<u8>, String> {
        if !self.jobs.contains(run.name) {
            return Err(unregistered(run.name, &self.jobs));
        }
        #[cfg(feature = "persist")]
        if let Some(store) = &self.store {
            return store.run(&run.id(), || self.jobs.run(run.name, ctx, run.input));
        }
        self.jobs.run(run.name, ctx, run.input)
    }

    fn interrupted(&self) -> Vec<(String, Vec<u8>)> {
        #[cfg(feature = "persist")]
        if let Some(store) = &self.store {
            return store.running();
        }
        Vec::new()
    }
}
