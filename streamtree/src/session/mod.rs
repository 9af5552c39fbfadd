//! `Session`: what survives between reruns (state, tasks, button handlers) and the
//! `rerun` entry point.
//!
//! Invariants:
//! - a thread's current session is the innermost `enter` still running on it; `enter`
//!   restores the previous one on every exit, including unwinding;
//! - a session's tasks belong to its `TaskSet`; the last `Session` clone to drop closes it
//!   (pending tasks cancelled, running tasks asked to cancel);
//! - `rerun` never unwinds: a panic in the app function or a component body becomes an
//!   error element, and every lock it takes tolerates poisoning.
//! - `rerun` is the only caller of resolution (`resolve.rs`): only a rerun runs component
//!   bodies, and it hands the tree out as a [`Resolved`];
//! - user values leaving the session (swept state, the last rerun's button handlers) are
//!   dropped after the lock that held them is released: their `Drop` may use the session.

mod close;
mod contain;
pub mod input;
pub(crate) mod path;
mod resolve;
pub(crate) mod state;

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::element::input::InputNode;
use crate::element::{Callback, Element, Node, Str};
use crate::runtime::{Runtime, Subscription, TaskSet};

pub use close::WeakSession;
pub(crate) use contain::{contain, panic_message};
pub use path::current as render_path;
pub use resolve::Resolved;
pub use state::{State, session_state, state};

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// Stack of entered sessions on this thread; the last is current.
    static CURRENT: RefCell<Vec<Session>> = const { RefCell::new(Vec::new()) };
}

/// State that lives across reruns: keyed values, background tasks and the button
/// handlers of the last rerun. Cheap to clone (one `Arc`), `Send + Sync`.
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// let session = Session::new();
/// let count = || session_state("runs", || 0u32).update(|n| { *n += 1; *n });
/// let tree = session.rerun(|| Text(format!("run {}", count())));
/// assert_eq!(render_text(&tree), "run 1\n");
/// let tree = session.rerun(|| Text(format!("run {}", count())));
/// assert_eq!(render_text(&tree), "run 2\n");
/// ```
#[derive(Clone)]
pub struct Session {
    inner: Arc<SessionInner>,
}

struct SessionInner {
    id: u64,
    /// Keyed values; written by `state`/`session_state` during reruns, swept after each.
    state: state::Store,
    /// This session's tasks; shared with the handles and workers of those tasks.
    tasks: Arc<TaskSet>,
    /// Button handlers of the last rerun, by button address. Replaced whole by each rerun;
    /// the old map is dropped outside the lock.
    buttons: Mutex<HashMap<Str, ButtonSlot>>,
    /// The inputs of the last rerun, by key: what `set_input` checks values against.
    /// Replaced whole by each rerun (plain data: no user code).
    inputs: Mutex<HashMap<Str, Arc<InputNode>>>,
    /// Counts completed reruns; state slots remember the rerun that last touched them.
    reruns: AtomicU64,
}

struct ButtonSlot {
    disabled: bool,
    on_click: Option<Callback>,
}

impl Drop for SessionInner {
    fn drop(&mut self) {
        self.tasks.close();
    }
}

/// Configures a [`Session`]: which task runtime runs its background work.
///
/// # Example
/// ```
/// use streamtree::Session;
/// let session = Session::builder().max_workers(2).build();
/// assert!(session.wait_idle(std::time::Duration::ZERO));
/// ```
#[derive(Default)]
#[must_use]
pub struct SessionBuilder {
    runtime: Option<Runtime>,
    max_workers: Option<usize>,
}

impl SessionBuilder {
    /// Gives the session a private pool of at most `n` worker threads (`n` is raised to 1).
    /// Replaces an earlier [`runtime`](Self::runtime) call.
    ///
    /// # Example
    /// ```
    /// let s = streamtree::Session::builder().max_workers(4).build();
    /// # drop(s);
    /// ```
    pub fn max_workers(mut self, n: usize) -> Self {
        self.max_workers = Some(n.max(1));
        self.runtime = None;
        self
    }

    /// Runs the session's tasks on a shared `runtime`, as a server does for thousands of
    /// sessions. Replaces an earlier [`max_workers`](Self::max_workers) call.
    ///
    /// # Example
    /// ```
    /// use streamtree::{Runtime, Session};
    /// let rt = Runtime::builder().max_workers(8).build();
    /// let a = Session::builder().runtime(rt.clone()).build();
    /// let b = Session::builder().runtime(rt).build();
    /// assert_ne!(a.id(), b.id());
    /// ```
    pub fn runtime(mut self, runtime: Runtime) -> Self {
        self.runtime = Some(runtime);
        self.max_workers = None;
        self
    }

