//! The element tree: the plain value an app function returns and the backends render.
//!
//! Layout for speed: an [`Element`] is one enum value; containers own their children in
//! one `Vec` (one allocation per container, not per node), and short strings live inline
//! in [`Str`] (no allocation up to 24 bytes). Component calls are plain data too
//! (`component.rs`): the node holds the body, and only a rerun runs it.
//!
//! Layer: above the task runtime, below sessions and renderers. Nothing here runs user
//! code (bodies, handlers) or names a session.

mod chart;
mod component;
pub(crate) mod display;
pub(crate) mod input;
pub(crate) mod pool;
mod str;
mod table;

use std::sync::{Arc, Mutex};

pub use self::chart::{BarChart, LineChart, Series, XValue};
pub(crate) use self::chart::{ChartKind, ChartNode};
pub(crate) use self::component::{ComponentNode, component, unresolved};
pub use self::str::Str;
pub use self::table::Align;
pub(crate) use self::table::{DEFAULT_MAX_CELL_WIDTH, TableNode, push_cell};

/// A click handler stored on a [`Button`](crate::elements::Button).
///
/// Shared (`Arc`) so a rerun can hand it to the session, where a live runner or
/// [`AppTest::click`](crate::testing::AppTest::click) calls it after the tree is gone.
pub(crate) type Callback = Arc<Mutex<dyn FnMut() + Send>>;

/// The three plain containers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StackKind {
    VStack,
    HStack,
    Card,
}

impl StackKind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            StackKind::VStack => "VStack",
            StackKind::HStack => "HStack",
            StackKind::Card => "Card",
        }
    }
}

/// A page's payload, boxed: there is one per tree, and inline it would widen every node.
pub(crate) struct PageNode {
    pub(crate) title: Option<Str>,
    pub(crate) children: Vec<Element>,
    pub(crate) dynamic: bool,
}

pub(crate) struct ButtonNode {
    pub(crate) label: Str,
    pub(crate) disabled: bool,
    pub(crate) on_click: Option<Callback>,
}

/// What an element is. Crate-private so the layout can change without breaking users.
///
/// 32 bytes: no payload beyond 24 bytes plus a few flag bytes (rarer, wider ones are
/// boxed). Containers carry `dynamic`: true when their subtree holds a component call, so
/// resolution can skip static subtrees.
pub(crate) enum Node {
    Page(Box<PageNode>),
    Stack {
        kind: StackKind,
        dynamic: bool,
        children: Vec<Element>,
    },
    Fragment {
        dynamic: bool,
        children: Vec<Element>,
    },
    Text(Str),
    Markdown {
        source: Str,
        allow_html: bool,
    },
    Divider,
    Progress {
        /// Clamped to `0..=1`; NaN means indeterminate.
        value: f64,
        /// Boxed: an inline `Str` would widen every node.
        message: Option<Box<Str>>,
    },
    Button(Box<ButtonNode>),
    Component(Box<ComponentNode>),
    Chart(Box<ChartNode>),
    /// An error shown in place: a contained panic, a misused option, or `ErrorBox`.
    Error {
        message: Str,
        kind: ErrorKind,
    },
    Table(Box<TableNode>),
    Columns(Box<display::ColumnsNode>),
    Expander(Box<display::ExpanderNode>),
    Alert {
        kind: display::AlertKind,
        message: Str,
    },
    Metric(Box<display::MetricNode>),
    /// A `TextInput`, `NumberInput`, `Slider`, `Select` or `Checkbox` (built in the
    /// session layer, which reads its value).
    Input(Box<input::InputNode>),
}

/// What an error box reports, so a server can hide a panic's details from users.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ErrorKind {
    /// A misused option or an `ErrorBox`: the message is meant for the user.
    Shown,
    /// A contained panic (the app or a component body): the message is
    /// `"<context> panicked: <the panic's text>"`, made only by [`Element::panicked`].
    Panic,
}

/// Between a panic error's context and the panic's own text.
const PANICKED: &str = " panicked: ";

impl Node {
    /// The children of a container (`Page`, stacks, `Fragment`, `Columns`, `Expander`);
    /// empty for leaves and for component calls (their output is not a child list).
    pub(crate) fn children_mut(&mut self) -> &mut [Element] {
        match self {
            Node::Page(p) => &mut p.children,
            Node::Stack { children, .. } | Node::Fragment { children, .. } => children,
            Node::Columns(c) => &mut c.children,
            Node::Expander(e) => &mut e.children,
            _ => &mut [],
        }
    }
}

