//! [`match_task_many`]: one loading / ready / error / cancelled switch over several tasks.

use std::time::Duration;

use super::{Branches, Loading, Outcome, read};
use crate::asyncio::{Progress, TaskHandle};
use crate::element::Element;

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

    /// Reads every member (with the builder's delay): how the group reads, and its
    /// values when it is ready.
    #[doc(hidden)]
    fn outcome(&self, delay: Option<Duration>) -> (GroupOutcome, Option<Self::Output>);
}

/// How a group reads, without the values (which `TaskGroup::outcome` returns apart).
#[doc(hidden)]
pub enum GroupOutcome {
    Loading(Option<Progress>),
    /// Unfinished, every unfinished member still inside the delay.
    Waiting,
    /// Ready; true when some member is refreshing.
    Ready(bool),
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
    /// Unfinished members still inside the delay (counted in `unfinished` too).
    waiting: usize,
    refreshing: bool,
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
            Outcome::Loading(p) | Outcome::Waiting(p) => {
                self.unfinished += 1;
                self.waiting += usize::from(matches!(outcome, Outcome::Waiting(_)));
                self.done_fraction += p.as_ref().and_then(Progress::fraction).unwrap_or(0.0);
            }
            Outcome::Ready(_, refreshing) => {
                self.refreshing |= refreshing;
                self.done_fraction += 1.0;
            }
        }
    }

    fn finish(self) -> GroupOutcome {
        if let Some(m) = self.error {
            GroupOutcome::Error(m)
        } else if self.cancelled {
            GroupOutcome::Cancelled
        } else if self.unfinished > 0 && self.waiting == self.unfinished {
            // The group waits while its oldest unfinished member does.
            GroupOutcome::Waiting
        } else if self.unfinished > 0 {
            let done = self.total - self.unfinished;
            GroupOutcome::Loading(Some(Progress::new(
                Some(self.done_fraction / self.total as f64),
                Some(format!("{done} of {} done", self.total)),
            )))
        } else {
            GroupOutcome::Ready(self.refreshing)
        }
    }
}

impl<T: Clone + Send + 'static> TaskGroup for &[TaskHandle<T>] {
    type Output = Vec<T>;

    fn outcome(&self, delay: Option<Duration>) -> (GroupOutcome, Option<Vec<T>>) {
        let mut fold = Fold::default();
        let mut values = Vec::with_capacity(self.len());
        for h in self.iter() {
            let o = read(h, delay);
            fold.add(&o);
            if let Outcome::Ready(v, _) = o {
                values.push(v);
            }
        }
        let outcome = fold.finish();
        let ready = matches!(outcome, GroupOutcome::Ready(_)).then_some(values);
        (outcome, ready)
    }
}

impl<T: Clone + Send + 'static> TaskGroup for &Vec<TaskHandle<T>> {
    type Output = Vec<T>;

    fn outcome(&self, delay: Option<Duration>) -> (GroupOutcome, Option<Vec<T>>) {
        self.as_slice().outcome(delay)
    }
}

impl<T: Clone + Send + 'static, const N: usize> TaskGroup for &[TaskHandle<T>; N] {
    type Output = Vec<T>;

    fn outcome(&self, delay: Option<Duration>) -> (GroupOutcome, Option<Vec<T>>) {
        self.as_slice().outcome(delay)
    }
}

