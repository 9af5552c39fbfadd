//! Loading UI: map background-task status to loading / ready / error / cancelled subtrees.
//!
//! [`match_task`] reads one [`TaskHandle`]; [`match_task_many`] reads several (a slice, or
//! a tuple of handle references with different result types). Each builder converts into
//! an [`Element`] when the chain ends with `.into()`, reading the tasks at that moment:
//! a rerun always shows the state the tasks were in when it ran.
//!
//! | status | branch |
//! | --- | --- |
//! | `Pending`, `Running`, `Missing` | loading (with the latest progress) |
//! | `Done` | ready(result) |
//! | `Error` | error(message) |
//! | `Cancelled` | cancelled if given, else error("cancelled") |
//!
//! For many tasks: any Error → error (the first in order); else any Cancelled →
//! cancelled; else any not finished → loading; else ready. An empty slice is ready.

use crate::asyncio::{Progress, TaskHandle, TaskStatus, submit_many};
use crate::element::Element;
use crate::elements::{ErrorBox, ProgressBar, Text};

/// The built-in loading branch: a progress bar when the task reported progress, else
/// "Loading…".
fn default_loading(progress: Option<Progress>) -> Element {
    match progress {
        Some(p) => {
            let bar = ProgressBar(p.fraction().unwrap_or(f64::NAN));
            bar.message(p.message().unwrap_or("Loading…"))
        }
        None => Text("Loading…"),
    }
}

enum Loading<'a> {
    Default,
    Element(Element),
    With(Box<dyn FnOnce(Option<Progress>) -> Element + 'a>),
}

/// The branches shared by both builders; `O` is what the ready branch receives.
struct Branches<'a, O> {
    loading: Loading<'a>,
    ready: Option<Box<dyn FnOnce(O) -> Element + 'a>>,
    error: Option<Box<dyn FnOnce(String) -> Element + 'a>>,
    cancelled: Option<Element>,
}

impl<O> Default for Branches<'_, O> {
    fn default() -> Self {
        Branches {
            loading: Loading::Default,
            ready: None,
            error: None,
            cancelled: None,
        }
    }
}

/// What a group of tasks amounts to, by the precedence in the module docs.
enum Outcome<O> {
    Loading(Option<Progress>),
    Ready(O),
    Error(String),
    Cancelled,
}

impl<O> Branches<'_, O> {
    fn pick(self, outcome: Outcome<O>) -> Element {
        let error = |this: Self, message: String| match this.error {
            Some(f) => f(message),
            None => ErrorBox(message),
        };
        match outcome {
            Outcome::Loading(progress) => match self.loading {
                Loading::Default => default_loading(progress),
                Loading::Element(el) => el,
                Loading::With(f) => f(progress),
            },
            Outcome::Ready(value) => match self.ready {
                Some(f) => f(value),
                None => Element::empty(),
            },
            Outcome::Error(message) => error(self, message),
            Outcome::Cancelled => match self.cancelled {
                Some(el) => el,
                None => error(self, "cancelled".to_owned()),
            },
        }
    }
}

/// One task's state, read once: status, and the result or error that goes with it.
fn read<T: Clone + Send + 'static>(handle: &TaskHandle<T>) -> Outcome<T> {
    match handle.status() {
        TaskStatus::Done => match handle.result() {
            Some(value) => Outcome::Ready(value),
            // Dismissed between the two reads: the task is gone.
            None => Outcome::Loading(None),
        },
        TaskStatus::Error => Outcome::Error(handle.error().unwrap_or_default()),
        TaskStatus::Cancelled => Outcome::Cancelled,
        TaskStatus::Pending | TaskStatus::Running | TaskStatus::Missing => {
            Outcome::Loading(handle.progress())
        }
    }
}