/// One node of the virtual tree, built by the constructors in [`elements`](crate::elements).
///
/// Options are methods (`.key(..)`, `.title(..)`, `.message(..)`, ...). An option applied
/// to an element it does not belong to (say `.title(..)` on a `Text`) does not panic: the
/// element turns into an error box that names the mistake, so the app keeps running and
/// the mistake is visible where it happened.
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// let tree = VStack([Text("a"), Markdown("**b**")]).key("main");
/// assert_eq!(render_text(&tree), "VStack [main]\n  a\n  b\n");
/// ```
pub struct Element {
    /// Boxed: keys are rare, and an inline `Str` would add 16 bytes to every node.
    pub(crate) key: Option<Box<Str>>,
    pub(crate) node: Node,
}

impl Element {
    #[inline]
    pub(crate) fn new(node: Node) -> Element {
        Element { key: None, node }
    }

    /// True when this subtree holds a component call, so resolution can skip static subtrees.
    #[inline]
    pub(crate) fn dynamic(&self) -> bool {
        match &self.node {
            Node::Page(p) => p.dynamic,
            Node::Stack { dynamic, .. } | Node::Fragment { dynamic, .. } => *dynamic,
            Node::Columns(c) => c.dynamic,
            Node::Expander(e) => e.dynamic,
            Node::Component(_) => true,
            _ => false,
        }
    }

    pub(crate) fn error(message: impl Into<Str>) -> Element {
        Element::new(Node::Error {
            message: message.into(),
            kind: ErrorKind::Shown,
        })
    }

    /// The error box for a contained panic in `context` (`"the app"`, "component `X`"),
    /// marked as one ([`ErrorKind::Panic`]) so a server can show a reference instead.
    pub(crate) fn panicked(context: &str, panic: &str) -> Element {
        debug_assert!(
            !context.contains(PANICKED),
            "the context never holds the separator, so the panic's text can be found again"
        );
        Element::new(Node::Error {
            message: format!("{context}{PANICKED}{panic}").into(),
            kind: ErrorKind::Panic,
        })
    }

    /// Replaces the message of every contained-panic error box in this tree (component
    /// outputs included) with `f(<the panic's text>)`; the boxes stay marked as panics.
    #[cfg_attr(not(feature = "serve"), allow(dead_code))]
    pub(crate) fn rewrite_panics(&mut self, f: &mut dyn FnMut(&str) -> String) {
        if let Some(text) = self.panic_text() {
            let message = f(text);
            self.node = Node::Error {
                message: message.into(),
                kind: ErrorKind::Panic,
            };
            return;
        }
        match &mut self.node {
            Node::Component(c) => {
                if let Some(out) = c.output_mut() {
                    out.rewrite_panics(f);
                }
            }
            node => node
                .children_mut()
                .iter_mut()
                .for_each(|c| c.rewrite_panics(f)),
        }
    }

    /// The panic's own text, when this is a contained-panic error box.
    #[cfg_attr(not(feature = "serve"), allow(dead_code))]
    pub(crate) fn panic_text(&self) -> Option<&str> {
        match &self.node {
            Node::Error {
                message,
                kind: ErrorKind::Panic,
            } => message.as_str().split_once(PANICKED).map(|(_, text)| text),
            _ => None,
        }
    }

    /// An element that renders nothing (an empty [`Fragment`](crate::elements::Fragment)).
    ///
    /// # Example
    /// ```
    /// assert_eq!(streamtree::render_text(&streamtree::Element::empty()), "");
    /// ```
    pub fn empty() -> Element {
        Element::new(Node::Fragment {
            dynamic: false,
            children: Vec::new(),
        })
    }

    /// Gives the element a key: a stable identity for the HTML `data-st-key` marker, for a
    /// component's render path (so its state follows the key, not its position), and for a
    /// button's click address. A blank key is an error shown in place.
    ///
    /// # Example
    /// ```
    /// use streamtree::prelude::*;
    /// assert!(render_html(&Text("hi").key("greeting")).contains(r#"data-st-key="greeting""#));
    /// ```
    pub fn key(mut self, key: impl Into<Str>) -> Element {
        let key = key.into();
        if key.trim().is_empty() {
            return Element::error(format!(
                "blank key {key:?} on `{}`: a key must contain a non-space character",
                self.kind_name()
            ));
        }
        self.key = Some(Box::new(key));
        self
    }