    /// Builds the session. Without options it uses the process-wide shared runtime.
    ///
    /// # Example
    /// ```
    /// let s = streamtree::Session::builder().build();
    /// # drop(s);
    /// ```
    pub fn build(self) -> Session {
        let runtime = match (self.runtime, self.max_workers) {
            (Some(rt), _) => rt,
            (None, Some(n)) => Runtime::builder().max_workers(n).build(),
            (None, None) => Runtime::global(),
        };
        Session {
            inner: Arc::new(SessionInner {
                id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
                state: state::Store::default(),
                tasks: TaskSet::new(runtime),
                buttons: Mutex::new(HashMap::new()),
                inputs: Mutex::new(HashMap::new()),
                reruns: AtomicU64::new(0),
            }),
        }
    }
}

/// Keeps a [`Session::on_change`] callback registered; dropping it unregisters.
///
/// # Example
/// ```
/// let guard = streamtree::Session::new().on_change(|| {});
/// drop(guard);
/// ```
#[must_use = "the callback is unregistered when this guard is dropped"]
pub struct OnChange {
    _hook: Arc<dyn Fn() + Send + Sync>,
}

impl fmt::Debug for OnChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OnChange")
    }
}

/// Why [`Session::click`] did not run a handler. Nothing changed in the session.
///
/// # Example
/// ```
/// use streamtree::{ClickError, Session};
/// let err = Session::new().click("nope").unwrap_err();
/// assert_eq!(err, ClickError::UnknownKey("nope".into()));
/// assert_eq!(err.to_string(), "no button with key `nope` in the last rerun");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClickError {
    /// The last rerun rendered no button with this key (or label, for unkeyed buttons).
    UnknownKey(String),
    /// The button was rendered disabled.
    Disabled(String),
    /// The handler panicked; the message is the panic's.
    Panicked {
        /// The button's key.
        key: String,
        /// The panic message.
        message: String,
    },
}

impl fmt::Display for ClickError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClickError::UnknownKey(k) => write!(f, "no button with key `{k}` in the last rerun"),
            ClickError::Disabled(k) => write!(f, "button `{k}` is disabled"),
            ClickError::Panicked { key, message } => {
                write!(f, "the click handler of button `{key}` panicked: {message}")
            }
        }
    }
}

impl std::error::Error for ClickError {}

impl Default for Session {
    fn default() -> Self {
        Session::new()
    }
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("id", &self.inner.id)
            .finish_non_exhaustive()
    }
}

/// Pops the session pushed by `enter`, also when the closure unwinds.
struct Leave;

impl Drop for Leave {
    fn drop(&mut self) {
        CURRENT.with(|c| c.borrow_mut().pop());
    }
}

impl Session {
    /// A session on the process-wide shared task runtime.
    ///
    /// # Example
    /// ```
    /// let s = streamtree::Session::new();
    /// assert!(s.id() > 0);
    /// ```
    pub fn new() -> Session {
        Session::builder().build()
    }

    /// A builder for sessions with their own task pool or a chosen shared runtime.
    ///
    /// # Example
    /// ```
    /// let s = streamtree::Session::builder().max_workers(1).build();
    /// # drop(s);
    /// ```
    pub fn builder() -> SessionBuilder {
        SessionBuilder::default()
    }

    /// A number unique to this session within the process.
    ///
    /// # Example
    /// ```
    /// use streamtree::Session;
    /// assert_ne!(Session::new().id(), Session::new().id());
    /// ```
    pub fn id(&self) -> u64 {
        self.inner.id
    }

    /// Makes this session current on this thread while `f` runs, then restores the previous
    /// one (also if `f` panics). Nesting and re-entering the same session are fine.
    ///
    /// # Example
    /// ```
    /// use streamtree::Session;
    /// let (a, b) = (Session::new(), Session::new());
    /// a.enter(|| {
    ///     assert_eq!(Session::current().id(), a.id());
    ///     b.enter(|| assert_eq!(Session::current().id(), b.id()));
    ///     assert_eq!(Session::current().id(), a.id());
    /// });
    /// assert!(Session::try_current().is_none());
    /// ```
    pub fn enter<R>(&self, f: impl FnOnce() -> R) -> R {
        CURRENT.with(|c| c.borrow_mut().push(self.clone()));
        let _leave = Leave;
        // The runtime's own "current task set" stack; popped first, on every exit.
        let _tasks = crate::runtime::enter(self.tasks());
        f()
    }

