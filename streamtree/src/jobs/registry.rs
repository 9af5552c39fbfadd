//! [`Jobs`]: the registry of job functions by name, type-erased to bytes in, bytes out
//! (serde_json), so that any backend can run a job it only knows by name.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use super::Job;
use crate::runtime::{Runtime, TaskContext};

/// A job function with its types erased: serialized input in, serialized output out.
pub(crate) type Erased = dyn Fn(&TaskContext, &[u8]) -> Result<Vec<u8>, String> + Send + Sync;

/// The jobs a process can run, by [`Job::NAME`]. A web process and its workers register
/// the same jobs; a runtime holds one (see [`RuntimeBuilder::jobs`](crate::RuntimeBuilder::jobs)).
/// Submitting a job that is not registered ends its task in Error naming the job.
///
/// # Example
/// ```
/// use streamtree::jobs::{Job, Jobs};
/// use streamtree::prelude::TaskContext;
/// struct Double;
/// impl Job for Double {
///     const NAME: &'static str = "double";
///     type Input = u32;
///     type Output = u32;
///     type Error = String;
///     fn run(_: &TaskContext, n: &u32) -> Result<u32, String> { Ok(n * 2) }
/// }
/// let jobs = Jobs::new().register::<Double>();
/// assert!(jobs.contains("double"));
/// assert_eq!(jobs.names().collect::<Vec<_>>(), ["double"]);
/// ```
#[derive(Clone, Default)]
pub struct Jobs {
    by_name: BTreeMap<&'static str, Entry>,
}

/// One registered job: its erased function, and how to start it again typed.
#[derive(Clone)]
struct Entry {
    run: Arc<Erased>,
    /// Starts a run of this job on serialized input as a shared task of `rt` (what
    /// `JobBuilder::submit` with `.shared()` would start).
    resume: fn(&Runtime, &[u8]) -> Result<(), String>,
}

impl fmt::Debug for Jobs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.by_name.keys()).finish()
    }
}

impl Jobs {
    /// An empty registry.
    ///
    /// # Example
    /// ```
    /// assert_eq!(streamtree::jobs::Jobs::new().names().count(), 0);
    /// ```
    pub fn new() -> Jobs {
        Jobs::default()
    }

    /// Registers `J` under [`J::NAME`](Job::NAME) (a later registration of the same name
    /// replaces the earlier one).
    ///
    /// # Example
    /// ```
    /// # use streamtree::jobs::{Job, Jobs};
    /// # use streamtree::prelude::TaskContext;
    /// struct Hello;
    /// impl Job for Hello {
    ///     const NAME: &'static str = "hello";
    ///     type Input = String;
    ///     type Output = String;
    ///     type Error = std::convert::Infallible;
    ///     fn run(_: &TaskContext, who: &String) -> Result<String, Self::Error> { Ok(format!("hello {who}")) }
    /// }
    /// assert!(Jobs::new().register::<Hello>().contains("hello"));
    /// ```
    pub fn register<J: Job>(mut self) -> Jobs {
        let f = move |ctx: &TaskContext, input: &[u8]| -> Result<Vec<u8>, String> {
            let input: J::Input = serde_json::from_slice(input)
                .map_err(|e| format!("job `{}`: its input does not decode: {e}", J::NAME))?;
            let output = J::run(ctx, &input).map_err(|e| e.to_string())?;
            serde_json::to_vec(&output)
                .map_err(|e| format!("job `{}`: its output does not encode: {e}", J::NAME))
        };
        let resume = |rt: &Runtime, input: &[u8]| -> Result<(), String> {
            let input: J::Input = serde_json::from_slice(input).map_err(|e| e.to_string())?;
            super::resume::<J>(rt, &input);
            Ok(())
        };
        self.by_name.insert(
            J::NAME,
            Entry {
                run: Arc::new(f),
                resume,
            },
        );
        self
    }

    /// Whether a job named `name` is registered.
    ///
    /// # Example
    /// ```
    /// assert!(!streamtree::jobs::Jobs::new().contains("report"));
    /// ```
    pub fn contains(&self, name: &str) -> bool {
        self.by_name.contains_key(name)
    }

    /// The registered names, sorted.
    ///
    /// # Example
    /// ```
    /// assert!(streamtree::jobs::Jobs::new().names().next().is_none());
    /// ```
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.by_name.keys().copied()
    }

    /// Runs the job `name` on serialized `input` on this thread: its serialized output,
    /// or the error's text (an unregistered name, an input that does not decode, the
    /// job's own error).
    ///
    /// # Example
    /// ```
    /// use std::time::Duration;
    /// use streamtree::jobs::Jobs;
    /// use streamtree::prelude::*;
    /// let s = Session::new();
    /// let jobs = Jobs::new();
    /// let h = s.enter(|| submit_with("raw", move |ctx: &TaskContext| jobs.run("nope", ctx, b"1")));
    /// s.wait_idle(Duration::from_secs(10));
    /// assert!(h.result().unwrap().unwrap_err().contains("`nope` is not registered"));
    /// ```
    pub fn run(&self, name: &str, ctx: &TaskContext, input: &[u8]) -> Result<Vec<u8>, String> {
        match self.by_name.get(name) {
            Some(entry) => (entry.run)(ctx, input),
            None => Err(unregistered(name, self)),
        }
    }
}

impl Jobs {
    /// Starts again, as a shared task of `rt`, a run of job `name` on `input` that was
    /// interrupted; `Err` names why not (unregistered, an input that no longer decodes).
    pub(crate) fn resume(&self, rt: &Runtime, name: &str, input: &[u8]) -> Result<(), String> {
        match self.by_name.get(name) {
            Some(entry) => (entry.resume)(rt, input),
            None => Err(unregistered(name, self)),
        }
    }
}

/// The error of a job submitted to a runtime that does not know it.
pub(crate) fn unregistered(name: &str, jobs: &Jobs) -> String {
    let known: Vec<_> = jobs.names().collect();
    format!(
        "job `{name}` is not registered with this runtime: add `.register::<..>()` for it to \
         the `Jobs` given to `Runtime::builder().jobs(..)` (registered: {})",
        if known.is_empty() {
            "none".to_owned()
        } else {
            known.join(", ")
        }
    )
}
