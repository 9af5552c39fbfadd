//! Jobs: named, typed task functions that a backend can run anywhere, in this process or
//! (later) on worker machines.
//!
//! A [`Job`] is a type naming a function (`&TaskContext`, input) → `Result<Output,
//! Error>` whose input and output are serde types. Closures cannot cross processes, so
//! jobs are registered by name in a [`Jobs`] registry that the runtime's backend holds,
//! and a component refers to a job by its type: `job::<Report>(&input)` checks the input
//! and output types at compile time. Submitting gives the same [`TaskHandle`] as
//! [`task`](crate::asyncio::task), with every life-cycle option; the identity is (job
//! name, input).
//!
//! The runtime talks to the backend through [`JobBackend`] only
//! (`streamtree/src/jobs/backend.rs`); the default, [`InProcess`], runs jobs on the
//! runtime's worker pool and, with the `persist` feature, keeps finished results
//! across restarts ([`RuntimeBuilder::persist`](crate::RuntimeBuilder::persist)).
//! Inputs and outputs cross the seam serialized with serde_json: a store and a wire
//! format any backend can read, and a self-describing one, so an output stored by an
//! older version of a job fails to decode with a message naming the field instead of
//! decoding into wrong values (as a compact positional format such as postcard may).
//!
//! # Example
//! A job submitted from a component:
//! ```
//! use std::time::Duration;
//! use serde::{Deserialize, Serialize};
//! use streamtree::jobs::{Job, Jobs, job};
//! use streamtree::prelude::*;
//!
//! #[derive(Serialize, Deserialize, Hash, Clone)]
//! struct Region { name: String }
//!
//! struct Report;
//! impl Job for Report {
//!     const NAME: &'static str = "report";
//!     type Input = Region;
//!     type Output = String;
//!     type Error = String;
//!     fn run(ctx: &TaskContext, region: &Region) -> Result<String, String> {
//!         for step in 1..=10 {
//!             ctx.check_cancelled().map_err(|e| e.to_string())?;
//!             ctx.set_progress(step as f32 / 10.0);
//!         }
//!         Ok(format!("report for {}", region.name))
//!     }
//! }
//!
//! #[component]
//! fn ReportPage(region: String) -> Element {
//!     let report = job::<Report>(&Region { name: region })
//!         .retry(Retry::times(2))
//!         .keep_previous()
//!         .submit();
//!     match_task(&report)
//!         .loading(Text("working"))
//!         .ready(|text| Text(format!("Report ready: {text}")))
//!         .error(|e| Text(format!("failed: {e}")))
//!         .into()
//! }
//!
//! let rt = streamtree::Runtime::builder().jobs(Jobs::new().register::<Report>()).build();
//! let session = Session::builder().runtime(rt).build();
//! let mut app = AppTest::with_session(session, || ReportPage("north".to_string()));
//! app.run();
//! assert!(app.wait_idle(Duration::from_secs(10)));
//! assert_eq!(app.run().text(), "Report ready: report for north\n");
//! ```

mod backend;
#[cfg(feature = "nats")]
#[cfg_attr(docsrs, doc(cfg(feature = "nats")))]
pub mod nats;
mod registry;
#[cfg(feature = "persist")]
mod store;

use std::fmt;
use std::hash::Hash;
use std::marker::PhantomData;
use std::sync::{Arc, Weak};
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

pub use self::backend::{InProcess, JobBackend, JobRun, StartedRun};
pub use self::registry::Jobs;
use crate::runtime::life::Work;
use crate::runtime::{
    Deferred, Ran, Retry, Runtime, Slot, TaskBuilder, TaskContext, TaskHandle, TaskSet, TaskValue,
};

