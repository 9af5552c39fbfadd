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

use std::fmt;

use super::registry::{Jobs, unregistered};
use crate::runtime::TaskContext;

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