macro_rules! tuple_group {
    ($($t:ident $v:ident),+) => {
        impl<$($t: Clone + Send + 'static),+> TaskGroup for ($(&TaskHandle<$t>,)+) {
            type Output = ($($t,)+);

            #[allow(non_snake_case)]
            fn outcome(&self, delay: Option<Duration>) -> (GroupOutcome, Option<Self::Output>) {
                let ($($v,)+) = *self;
                let mut fold = Fold::default();
                $(let $v = read($v, delay); fold.add(&$v);)+
                match fold.finish() {
                    GroupOutcome::Ready(refreshing) => {
                        $(let Outcome::Ready($v, _) = $v else { unreachable!("ready means every member is ready") };)+
                        (GroupOutcome::Ready(refreshing), Some(($($v,)+)))
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
        ready_doc: "Builds the element shown when every task is done, from their results in order.",
        ready_with_doc: "As [`ready`](Self::ready), also told whether any task is refreshing \
            (see [`TaskHandle::is_refreshing`]).",
        delay_doc: "Shows nothing instead of the loading branch while every unfinished task \
            is within `d` of its submission (so the group waits while its oldest unfinished \
            task does); a read inside the delay asks for a notification at its end, so live \
            runners rerun then by themselves.",
        out: G::Output,
        examples: {
            loading: r#"use streamtree::prelude::*;
// One worker: "next" waits behind "slow", which waits for the gate.
let session = Session::builder().max_workers(1).build();
let (gate, open) = std::sync::mpsc::channel::<()>();
let hs = session.enter(|| {
    vec![submit("slow", move || { open.recv().ok(); 1 }), submit("next", || 2)]
});
let el = match_task_many(&hs).loading("Both still working").into();
assert_eq!(render_text(&el), "Both still working\n");
gate.send(()).unwrap();"#,
            loading_with: r#"use std::time::Duration;
use streamtree::prelude::*;
// The loading branch gets the group's progress: finished members count whole.
let session = Session::builder().max_workers(2).build();
let changes = session.subscribe();
let (gate, open) = std::sync::mpsc::channel::<()>();
let (quick, slow) = session.enter(|| {
    (submit("quick", || 1), submit("slow", move || { open.recv().ok(); 2 }))
});
while !quick.status().is_terminal() {
    assert!(changes.wait_timeout(Duration::from_secs(10)), "quick did not finish");
}
let el = match_task_many((&quick, &slow))
    .loading_with(|p| Text(p.map(|p| p.to_string()).unwrap_or_default()))
    .into();
assert_eq!(render_text(&el), "50% 1 of 2 done\n");
gate.send(()).unwrap();"#,
            ready: r#"use streamtree::prelude::*;
let session = Session::new();
let squares = session.enter(|| submit_many((1..=3).map(|n| (format!("sq{n}"), move || n * n))));
assert!(session.wait_idle(std::time::Duration::from_secs(10)));
let el = match_task_many(&squares).ready(|v| Text(format!("{v:?}"))).into();
assert_eq!(render_text(&el), "[1, 4, 9]\n");"#,
            ready_with: r#"use streamtree::prelude::*;
let session = Session::new();
let (a, b) = session.enter(|| (submit("a", || 1), submit("b", || 2)));
assert!(session.wait_idle(std::time::Duration::from_secs(10)));
let el = match_task_many((&a, &b))
    .ready_with(|(x, y), refreshing| Text(format!("{x} {y} refreshing={refreshing}")))
    .into();
assert_eq!(render_text(&el), "1 2 refreshing=false\n");"#,
            delay: r#"use std::time::Duration;
use streamtree::prelude::*;
let session = Session::builder().max_workers(1).build();
let (gate, open) = std::sync::mpsc::channel::<()>();
let hs = session.enter(|| {
    vec![submit("slow", move || { open.recv().ok(); 1 }), submit("next", || 2)]
});
// Both just submitted: nothing yet.
assert_eq!(render_text(&match_task_many(&hs).delay(Duration::from_secs(60)).into()), "");
gate.send(()).unwrap();"#,
            error: r#"use streamtree::prelude::*;
// Any failed member makes the group fail, with the first error in order.
let session = Session::new();
let (a, b) = session.enter(|| {
    (submit("a", || 1), submit_fallible::<String, _>("b", || Err("b failed")))
});
assert!(session.wait_idle(std::time::Duration::from_secs(10)));
let el = match_task_many((&a, &b)).error(|e| Text(format!("failed: {e}"))).into();
assert_eq!(render_text(&el), "failed: b failed\n");"#,
            cancelled: r#"use streamtree::prelude::*;
// A cancelled member (and no failed one) makes the group cancelled, even while
// another still runs.
let session = Session::builder().max_workers(1).build();
let (gate, open) = std::sync::mpsc::channel::<()>();
let (busy, queued) = session.enter(|| {
    (submit("busy", move || { open.recv().ok(); 1 }), submit("queued", || 2))
});
queued.cancel(); // pending behind "busy": cancelled at once
let el = match_task_many((&busy, &queued)).cancelled("Stopped.").into();
assert_eq!(render_text(&el), "Stopped.\n");
gate.send(()).unwrap();"#,
        },
    );
}

impl<G: TaskGroup> From<MatchTaskMany<'_, G>> for Element {
    fn from(m: MatchTaskMany<'_, G>) -> Element {
        let outcome = match m.group.outcome(m.branches.delay) {
            (GroupOutcome::Ready(refreshing), Some(values)) => Outcome::Ready(values, refreshing),
            (GroupOutcome::Error(e), _) => Outcome::Error(e),
            (GroupOutcome::Cancelled, _) => Outcome::Cancelled,
            (GroupOutcome::Loading(p), _) => Outcome::Loading(p),
            (GroupOutcome::Waiting, _) => Outcome::Waiting(None),
            // A group never reports Ready without its values.
            (GroupOutcome::Ready(_), None) => Outcome::Loading(None),
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