macro_rules! builder_methods {
    ($ready_doc:literal, $out:ty) => {
        /// The element shown while the work is not finished.
        ///
        /// # Example
        /// ```
        /// use streamtree::prelude::*;
        /// let session = Session::builder().max_workers(1).build();
        /// let (tx, rx) = std::sync::mpsc::channel::<()>();
        /// let h = session.enter(|| submit("slow", move || rx.recv().ok()));
        /// assert_eq!(render_text(&match_task(&h).loading("Please wait").into()), "Please wait\n");
        /// tx.send(()).unwrap();
        /// ```
        pub fn loading(mut self, element: impl Into<Element>) -> Self {
            self.branches.loading = Loading::Element(element.into());
            self
        }

        /// Builds the loading element from the latest progress (`None` before any).
        ///
        /// # Example
        /// ```
        /// use streamtree::prelude::*;
        /// let session = Session::builder().max_workers(1).build();
        /// let (tx, rx) = std::sync::mpsc::channel::<()>();
        /// let h = session.enter(|| submit("slow", move || rx.recv().ok()));
        /// session.enter(|| set_task_progress("slow", 0.5));
        /// let el = match_task(&h).loading_with(|p| Text(format!("at {}", p.unwrap()))).into();
        /// assert_eq!(render_text(&el), "at 50%\n");
        /// tx.send(()).unwrap();
        /// ```
        pub fn loading_with<E: Into<Element>>(
            mut self,
            f: impl FnOnce(Option<Progress>) -> E + 'a,
        ) -> Self {
            self.branches.loading = Loading::With(Box::new(move |p| f(p).into()));
            self
        }

        #[doc = $ready_doc]
        ///
        /// # Example
        /// ```
        /// use streamtree::prelude::*;
        /// let session = Session::new();
        /// let (ok, bad) = session.enter(|| (submit("ok", || 2), submit_fallible::<i32, _>("bad", || Err("no"))));
        /// assert!(session.wait_idle(std::time::Duration::from_secs(10)));
        /// let el = match_task(&ok).ready(|n| Text(format!("got {n}"))).into();
        /// assert_eq!(render_text(&el), "got 2\n");
        /// # drop(bad);
        /// ```
        pub fn ready<E: Into<Element>>(mut self, f: impl FnOnce($out) -> E + 'a) -> Self {
            self.branches.ready = Some(Box::new(move |v| f(v).into()));
            self
        }

        /// Builds the element shown when the work failed, from the error message.
        ///
        /// # Example
        /// ```
        /// use streamtree::prelude::*;
        /// let session = Session::new();
        /// let (ok, bad) = session.enter(|| (submit("ok", || 2), submit_fallible::<i32, _>("bad", || Err("no"))));
        /// assert!(session.wait_idle(std::time::Duration::from_secs(10)));
        /// let el = match_task(&bad).error(|e| Text(format!("failed: {e}"))).into();
        /// assert_eq!(render_text(&el), "failed: no\n");
        /// # drop(ok);
        /// ```
        pub fn error<E: Into<Element>>(mut self, f: impl FnOnce(String) -> E + 'a) -> Self {
            self.branches.error = Some(Box::new(move |m| f(m).into()));
            self
        }

        /// The element shown when the work was cancelled (else the error branch gets
        /// `"cancelled"`).
        ///
        /// # Example
        /// ```
        /// use streamtree::prelude::*;
        /// let session = Session::builder().max_workers(1).build();
        /// let (tx, rx) = std::sync::mpsc::channel::<()>();
        /// let (busy, queued) = session.enter(|| (submit("busy", move || rx.recv().ok()), submit("queued", || 1)));
        /// queued.cancel(); // still pending behind "busy": cancelled at once
        /// assert_eq!(render_text(&match_task(&queued).cancelled("Stopped.").into()), "Stopped.\n");
        /// tx.send(()).unwrap();
        /// # drop(busy);
        /// ```
        pub fn cancelled(mut self, element: impl Into<Element>) -> Self {
            self.branches.cancelled = Some(element.into());
            self
        }
    };
}

/// Builder returned by [`match_task`]; ends with `.into()` (an [`Element`]).
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// use std::time::Duration;
/// let session = Session::new();
/// let h = session.enter(|| submit("answer", || 42));
/// assert!(session.wait_idle(Duration::from_secs(10)));
/// let el: Element = match_task(&h).ready(|n| Text(format!("Ready: {n}"))).into();
/// assert_eq!(render_text(&el), "Ready: 42\n");
/// ```
#[must_use = "a MatchTask does nothing until converted with `.into()`"]
pub struct MatchTask<'a, T> {
    handle: &'a TaskHandle<T>,
    branches: Branches<'a, T>,
}