/// A named, typed job: what [`job`] submits and a [`Jobs`] registry runs.
///
/// # Example
/// ```
/// use streamtree::jobs::Job;
/// use streamtree::prelude::TaskContext;
/// struct WordCount;
/// impl Job for WordCount {
///     const NAME: &'static str = "word-count";
///     type Input = String;
///     type Output = usize;
///     type Error = std::convert::Infallible;
///     fn run(_: &TaskContext, text: &String) -> Result<usize, Self::Error> {
///         Ok(text.split_whitespace().count())
///     }
/// }
/// assert_eq!(WordCount::NAME, "word-count");
/// ```
pub trait Job: 'static {
    /// The name it is registered and stored under: the same in every process, unique
    /// among the jobs of an app, without NUL characters.
    const NAME: &'static str;
    /// Its input: part of the run's identity (equal inputs are the same run).
    type Input: Serialize + DeserializeOwned + Hash + Send + Sync + 'static;
    /// Its output, what the task's handle shows.
    type Output: Serialize + DeserializeOwned + Clone + Send + Sync + 'static;
    /// Its error, shown as text (`TaskHandle::error`).
    type Error: fmt::Display;
    /// Runs the job once (an attempt): report progress and check for cancel on `ctx`.
    fn run(ctx: &TaskContext, input: &Self::Input) -> Result<Self::Output, Self::Error>;
}

/// Declares a [`Job`]: a unit struct and its `Job` impl, from a closure-like body.
///
/// `job! { [attributes] [vis] Name("job-name") = |ctx, input: &Input| -> Result<Output, Error> { body } }`
/// is `struct Name;` with `NAME = "job-name"` and `run(ctx, input)` = `body`.
///
/// # Example
/// ```
/// use std::time::Duration;
/// use streamtree::jobs::{Jobs, job};
/// use streamtree::prelude::*;
///
/// streamtree::job! {
///     /// Counts the words of a text.
///     pub WordCount("word-count") = |ctx, text: &String| -> Result<usize, String> {
///         ctx.set_progress(1.0);
///         Ok(text.split_whitespace().count())
///     }
/// }
///
/// let rt = streamtree::Runtime::builder().jobs(Jobs::new().register::<WordCount>()).build();
/// let s = Session::builder().runtime(rt).build();
/// let h = s.enter(|| job::<WordCount>(&"one two three".to_owned()).submit());
/// assert!(s.wait_idle(Duration::from_secs(10)));
/// assert_eq!(h.result(), Some(3));
/// ```
#[macro_export]
macro_rules! job {
    (
        $(#[$meta:meta])*
        $vis:vis $name:ident($job:literal) =
            |$ctx:tt, $input:ident: &$in:ty| -> Result<$out:ty, $err:ty> $body:block
    ) => {
        $(#[$meta])*
        $vis struct $name;

        impl $crate::jobs::Job for $name {
            const NAME: &'static str = $job;
            type Input = $in;
            type Output = $out;
            type Error = $err;
            fn run(
                $ctx: &$crate::asyncio::TaskContext,
                $input: &$in,
            ) -> ::core::result::Result<$out, $err> $body
        }
    };
}

/// Describes a run of job `J` on `input` in the current session; configure it like
/// [`task`](crate::asyncio::task) and end with [`submit`](JobBuilder::submit).
///
/// # Example
/// ```
/// use std::time::Duration;
/// use streamtree::jobs::{Job, Jobs, job};
/// use streamtree::prelude::*;
/// struct Square;
/// impl Job for Square {
///     const NAME: &'static str = "square";
///     type Input = i64;
///     type Output = i64;
///     type Error = String;
///     fn run(_: &TaskContext, n: &i64) -> Result<i64, String> { Ok(n * n) }
/// }
/// let rt = streamtree::Runtime::builder().jobs(Jobs::new().register::<Square>()).build();
/// let s = Session::builder().runtime(rt).build();
/// let h = s.enter(|| job::<Square>(&12).submit());
/// assert!(s.wait_idle(Duration::from_secs(10)));
/// assert_eq!(h.result(), Some(144));
/// ```
pub fn job<J: Job>(input: &J::Input) -> JobBuilder<'_, J> {
    JobBuilder {
        task: TaskBuilder::new(J::NAME).input(input),
        input,
        job: PhantomData,
    }
}

/// A job run being described: [`job`]'s builder. Every option is
/// [`TaskBuilder`]'s, with the same meaning.
///
/// # Example
/// ```
/// # use streamtree::jobs::{Job, job};
/// # use streamtree::prelude::*;
/// # struct Square;
/// # impl Job for Square {
/// #     const NAME: &'static str = "square";
/// #     type Input = i64;
/// #     type Output = i64;
/// #     type Error = String;
/// #     fn run(_: &TaskContext, n: &i64) -> Result<i64, String> { Ok(n * n) }
/// # }
/// let s = Session::new();
/// // No registry on this runtime: the task ends in Error naming the job.
/// let h = s.enter(|| job::<Square>(&3).shared().submit());
/// s.wait_idle(std::time::Duration::from_secs(10));
/// assert!(h.error().unwrap().starts_with("job `square` is not registered"));
/// ```
#[must_use = "a job starts only when `submit` is called"]
pub struct JobBuilder<'i, J: Job> {
    task: TaskBuilder<'static>,
    input: &'i J::Input,
    job: PhantomData<fn() -> J>,
}

