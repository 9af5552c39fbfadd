//! Test helpers: [`AppTest`], after Streamlit's `AppTest` (reruns, clicks, waiting for
//! tasks), and the plain renderers.
//!
//! # Race-free app tests
//!
//! Background tasks run on worker threads, so a test that looks at the page while a task
//! may or may not have started or finished passes or fails by chance. Four rules make
//! every such test deterministic:
//!
//! 1. **Decide when a task ends.** Gate its closure on a channel the test holds
//!    (`rx.recv_timeout(..)` in the task, `tx.send(())` in the test): until the test
//!    opens the gate the task cannot finish, so "loading" is a fact, not a guess.
//! 2. **Decide when a task starts.** [`AppTest::with_workers(1, ..)`](AppTest::with_workers)
//!    gives the app one private worker: a task submitted behind a gated one stays
//!    `Pending` until the gate opens. To know a task is `Running`, have it report
//!    progress or send on a channel as its first step and wait for that.
//! 3. **Wait for states, never for time.** [`AppTest::wait_idle`] returns when every task
//!    has ended; [`AppTest::run_until`] reruns on every task change until the page shows
//!    what you expect (both with a timeout that fails the test with a message). Never
//!    `sleep`.
//! 4. **Click, then look.** [`AppTest::click`] runs the handler and reruns at once, like a
//!    browser click; the tasks the handler or the rerun submitted are at most `Pending`
//!    or `Running` at that point, so assert the loading state only for gated tasks.
//!
//! ```
//! use std::sync::{Arc, Mutex, mpsc};
//! use std::time::Duration;
//! use streamtree::prelude::*;
//!
//! let (open, gate) = mpsc::channel::<()>();
//! let gate = Arc::new(Mutex::new(Some(gate)));
//! let mut app = AppTest::with_workers(1, move || {
//!     let gate = gate.clone();
//!     let job = submit("job", move || {
//!         let gate = gate.lock().unwrap().take().expect("submitted once");
//!         gate.recv_timeout(Duration::from_secs(10)).expect("the test opens the gate");
//!         42
//!     });
//!     match_task(&job).loading("working").ready(|n| Text(format!("got {n}"))).into()
//! });
//! assert_eq!(app.run().text(), "working\n"); // gated: cannot be done yet
//! open.send(()).unwrap();
//! app.run_until(Duration::from_secs(10), |text| text == "got 42\n");
//! ```

use std::time::{Duration, Instant};

use crate::element::Element;
use crate::render::{html, text};
use crate::session::input::InputError;
use crate::session::{ClickError, Resolved, Session};
use crate::tree::TreeNode;

/// Drives an app function through reruns in its own session and exposes each rerun's
/// output.
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// let mut app = AppTest::new(|| Page([Text("hello")]).title("t"));
/// assert_eq!(app.run().text(), "Page \"t\"\n  hello\n");
/// assert!(app.html().contains("<title>t</title>"));
/// ```
pub struct AppTest {
    session: Session,
    root: Box<dyn Fn() -> Element>,
    last: Option<Resolved>,
}

impl std::fmt::Debug for AppTest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppTest")
            .field("session", &self.session)
            .finish_non_exhaustive()
    }
}

impl AppTest {
    /// An app test with a fresh session on the shared runtime.
    ///
    /// # Example
    /// ```
    /// let app = streamtree::testing::AppTest::new(streamtree::Element::empty);
    /// # drop(app);
    /// ```
    pub fn new(root: impl Fn() -> Element + 'static) -> AppTest {
        AppTest::with_session(Session::new(), root)
    }

    /// An app test in `session` (for example one with a private pool).
    ///
    /// # Example
    /// ```
    /// use streamtree::{Session, testing::AppTest};
    /// let app = AppTest::with_session(Session::builder().max_workers(2).build(), streamtree::Element::empty);
    /// # drop(app);
    /// ```
    pub fn with_session(session: Session, root: impl Fn() -> Element + 'static) -> AppTest {
        AppTest {
            session,
            root: Box::new(root),
            last: None,
        }
    }