impl<'a, T: Clone + Send + 'static> MatchTask<'a, T> {
    builder_methods!(
        "Builds the element shown when the work is done, from its result.",
        T
    );
}

impl<T: Clone + Send + 'static> From<MatchTask<'_, T>> for Element {
    fn from(m: MatchTask<'_, T>) -> Element {
        m.branches.pick(read(m.handle))
    }
}

/// Starts a loading / ready / error / cancelled switch over one task.
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// let session = Session::builder().max_workers(1).build();
/// let (gate, open) = std::sync::mpsc::channel::<()>();
/// let h = session.enter(|| submit("slow", move || { open.recv().ok(); 1 }));
/// let el: Element = match_task(&h).loading(Text("wait")).ready(|n| Text(n.to_string())).into();
/// assert_eq!(render_text(&el), "wait\n");
/// gate.send(()).unwrap();
/// ```
pub fn match_task<T: Clone + Send + 'static>(handle: &TaskHandle<T>) -> MatchTask<'_, T> {
    MatchTask {
        handle,
        branches: Branches::default(),
    }
}

/// Several tasks read together by [`match_task_many`]: slices and vectors of handles
/// with one result type, and tuples of handle references (up to 6) with different ones.
///
/// # Example
/// ```
/// use streamtree::loading::TaskGroup;
/// use streamtree::asyncio::TaskHandle;
/// fn takes_group<G: TaskGroup<Output = (i32, String)>>(_: G) {}
/// fn demo(a: &TaskHandle<i32>, b: &TaskHandle<String>) {
///     takes_group((a, b));
/// }
/// ```
pub trait TaskGroup {
    /// What the ready branch receives: `Vec<T>` or a tuple of results.
    type Output;

    #[doc(hidden)]
    fn outcome(&self) -> (GroupOutcome, Option<Self::Output>);
}

/// How a group reads, without the values (which `TaskGroup::outcome` returns apart).
#[doc(hidden)]
pub enum GroupOutcome {
    Loading(Option<Progress>),
    Ready,
    Error(String),
    Cancelled,
}

/// Folds member states by the precedence rule, and sums progress: a finished member
/// counts 1, a running one its fraction.
#[derive(Default)]
struct Fold {
    error: Option<String>,
    cancelled: bool,
    unfinished: usize,
    total: usize,
    done_fraction: f64,
}

impl Fold {
    fn add<T>(&mut self, outcome: &Outcome<T>) {
        self.total += 1;
        match outcome {
            Outcome::Error(m) => {
                self.error.get_or_insert_with(|| m.clone());
            }
            Outcome::Cancelled => self.cancelled = true,
            Outcome::Loading(p) => {
                self.unfinished += 1;
                self.done_fraction += p.as_ref().and_then(Progress::fraction).unwrap_or(0.0);
            }
            Outcome::Ready(_) => self.done_fraction += 1.0,
        }
    }

    fn finish(self) -> GroupOutcome {
        if let Some(m) = self.error {
            GroupOutcome::Error(m)
        } else if self.cancelled {
            GroupOutcome::Cancelled
        } else if self.unfinished > 0 {
            let done = self.total - self.unfinished;
            GroupOutcome::Loading(Some(Progress::new(
                Some(self.done_fraction / self.total as f64),
                Some(format!("{done} of {} done", self.total)),
            )))
        } else {
            GroupOutcome::Ready
        }
    }
}

impl<T: Clone + Send + 'static> TaskGroup for &[TaskHandle<T>] {
    type Output = Vec<T>;

    fn outcome(&self) -> (GroupOutcome, Option<Vec<T>>) {
        let mut fold = Fold::default();
        let mut values = Vec::with_capacity(self.len());
        for h in self.iter() {
            let o = read(h);
            fold.add(&o);
            if let Outcome::Ready(v) = o {
                values.push(v);
            }
        }
        let outcome = fold.finish();
        let ready = matches!(outcome, GroupOutcome::Ready).then_some(values);
        (outcome, ready)
    }
}