impl<J: Job> fmt::Debug for JobBuilder<'_, J> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JobBuilder")
            .field("job", &J::NAME)
            .field("task", &self.task)
            .finish()
    }
}

impl<J: Job> JobBuilder<'_, J> {
    /// As [`TaskBuilder::retry`].
    ///
    /// # Example
    /// ```
    /// # use streamtree::jobs::{Job, job};
    /// # use streamtree::prelude::*;
    /// # struct J; impl Job for J { const NAME: &'static str = "j"; type Input = u8; type Output = u8; type Error = String;
    /// #     fn run(_: &TaskContext, n: &u8) -> Result<u8, String> { Ok(*n) } }
    /// let _ = job::<J>(&1).retry(Retry::times(3));
    /// ```
    pub fn retry(mut self, retry: Retry) -> Self {
        self.task = self.task.retry(retry);
        self
    }

    /// As [`TaskBuilder::timeout`].
    ///
    /// # Example
    /// ```
    /// # use streamtree::jobs::{Job, job};
    /// # use streamtree::prelude::*;
    /// # struct J; impl Job for J { const NAME: &'static str = "j"; type Input = u8; type Output = u8; type Error = String;
    /// #     fn run(_: &TaskContext, n: &u8) -> Result<u8, String> { Ok(*n) } }
    /// let _ = job::<J>(&1).timeout(std::time::Duration::from_secs(30));
    /// ```
    pub fn timeout(mut self, limit: Duration) -> Self {
        self.task = self.task.timeout(limit);
        self
    }

    /// As [`TaskBuilder::stale_after`].
    ///
    /// # Example
    /// ```
    /// # use streamtree::jobs::{Job, job};
    /// # use streamtree::prelude::*;
    /// # struct J; impl Job for J { const NAME: &'static str = "j"; type Input = u8; type Output = u8; type Error = String;
    /// #     fn run(_: &TaskContext, n: &u8) -> Result<u8, String> { Ok(*n) } }
    /// let _ = job::<J>(&1).stale_after(std::time::Duration::from_secs(3600));
    /// ```
    pub fn stale_after(mut self, age: Duration) -> Self {
        self.task = self.task.stale_after(age);
        self
    }

    /// As [`TaskBuilder::keep_previous`].
    ///
    /// # Example
    /// ```
    /// # use streamtree::jobs::{Job, job};
    /// # use streamtree::prelude::*;
    /// # struct J; impl Job for J { const NAME: &'static str = "j"; type Input = u8; type Output = u8; type Error = String;
    /// #     fn run(_: &TaskContext, n: &u8) -> Result<u8, String> { Ok(*n) } }
    /// let _ = job::<J>(&1).keep_previous();
    /// ```
    pub fn keep_previous(mut self) -> Self {
        self.task = self.task.keep_previous();
        self
    }

    /// As [`TaskBuilder::shared`].
    ///
    /// # Example
    /// ```
    /// # use streamtree::jobs::{Job, job};
    /// # use streamtree::prelude::*;
    /// # struct J; impl Job for J { const NAME: &'static str = "j"; type Input = u8; type Output = u8; type Error = String;
    /// #     fn run(_: &TaskContext, n: &u8) -> Result<u8, String> { Ok(*n) } }
    /// let _ = job::<J>(&1).shared();
    /// ```
    pub fn shared(mut self) -> Self {
        self.task = self.task.shared();
        self
    }

    /// As [`TaskBuilder::gc_after`].
    ///
    /// # Example
    /// ```
    /// # use streamtree::jobs::{Job, job};
    /// # use streamtree::prelude::*;
    /// # struct J; impl Job for J { const NAME: &'static str = "j"; type Input = u8; type Output = u8; type Error = String;
    /// #     fn run(_: &TaskContext, n: &u8) -> Result<u8, String> { Ok(*n) } }
    /// let _ = job::<J>(&1).gc_after(std::time::Duration::from_secs(60));
    /// ```
    pub fn gc_after(mut self, idle: Duration) -> Self {
        self.task = self.task.gc_after(idle);
        self
    }

    /// Returns the task of this (job, input) in the current session (or the runtime's,
    /// when shared), starting a run on the runtime's [`JobBackend`] if there is none
    /// (or it is due: refreshed, stale). Its first attempt takes a result the backend
    /// kept (a persisted one) instead of running the job; a refresh or a stale rerun
    /// always runs it. An output that does not decode as `J::Output` (a result stored
    /// by another version of the job) ends the task in Error naming the job and serde's
    /// message; a refresh recomputes it.
    ///
    /// # Panics
    /// As [`TaskBuilder::run`]: no current session.
    ///
    /// # Example
    /// ```
    /// # use streamtree::jobs::{Job, Jobs, job};
    /// # use streamtree::prelude::*;
    /// # struct J; impl Job for J { const NAME: &'static str = "j"; type Input = u8; type Output = u8; type Error = String;
    /// #     fn run(_: &TaskContext, n: &u8) -> Result<u8, String> { Ok(n + 1) } }
    /// let rt = streamtree::Runtime::builder().jobs(Jobs::new().register::<J>()).build();
    /// let s = Session::builder().runtime(rt).build();
    /// let h = s.enter(|| job::<J>(&1).submit());
    /// s.wait_idle(std::time::Duration::from_secs(10));
    /// assert_eq!(h.result(), Some(2));
    /// ```
    #[track_caller]
    pub fn submit(self) -> TaskHandle<J::Output> {
        let Some(set) = crate::runtime::current_set() else {
            crate::asyncio::no_session()
        };
        start::<J>(&set, self.input, self.task)
    }
}