    /// The key given with [`Element::key`], if any.
    ///
    /// # Example
    /// ```
    /// use streamtree::prelude::*;
    /// assert_eq!(Divider().key("d").key_str(), Some("d"));
    /// ```
    pub fn key_str(&self) -> Option<&str> {
        self.key.as_deref().map(Str::as_str)
    }

    /// The element's kind as its constructor's name: `"Page"`, `"Text"`, the component's
    /// function name, ...
    ///
    /// # Example
    /// ```
    /// use streamtree::prelude::*;
    /// assert_eq!(Card([Divider()]).kind_name(), "Card");
    /// ```
    pub fn kind_name(&self) -> &'static str {
        match &self.node {
            Node::Page(_) => "Page",
            Node::Stack { kind, .. } => kind.name(),
            Node::Fragment { .. } => "Fragment",
            Node::Text(_) => "Text",
            Node::Markdown { .. } => "Markdown",
            Node::Divider => "Divider",
            Node::Progress { .. } => "ProgressBar",
            Node::Button(_) => "Button",
            Node::Component(c) => c.name,
            Node::Chart(c) => c.kind.name(),
            Node::Error { .. } => "ErrorBox",
            Node::Table(_) => "Table",
            Node::Columns(_) => "Columns",
            Node::Expander(_) => "Expander",
            Node::Alert { kind, .. } => kind.name(),
            Node::Metric(_) => "Metric",
            Node::Input(i) => i.kind.name(),
        }
    }

    fn misuse(self, option: &str, belongs_to: &str) -> Element {
        // Keep an error box as it is: the first mistake is the one worth showing.
        if matches!(self.node, Node::Error { .. }) {
            return self;
        }
        Element::error(format!(
            "`.{option}(..)` applies to `{belongs_to}`, not to `{}`",
            self.kind_name()
        ))
    }

    /// Sets a [`Page`](crate::elements::Page)'s title (the document `<title>` and the text
    /// heading), or a chart's caption.
    ///
    /// # Example
    /// ```
    /// use streamtree::prelude::*;
    /// assert_eq!(render_text(&Page([Text("x")]).title("Demo")), "Page \"Demo\"\n  x\n");
    /// ```
    pub fn title(mut self, title: impl Into<Str>) -> Element {
        match &mut self.node {
            Node::Page(p) => {
                p.title = Some(title.into());
                self
            }
            Node::Chart(c) => {
                c.title = Some(title.into());
                self
            }
            _ => self.misuse("title", "Page`, `LineChart` or `BarChart"),
        }
    }

    /// Sets a [`ProgressBar`](crate::elements::ProgressBar)'s message.
    ///
    /// # Example
    /// ```
    /// use streamtree::prelude::*;
    /// assert!(render_text(&ProgressBar(0.5).message("half")).ends_with("50% half\n"));
    /// ```
    pub fn message(mut self, message: impl Into<Str>) -> Element {
        match &mut self.node {
            Node::Progress { message: m, .. } => {
                *m = Some(Box::new(message.into()));
                self
            }
            _ => self.misuse("message", "ProgressBar"),
        }
    }

    /// Renders a [`Markdown`](crate::elements::Markdown) element's raw HTML and links of any
    /// scheme as written, as Streamlit's `st.markdown(.., unsafe_allow_html=True)` does. Only
    /// for trusted text.
    ///
    /// # Example
    /// ```
    /// use streamtree::prelude::*;
    /// let md = Markdown("<b>bold</b>").unsafe_allow_html(true);
    /// assert!(render_html(&md).contains("<b>bold</b>"));
    /// ```
    pub fn unsafe_allow_html(mut self, allow: bool) -> Element {
        match &mut self.node {
            Node::Markdown { allow_html, .. } => {
                *allow_html = allow;
                self
            }
            _ => self.misuse("unsafe_allow_html", "Markdown"),
        }
    }

    /// Sets the handler a [`Button`](crate::elements::Button) runs when clicked. Live
    /// runners and [`AppTest::click`](crate::testing::AppTest::click) call it before the
    /// next rerun, in Streamlit's order.
    ///
    /// # Example
    /// ```
    /// use streamtree::prelude::*;
    /// let b = Button("Go").key("go").on_click(|| println!("clicked"));
    /// assert_eq!(render_text(&b), "[ Go ]\n");
    /// ```
    pub fn on_click(mut self, f: impl FnMut() + Send + 'static) -> Element {
        match &mut self.node {
            Node::Button(b) => {
                b.on_click = Some(Arc::new(Mutex::new(f)));
                self
            }
            _ => self.misuse("on_click", "Button"),
        }
    }

    /// Disables (or re-enables) a [`Button`](crate::elements::Button).
    ///
    /// # Example
    /// ```
    /// use streamtree::prelude::*;
    /// assert_eq!(render_text(&Button("Go").disabled(true)), "[ Go ] (disabled)\n");
    /// ```
    pub fn disabled(mut self, disabled: bool) -> Element {
        match &mut self.node {
            Node::Button(b) => {
                b.disabled = disabled;
                self
            }
            _ => self.misuse("disabled", "Button"),
        }
    }

    /// The children of a container element (`Page`, stacks, `Card`, `Fragment`,
    /// `Columns`, `Expander`), or of a
    /// resolved component call; empty for leaves.
    pub(crate) fn children(&self) -> &[Element] {
        match &self.node {
            Node::Page(p) => &p.children,
            Node::Stack { children, .. } | Node::Fragment { children, .. } => children,
            Node::Columns(c) => &c.children,
            Node::Expander(e) => &e.children,
            Node::Component(c) => c.output().map(std::slice::from_ref).unwrap_or(&[]),
            _ => &[],
        }
    }
}