impl<T: Clone + Send + 'static> TaskGroup for &Vec<TaskHandle<T>> {
    type Output = Vec<T>;

    fn outcome(&self) -> (GroupOutcome, Option<Vec<T>>) {
        self.as_slice().outcome()
    }
}

impl<T: Clone + Send + 'static, const N: usize> TaskGroup for &[TaskHandle<T>; N] {
    type Output = Vec<T>;

    fn outcome(&self) -> (GroupOutcome, Option<Vec<T>>) {
        self.as_slice().outcome()
    }
}

macro_rules! tuple_group {
    ($($t:ident $v:ident),+) => {
        impl<$($t: Clone + Send + 'static),+> TaskGroup for ($(&TaskHandle<$t>,)+) {
            type Output = ($($t,)+);

            #[allow(non_snake_case)]
            fn outcome(&self) -> (GroupOutcome, Option<Self::Output>) {
                let ($($v,)+) = *self;
                let mut fold = Fold::default();
                $(let $v = read($v); fold.add(&$v);)+
                match fold.finish() {
                    GroupOutcome::Ready => {
                        $(let Outcome::Ready($v) = $v else { unreachable!("ready means every member is ready") };)+
                        (GroupOutcome::Ready, Some(($($v,)+)))
                    }
                    other => (other, None),
                }
            }
        }
    };
}
tuple_group!(A a);
tuple_group!(A a, B b);
tuple_group!(A a, B b, C c);
tuple_group!(A a, B b, C c, D d);
tuple_group!(A a, B b, C c, D d, E e);
tuple_group!(A a, B b, C c, D d, E e, F f);

/// Builder returned by [`match_task_many`]; ends with `.into()` (an [`Element`]).
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// use std::time::Duration;
/// let session = Session::new();
/// let (a, b) = session.enter(|| (submit("a", || 10), submit("b", || "x".to_string())));
/// assert!(session.wait_idle(Duration::from_secs(10)));
/// let el: Element = match_task_many((&a, &b)).ready(|(n, s)| Text(format!("{n}{s}"))).into();
/// assert_eq!(render_text(&el), "10x\n");
/// ```
#[must_use = "a MatchTaskMany does nothing until converted with `.into()`"]
pub struct MatchTaskMany<'a, G: TaskGroup> {
    group: G,
    branches: Branches<'a, G::Output>,
}

impl<'a, G: TaskGroup> MatchTaskMany<'a, G> {
    builder_methods!(
        "Builds the element shown when every task is done, from their results in order.",
        G::Output
    );
}

impl<G: TaskGroup> From<MatchTaskMany<'_, G>> for Element {
    fn from(m: MatchTaskMany<'_, G>) -> Element {
        let outcome = match m.group.outcome() {
            (GroupOutcome::Ready, Some(values)) => Outcome::Ready(values),
            (GroupOutcome::Error(e), _) => Outcome::Error(e),
            (GroupOutcome::Cancelled, _) => Outcome::Cancelled,
            (GroupOutcome::Loading(p), _) => Outcome::Loading(p),
            // A group never reports Ready without its values.
            (GroupOutcome::Ready, None) => Outcome::Loading(None),
        };
        m.branches.pick(outcome)
    }
}

/// Starts a loading / ready / error / cancelled switch over several tasks: a slice (or
/// `&Vec`, `&[_; N]`) of handles with one result type, or a tuple of handle references.
/// The loading branch gets combined progress ("k of n done").
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// use std::time::Duration;
/// let session = Session::new();
/// let jobs = (1..=2).map(|n| (format!("job{n}"), move || n * 10));
/// let hs = session.enter(|| submit_many(jobs));
/// assert!(session.wait_idle(Duration::from_secs(10)));
/// let el: Element = match_task_many(&hs).ready(|v| Text(format!("{v:?}"))).into();
/// assert_eq!(render_text(&el), "[10, 20]\n");
/// ```
pub fn match_task_many<'a, G: TaskGroup>(group: G) -> MatchTaskMany<'a, G> {
    MatchTaskMany {
        group,
        branches: Branches::default(),
    }
}