/// Starts (or finds) the task of `J` on `input` in `set`.
#[track_caller]
fn start<J: Job>(
    set: &Arc<TaskSet>,
    input: &J::Input,
    task: TaskBuilder<'static>,
) -> TaskHandle<J::Output> {
    let backend = set.runtime().map(|rt| rt.job_backend());
    let owns_retries = backend.as_ref().is_some_and(|b| b.owns_retries());
    // Held weakly: the runtime alone owns its backend, so that dropping the runtime
    // closes a persisted store at once, whatever the workers still hold.
    let backend = backend.as_ref().map(Arc::downgrade);
    // Serialized once, here: every attempt and every backend sees the same bytes.
    let input = serde_json::to_vec(input)
        .map_err(|e| format!("job `{}`: its input does not encode: {e}", J::NAME));
    let (key, fingerprint, mut opts) = task.into_parts();
    // A backend that owns retries gets the policy; the runtime then never retries.
    let retry = if owns_retries {
        opts.retry.take()
    } else {
        None
    };
    let work = Work::deferring(move |slot: &Slot| {
        attempt::<J>(slot, backend.as_ref(), &input, retry, owns_retries)
    });
    set.run_work::<J::Output>(key, fingerprint, opts, work)
}

/// Starts again a run of `J` on `input` that the process died in, as the shared task a
/// `job::<J>(input).shared().submit()` finds.
pub(crate) fn resume<J: Job>(rt: &Runtime, input: &J::Input) {
    let set = rt.shared_set();
    drop(start::<J>(
        &set,
        input,
        TaskBuilder::new(J::NAME).input(input).shared(),
    ));
}