    /// The session current on this thread, if any.
    ///
    /// # Example
    /// ```
    /// assert!(streamtree::Session::try_current().is_none());
    /// ```
    pub fn try_current() -> Option<Session> {
        CURRENT.with(|c| c.borrow().last().cloned())
    }

    /// The session current on this thread.
    ///
    /// # Panics
    /// When no session is current, with a message that says how to make one current.
    ///
    /// # Example
    /// ```
    /// let s = streamtree::Session::new();
    /// s.enter(|| assert_eq!(streamtree::Session::current().id(), s.id()));
    /// ```
    #[track_caller]
    pub fn current() -> Session {
        Session::try_current().unwrap_or_else(|| {
            panic!(
                "no streamtree Session is current on this thread: call this inside a rerun \
                 (`session.rerun(..)`, `AppTest::run`, a live runner) or wrap it in \
                 `session.enter(|| ..)`"
            )
        })
    }

    /// Runs one rerun: evaluates `root` with this session current, runs every component
    /// body, records the buttons' handlers, and sweeps render-path state no longer
    /// rendered. A panic in `root` or in a body is shown in place as an error element.
    ///
    /// The only way to run component bodies: renderers show what a rerun resolved.
    ///
    /// # Example
    /// ```
    /// use streamtree::prelude::*;
    /// let tree = Session::new().rerun(|| -> Element { panic!("bad input") });
    /// assert_eq!(render_text(&tree), "! error: the app panicked: bad input\n");
    /// ```
    pub fn rerun(&self, root: impl FnOnce() -> Element) -> Resolved {
        self.enter(|| {
            let generation = self.inner.reruns.load(Ordering::Acquire) + 1;
            let mut tree = state::with_generation(generation, || {
                let mut tree = contain(root)
                    .unwrap_or_else(|panic| Element::panicked("the app", &panic_message(&*panic)));
                resolve::resolve(&mut tree);
                tree
            });
            let mut buttons = HashMap::new();
            let mut inputs = HashMap::new();
            collect_buttons(&mut tree, &mut buttons, &mut inputs);
            *self
                .inner
                .inputs
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = inputs;
            // The last rerun's handlers are user closures: drop them after the lock.
            let old = std::mem::replace(
                &mut *self
                    .inner
                    .buttons
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner),
                buttons,
            );
            drop(old);
            drop(self.inner.state.sweep(generation));
            self.inner.reruns.store(generation, Ordering::Release);
            Resolved::new(tree)
        })
    }

    /// Calls the click handler of the button with address `key` from the last rerun (its
    /// key, or its label if it has none). The caller reruns afterwards, as Streamlit does.
    ///
    /// # Errors
    /// [`ClickError`] when no such button was rendered, it was disabled, or the handler
    /// panicked (the panic is contained).
    ///
    /// # Example
    /// ```
    /// use std::sync::atomic::{AtomicU32, Ordering};
    /// use std::sync::Arc;
    /// use streamtree::prelude::*;
    /// let clicks = Arc::new(AtomicU32::new(0));
    /// let c = clicks.clone();
    /// let session = Session::new();
    /// session.rerun(move || {
    ///     let c = c.clone();
    ///     Button("Go").key("go").on_click(move || { c.fetch_add(1, Ordering::SeqCst); })
    /// });
    /// session.click("go").unwrap();
    /// assert_eq!(clicks.load(Ordering::SeqCst), 1);
    /// ```
    pub fn click(&self, key: &str) -> Result<(), ClickError> {
        let handler = {
            let buttons = self
                .inner
                .buttons
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let slot = buttons
                .get(key)
                .ok_or_else(|| ClickError::UnknownKey(key.to_owned()))?;
            if slot.disabled {
                return Err(ClickError::Disabled(key.to_owned()));
            }
            slot.on_click.clone()
        };
        let Some(handler) = handler else {
            return Ok(());
        };
        self.enter(|| contain(|| (handler.lock().unwrap_or_else(PoisonError::into_inner))()))
            .map_err(|panic| ClickError::Panicked {
                key: key.to_owned(),
                message: panic_message(&*panic),
            })
    }

    /// Blocks until none of this session's tasks is pending or running, or `timeout`
    /// passes. Returns whether the session is idle. Wakes on task notifications; it does
    /// not sleep-poll.
    ///
    /// # Example
    /// ```
    /// assert!(streamtree::Session::new().wait_idle(std::time::Duration::from_secs(1)));
    /// ```
    pub fn wait_idle(&self, timeout: Duration) -> bool {
        self.inner.tasks.wait_idle(timeout)
    }

    /// A subscription that receives a notification on every status or progress change of
    /// this session's tasks.
    ///
    /// # Example
    /// ```
    /// let s = streamtree::Session::new();
    /// let sub = s.subscribe();
    /// assert!(!sub.wait_timeout(std::time::Duration::ZERO));
    /// ```
    pub fn subscribe(&self) -> Subscription {
        self.inner.tasks.subscribe()
    }

    /// Calls `f` (on the thread that made the change) after every status or progress
    /// change of this session's tasks, until the returned guard is dropped. For async
    /// code: `f` can wake a task (`tokio::sync::Notify::notify_one`); it must not block.
    ///
    /// # Example
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use streamtree::prelude::*;
    /// let session = Session::new();
    /// let seen = Arc::new(AtomicUsize::new(0));
    /// let s = seen.clone();
    /// let guard = session.on_change(move || { s.fetch_add(1, Ordering::SeqCst); });
    /// session.enter(|| submit("job", || 1));
    /// assert!(session.wait_idle(Duration::from_secs(10)));
    /// assert!(seen.load(Ordering::SeqCst) >= 1);
    /// drop(guard);
    /// ```
    pub fn on_change(&self, f: impl Fn() + Send + Sync + 'static) -> OnChange {
        let hook: Arc<dyn Fn() + Send + Sync> = Arc::new(f);
        self.inner.tasks.add_hook(&hook);
        OnChange { _hook: hook }
    }

    pub(crate) fn tasks(&self) -> &Arc<TaskSet> {
        &self.inner.tasks
    }

    pub(crate) fn state_store(&self) -> &state::Store {
        &self.inner.state
    }

    /// The input with `key` as the last rerun rendered it.
    pub(crate) fn input_spec(&self, key: &str) -> Option<Arc<InputNode>> {
        self.inner
            .inputs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(key)
            .cloned()
    }

    /// How many inputs the last rerun rendered (the live server shows a no-JavaScript
    /// "Apply" button when there are any).
    #[cfg_attr(not(feature = "serve"), allow(dead_code))]
    pub(crate) fn input_count(&self) -> usize {
        self.inner
            .inputs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

/// Records every button's handler under its address, and every input under its key; a
/// second button with the same address (or input with the same key) in one rerun turns
/// into an error element naming the duplicate.
fn collect_buttons(
    el: &mut Element,
    out: &mut HashMap<Str, ButtonSlot>,
    inputs: &mut HashMap<Str, Arc<InputNode>>,
) {
    if let Node::Input(input) = &el.node {
        if inputs.contains_key(&input.key) {
            *el = Element::error(format!(
                "duplicate input key `{}`: two inputs in one rerun share it; give each a \
                 distinct `.key(..)`",
                input.key
            ));
        } else {
            inputs.insert(input.key.clone(), Arc::new((**input).clone()));
        }
        return;
    }
    let address = match &el.node {
        Node::Button(b) => Some(el.key.as_deref().unwrap_or(&b.label).clone()),
        _ => None,
    };
    if let Some(address) = address {
        if out.contains_key(&address) {
            *el = Element::error(format!(
                "duplicate button key `{address}`: two buttons in one rerun share it; \
                 give each a distinct `.key(..)`"
            ));
            return;
        }
        if let Node::Button(b) = &el.node {
            out.insert(
                address,
                ButtonSlot {
                    disabled: b.disabled,
                    on_click: b.on_click.clone(),
                },
            );
        }
        return;
    }
    match &mut el.node {
        Node::Component(c) => {
            if let Some(out_el) = c.output_mut() {
                collect_buttons(out_el, out, inputs);
            }
        }
        node => {
            for child in node.children_mut() {
                collect_buttons(child, out, inputs);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::panic::{AssertUnwindSafe, catch_unwind};

    #[test]
    fn session_is_send_sync_and_cheap() {
        fn is<T: Send + Sync + Clone>() {}
        is::<Session>();
        assert_eq!(std::mem::size_of::<Session>(), std::mem::size_of::<usize>());
    }

    #[test]
    fn enter_restores_after_panic() {
        let s = Session::new();
        let r = catch_unwind(AssertUnwindSafe(|| s.enter(|| panic!("x"))));
        assert!(r.is_err());
        assert!(Session::try_current().is_none());
    }
}