/// Submits `jobs` in sorted key order and returns their handles in that order, so a
/// page that lists them is stable whatever order the jobs came in. Blank or duplicate
/// keys panic before anything starts, as with [`submit_many`].
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// use std::time::Duration;
/// let session = Session::new();
/// let jobs = ["b", "a", "c"].map(|k| (k, move || k.len()));
/// let hs = session.enter(|| submit_many_ordered(jobs));
/// assert_eq!(hs.iter().map(|h| h.key()).collect::<Vec<_>>(), ["a", "b", "c"]);
/// ```
#[track_caller]
pub fn submit_many_ordered<K, T, F>(jobs: impl IntoIterator<Item = (K, F)>) -> Vec<TaskHandle<T>>
where
    K: AsRef<str>,
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let mut jobs: Vec<(K, F)> = jobs.into_iter().collect();
    // Stable: duplicates stay adjacent and in input order for submit_many's check.
    jobs.sort_by(|a, b| a.0.as_ref().cmp(b.0.as_ref()));
    submit_many(jobs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asyncio::{
        complete_cancelled, is_task_cancel_requested, set_task_progress, submit, submit_fallible,
    };
    use crate::render::text::render;
    use crate::session::Session;
    use std::sync::mpsc::{Receiver, channel};
    use std::time::Duration;

    const WAIT: Duration = Duration::from_secs(10);

    fn show<T: Clone + Send + 'static + std::fmt::Debug>(h: &TaskHandle<T>) -> String {
        let el: Element = match_task(h)
            .loading_with(|p| {
                Text(format!(
                    "loading {}",
                    p.map(|p| p.to_string()).unwrap_or_default()
                ))
            })
            .ready(|v| Text(format!("ready {v:?}")))
            .error(|e| Text(format!("error {e}")))
            .into();
        render(&el)
    }

    /// A task that waits for the gate, then returns `value`.
    fn gated(
        value: i32,
    ) -> (
        std::sync::mpsc::Sender<()>,
        impl FnOnce() -> i32 + Send + 'static,
    ) {
        let (tx, rx): (_, Receiver<()>) = channel();
        (tx, move || {
            rx.recv().ok();
            value
        })
    }

    #[test]
    fn one_task_through_every_status() {
        let s = Session::builder().max_workers(1).build();
        let (go, job) = gated(7);
        let (go2, job2) = gated(8);
        let (h, h2, missing) = s.enter(|| {
            (
                submit("a", job),
                submit("b", job2),
                submit::<i32>("x", || 0),
            )
        });
        s.enter(|| crate::asyncio::dismiss_task("x"));
        let _ = missing;
        // "b" waits behind "a" on the one worker: Pending shows loading, cancel ends it.
        assert_eq!(show(&h2), "loading\n");
        h2.cancel();
        assert_eq!(show(&h2), "error cancelled\n");
        drop(go2);
        s.enter(|| set_task_progress("a", (0.5, "half")));
        assert_eq!(show(&h), "loading 50% half\n");
        go.send(()).unwrap();
        assert!(s.wait_idle(WAIT));
        assert_eq!(show(&h), "ready 7\n");
    }

    #[test]
    fn error_and_cancelled_branches_and_defaults() {
        let s = Session::new();
        let (err, coop) = s.enter(|| {
            let err = submit_fallible::<i32, _>("bad", || Err("disk full"));
            let coop = submit("coop", || {
                while !is_task_cancel_requested("coop") {
                    std::thread::yield_now();
                }
                complete_cancelled("coop");
                0
            });
            (err, coop)
        });
        coop.cancel();
        assert!(s.wait_idle(WAIT));
        assert_eq!(show(&err), "error disk full\n");
        let el: Element = match_task(&coop).cancelled(Text("Cancelled.")).into();
        assert_eq!(render(&el), "Cancelled.\n");
        // Defaults: the error box, and "cancelled" through it.
        assert_eq!(render(&match_task(&err).into()), "! error: disk full\n");
        assert_eq!(render(&match_task(&coop).into()), "! error: cancelled\n");
    }

    #[test]
    fn default_loading_shows_progress() {
        let s = Session::builder().max_workers(1).build();
        let (go, job) = gated(1);
        let h = s.enter(|| submit("p", job));
        assert_eq!(render(&match_task(&h).into()), "Loading…\n");
        s.enter(|| set_task_progress("p", 0.25));
        assert_eq!(
            render(&match_task(&h).into()),
            "[#####...............] 25% Loading…\n"
        );
        s.enter(|| set_task_progress("p", "warming up"));
        assert_eq!(
            render(&match_task(&h).into()),
            "[<=>.................] working warming up\n"
        );
        go.send(()).unwrap();
        assert!(s.wait_idle(WAIT));
    }

    #[test]
    fn many_follows_the_precedence_rule() {
        let s = Session::builder().max_workers(4).build();
        let (go, job) = gated(1);
        let sub = s.subscribe();
        let (ok, running, bad) = s.enter(|| {
            (
                submit("ok", || 1),
                submit("running", job),
                submit_fallible::<i32, _>("bad", || Err("boom")),
            )
        });
        // Wait for the two quick ones to settle, with the gated one still running.
        while !(ok.status().is_terminal() && bad.status().is_terminal()) {
            assert!(sub.wait_timeout(WAIT), "no task change within {WAIT:?}");
        }
        let many = |hs: &[TaskHandle<i32>]| -> String {
            let el: Element = match_task_many(hs)
                .loading_with(|p| Text(format!("loading {}", p.unwrap())))
                .ready(|v| Text(format!("{v:?}")))
                .error(|e| Text(format!("error {e}")))
                .cancelled(Text("cancelled"))
                .into();
            render(&el)
        };
        assert_eq!(
            many(&[ok.clone(), running.clone()]),
            "loading 50% 1 of 2 done\n"
        );
        assert_eq!(
            many(&[ok.clone(), running.clone(), bad.clone()]),
            "error boom\n"
        );
        assert_eq!(many(&[]), "[]\n");
        go.send(()).unwrap();
        assert!(s.wait_idle(WAIT));
        assert_eq!(many(&[running.clone(), ok.clone()]), "[1, 1]\n");
        let c = s.enter(|| {
            submit("c", || {
                while !is_task_cancel_requested("c") {
                    std::thread::yield_now();
                }
                complete_cancelled("c");
                0
            })
        });
        c.cancel();
        assert!(s.wait_idle(WAIT));
        assert_eq!(many(&[ok.clone(), c.clone()]), "cancelled\n");
        assert_eq!(many(&[c, bad]), "error boom\n", "error wins over cancelled");
    }

    #[test]
    fn tuples_mix_result_types() {
        let s = Session::new();
        let (a, b, c) = s.enter(|| {
            (
                submit("n", || 10),
                submit("s", || "x".to_string()),
                submit("f", || 1.5),
            )
        });
        assert!(s.wait_idle(WAIT));
        let el: Element = match_task_many((&a, &b, &c))
            .ready(|(n, s, f)| Text(format!("{n} {s} {f}")))
            .into();
        assert_eq!(render(&el), "10 x 1.5\n");
    }

    #[test]
    fn ordered_submission_sorts_and_checks_keys() {
        let s = Session::new();
        let hs = s.enter(|| submit_many_ordered(["c", "a", "b"].map(|k| (k, move || k))));
        assert_eq!(
            hs.iter().map(|h| h.key()).collect::<Vec<_>>(),
            ["a", "b", "c"]
        );
        let dup = std::panic::catch_unwind(|| {
            Session::new().enter(|| submit_many_ordered(["z", "y", "z"].map(|k| (k, move || k))))
        });
        let msg = crate::session::panic_message(&*dup.unwrap_err());
        assert!(msg.contains("`z`"), "{msg}");
    }
}