/// Starts again the runs `rt`'s backend reports interrupted, from `jobs` (warning
/// about those it cannot: unregistered, or an input that no longer decodes).
pub(crate) fn resume_interrupted(rt: &Runtime, jobs: &Jobs) {
    for (name, input) in rt.job_backend().interrupted() {
        if let Err(e) = jobs.resume(rt, &name, &input) {
            warn(&format!(
                "an interrupted run of job `{name}` cannot start again: {e}"
            ));
        }
    }
}

/// A warning: through `tracing` when the server is built in, else one line on stderr.
pub(crate) fn warn(message: &str) {
    #[cfg(feature = "serve")]
    tracing::warn!("{message}");
    #[cfg(not(feature = "serve"))]
    eprintln!("streamtree: warning: {message}");
}

/// One attempt of a job's task: a kept result on a first run, else the backend runs it,
/// ending the attempt later when it [starts](JobBackend::start) the run.
fn attempt<J: Job>(
    slot: &Slot,
    backend: Option<&Weak<dyn JobBackend>>,
    input: &Result<Vec<u8>, String>,
    retry: Option<Retry>,
    owns_retries: bool,
) -> Ran {
    let ended = |outcome: Result<J::Output, String>| {
        Ran::Ended(crate::asyncio::ended(slot, outcome).map(crate::runtime::value_of))
    };
    let input = match input {
        Ok(input) => input,
        Err(e) => return ended(Err(e.clone())),
    };
    let Some(backend) = backend.and_then(Weak::upgrade) else {
        return ended(Err(format!("job `{}`: the runtime is gone", J::NAME)));
    };
    let fresh = slot.is_rerun();
    let run = JobRun {
        name: J::NAME,
        input,
        fresh,
        retry,
    };
    if !fresh && let Some(output) = backend.finished(&run) {
        return ended(decode::<J>(&output));
    }
    if let Some(deferred) = Deferred::of_current(slot) {
        let started = StartedRun::new(deferred, J::NAME, decode_value::<J>, owns_retries);
        match crate::runtime::halt_unwinding(|| backend.start(&run, started)) {
            Ok(Ok(())) => return Ran::Deferred,
            Ok(Err(started)) => started.decline(),
            // The run went down with the unwinding here: this closure ends it.
            Err(panic) if Deferred::take_unwound(slot) => {
                return ended(Err(format!(
                    "job `{}`: its backend's start panicked: {panic}",
                    J::NAME
                )));
            }
            // It was handed on before the panic: its holder ends it.
            Err(_) => return Ran::Deferred,
        }
    }
    ended(
        backend
            .execute(&TaskContext::new(slot), &run)
            .and_then(|output| decode::<J>(&output)),
    )
}

/// A job's serialized output as its `Output`, or an error naming the type.
fn decode<J: Job>(output: &[u8]) -> Result<J::Output, String> {
    serde_json::from_slice(output).map_err(|e| {
        format!(
            "job `{}`: its output does not decode as `{}`: {e}",
            J::NAME,
            std::any::type_name::<J::Output>()
        )
    })
}

/// [`decode`] into a task value (what a [`StartedRun`] ends with).
fn decode_value<J: Job>(output: &[u8]) -> Result<TaskValue, String> {
    decode::<J>(output).map(crate::runtime::value_of)
}