/// Hands a container's children `Vec` back to this thread's pool (see `pool`), so the
/// next rerun's tree reuses warm memory instead of faulting fresh pages in.
impl Drop for Element {
    fn drop(&mut self) {
        let children = match &mut self.node {
            Node::Stack { children, .. } | Node::Fragment { children, .. } => children,
            Node::Page(p) => &mut p.children,
            Node::Columns(c) => &mut c.children,
            Node::Expander(e) => &mut e.children,
            _ => return,
        };
        pool::recycle(std::mem::take(children));
    }
}

impl From<&str> for Element {
    fn from(s: &str) -> Element {
        Element::new(Node::Text(s.into()))
    }
}
impl From<String> for Element {
    fn from(s: String) -> Element {
        Element::new(Node::Text(s.into()))
    }
}
impl From<&String> for Element {
    fn from(s: &String) -> Element {
        Element::new(Node::Text(s.into()))
    }
}
impl From<Str> for Element {
    fn from(s: Str) -> Element {
        Element::new(Node::Text(s))
    }
}
impl<T: Into<Element>> From<Option<T>> for Element {
    fn from(o: Option<T>) -> Element {
        o.map_or_else(Element::empty, Into::into)
    }
}
impl<T: Into<Element>> From<Vec<T>> for Element {
    fn from(v: Vec<T>) -> Element {
        crate::elements::Fragment(v)
    }
}
impl From<()> for Element {
    fn from((): ()) -> Element {
        Element::empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn element_stays_small() {
        // The whole tree is a Vec<Element> per container: its size is the per-node cost.
        assert!(
            std::mem::size_of::<Element>() <= 40,
            "{}",
            std::mem::size_of::<Element>()
        );
    }

    #[test]
    fn children_buffers_are_recycled_within_budget() {
        use crate::elements::{HStack, Text, VStack};
        let ptr = |e: &Element| e.children().as_ptr();
        let first = HStack((0..50).map(Text));
        let p = ptr(&first);
        drop(first);
        // The freed buffer is the one the next same-sized container gets.
        let second = VStack((0..50).map(Text));
        assert_eq!(ptr(&second), p);
        assert_eq!(second.children().len(), 50);
        drop(second);
        // A buffer over the budget is freed, not kept.
        let over = pool::BUDGET / std::mem::size_of::<Element>() + 1;
        drop(HStack((0..over).map(|_| Text("x"))));
        assert_eq!(pool::take(over).capacity(), 0);
    }

    #[test]
    fn element_is_send_and_sync() {
        fn is_send_sync<T: Send + Sync>() {}
        is_send_sync::<Element>();
    }

    #[test]
    fn dynamic_flag_propagates_only_from_components() {
        use crate::elements::{Fragment, VStack};
        let stat = Fragment([Element::from("a")]);
        assert!(!stat.dynamic());
        let comp = component("C", None, Element::empty);
        let dynamic = VStack([stat, comp]);
        assert!(dynamic.dynamic());
        assert!(Fragment([VStack([Element::from("b")]), dynamic]).dynamic());
    }
}
