//! Test helpers, after Streamlit's `AppTest` and the reference's `render_to_tree`.

use std::time::Duration;

use crate::element::Element;
use crate::render::{html, text};
use crate::session::{ClickError, Session};
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
    last: Option<Element>,
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

    /// The last rerun's tree.
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
    pub fn element(&self) -> &Element {
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
}

/// Renders one element as plain text (component bodies run in the current session, or a
/// fresh one).
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// assert_eq!(render_text(&HStack([Text("a"), Text("b")])), "HStack\n  a\n  b\n");
/// ```
pub fn render_text(el: &Element) -> String {
    text::render(el)
}

/// Renders one element as an HTML fragment (component bodies run in the current session,
/// or a fresh one).
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