    /// Performs one rerun.
    ///
    /// # Example
    /// ```
    /// let mut app = streamtree::testing::AppTest::new(|| streamtree::elements::Text("x"));
    /// assert_eq!(app.run().run().text(), "x\n");
    /// ```
    pub fn run(&mut self) -> &mut Self {
        let root = &self.root;
        self.last = Some(self.session.rerun(root));
        self
    }

    /// An app test whose session has a private pool of `workers` threads (at least 1).
    /// With one worker, tasks start one at a time in submission order: the way to keep a
    /// task `Pending` behind a gated one (see the module docs on race-free tests).
    ///
    /// # Example
    /// ```
    /// use streamtree::prelude::*;
    /// let mut app = AppTest::with_workers(1, || Text("x"));
    /// assert_eq!(app.run().text(), "x\n");
    /// ```
    pub fn with_workers(workers: usize, root: impl Fn() -> Element + 'static) -> AppTest {
        AppTest::with_session(Session::builder().max_workers(workers).build(), root)
    }

    /// Reruns now and after every change of the session's tasks until `done` holds for
    /// the rerun's text output; waits on task notifications, never sleeps.
    ///
    /// # Panics
    /// When `timeout` passes first, showing the last output.
    ///
    /// # Example
    /// ```
    /// use std::time::Duration;
    /// use streamtree::prelude::*;
    /// let mut app = AppTest::new(|| {
    ///     let h = submit("sum", || 1 + 1);
    ///     match_task(&h).ready(|n| Text(n)).into()
    /// });
    /// app.run_until(Duration::from_secs(10), |text| text == "2\n");
    /// ```
    #[track_caller]
    pub fn run_until(
        &mut self,
        timeout: Duration,
        mut done: impl FnMut(&str) -> bool,
    ) -> &mut Self {
        let deadline = Instant::now() + timeout;
        // Subscribed before the first rerun: a change right after it still wakes us.
        let changes = self.session.subscribe();
        loop {
            let text = self.run().text();
            if done(&text) {
                return self;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || !changes.wait_timeout(left) {
                panic!(
                    "AppTest::run_until: the condition did not hold within {timeout:?}; \
                     the last rerun showed:\n{text}"
                );
            }
        }
    }

    /// The last rerun's tree, resolved: rendering it runs no user code.
    ///
    /// # Panics
    /// Before the first [`run`](Self::run).
    ///
    /// # Example
    /// ```
    /// let mut app = streamtree::testing::AppTest::new(|| streamtree::elements::Divider());
    /// assert_eq!(app.run().element().kind_name(), "Divider");
    /// ```
    #[track_caller]
    pub fn element(&self) -> &Resolved {
        self.last
            .as_ref()
            .expect("AppTest has no output yet: call `.run()` before reading it")
    }

    /// The last rerun's output as plain text.
    ///
    /// # Panics
    /// Before the first [`run`](Self::run).
    ///
    /// # Example
    /// ```
    /// let mut app = streamtree::testing::AppTest::new(|| streamtree::elements::Text("x"));
    /// assert_eq!(app.run().text(), "x\n");
    /// ```
    #[track_caller]
    pub fn text(&self) -> String {
        text::render(self.element())
    }

    /// The last rerun's output as a full HTML document.
    ///
    /// # Panics
    /// Before the first [`run`](Self::run).
    ///
    /// # Example
    /// ```
    /// let mut app = streamtree::testing::AppTest::new(|| streamtree::elements::Text("x"));
    /// assert!(app.run().html().contains(r#"<div class="st-text">x</div>"#));
    /// ```
    #[track_caller]
    pub fn html(&self) -> String {
        html::document(self.element())
    }

    /// The last rerun's tree as plain data.
    ///
    /// # Panics
    /// Before the first [`run`](Self::run).
    ///
    /// # Example
    /// ```
    /// let mut app = streamtree::testing::AppTest::new(|| streamtree::elements::Text("x"));
    /// assert_eq!(app.run().tree().kind, "Text");
    /// ```
    #[track_caller]
    pub fn tree(&self) -> TreeNode {
        crate::tree::render_to_tree(self.element())
    }

    /// The session the reruns run in.
    ///
    /// # Example
    /// ```
    /// let app = streamtree::testing::AppTest::new(streamtree::Element::empty);
    /// assert!(app.session().id() > 0);
    /// ```
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// Waits until none of the session's tasks is pending or running (true), or `timeout`
    /// passes (false). Blocks on task notifications; never sleep-polls.
    ///
    /// # Example
    /// ```
    /// let app = streamtree::testing::AppTest::new(streamtree::Element::empty);
    /// assert!(app.wait_idle(std::time::Duration::from_secs(1)));
    /// ```
    pub fn wait_idle(&self, timeout: Duration) -> bool {
        self.session.wait_idle(timeout)
    }

    /// Clicks the button with address `key` from the last rerun, then reruns: the path a
    /// live runner takes for a browser click.
    ///
    /// # Errors
    /// [`ClickError`] when the button does not exist, is disabled, or its handler panics;
    /// no rerun happens then.
    ///
    /// # Example
    /// ```
    /// use streamtree::prelude::*;
    /// let mut app = AppTest::new(|| {
    ///     let n = session_state("n", || 0);
    ///     let shown = n.get();
    ///     VStack([Text(format!("clicked {shown}")), Button("+1").key("inc").on_click(move || n.update(|v| *v += 1))])
    /// });
    /// app.run();
    /// assert!(app.click("inc").unwrap().text().contains("clicked 1"));
    /// ```
    pub fn click(&mut self, key: &str) -> Result<&mut Self, ClickError> {
        self.session.click(key)?;
        Ok(self.run())
    }

    /// Sets the input with key `key` from the last rerun to `value`, the text a form post
    /// carries (`"US"`, `"7"`, `"true"`), then reruns: the path a live runner takes for a
    /// changed input.
    ///
    /// # Errors
    /// [`InputError`] naming key and value when no such input was rendered, it is
    /// disabled, or the value does not fit it (a number that does not parse, out of
    /// `min..=max`, off the step, an option not listed, ...); nothing changes and no
    /// rerun happens then.
    ///
    /// # Example
    /// ```
    /// use streamtree::prelude::*;
    /// let mut app = AppTest::new(|| {
    ///     let days = NumberInput::<i64>("Days").key("days").min(1).max(30).default(7);
    ///     let d = days.value();
    ///     VStack([days.into(), Text(format!("{d} days"))])
    /// });
    /// app.run();
    /// assert!(app.set_input("days", "14").unwrap().text().ends_with("14 days\n"));
    /// let err = app.set_input("days", "abc").unwrap_err();
    /// assert_eq!(err.to_string(), "input `days`: `abc` is not a whole number");
    /// assert!(app.text().ends_with("14 days\n"));
    /// ```
    pub fn set_input(&mut self, key: &str, value: &str) -> Result<&mut Self, InputError> {
        self.session.set_input(key, value)?;
        Ok(self.run())
    }
}

/// Renders one element as plain text. Pure: component calls show what their rerun
/// resolved (render the tree [`Session::rerun`] returns, or use [`AppTest`]).
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// assert_eq!(render_text(&HStack([Text("a"), Text("b")])), "HStack\n  a\n  b\n");
/// ```
pub fn render_text(el: &Element) -> String {
    text::render(el)
}

/// Renders one element as an HTML fragment. Pure, like [`render_text`].
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// assert_eq!(render_html(&Text("<script>")), r#"<div class="st-text">&lt;script&gt;</div>"#);
/// ```
pub fn render_html(el: &Element) -> String {
    html::fragment(el)
}

/// Renders a whole page as an HTML document.
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// assert!(render_html_document(&Page([Divider()])).ends_with("</html>\n"));
/// ```
pub fn render_html_document(el: &Element) -> String {
    html::document(el)
}
