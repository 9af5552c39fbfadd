//! The element tree: the plain value an app function returns and the backends render.
//!
//! Layout for speed: an [`Element`] is one enum value; containers own their children in
//! one `Vec` (one allocation per container, not per node), and short strings live inline
//! in [`Str`] (no allocation up to 24 bytes). Component calls are deferred: their body
//! runs when a rerun resolves the tree (see `crate::component`).

use std::borrow::Cow;
use std::fmt;
use std::sync::{Arc, Mutex};

use compact_str::CompactString;

use crate::component::ComponentNode;

/// A string stored in the tree: inline up to 24 bytes, heap-allocated beyond.
///
/// Every constructor that takes text accepts anything string-like (`&str`, `String`,
/// `&String`, `Cow<str>`, `Box<str>`, `char`) through `Into<Str>`.
///
/// # Example
/// ```
/// use streamtree::Str;
/// let s: Str = "hello".into();
/// assert_eq!(s.as_str(), "hello");
/// assert_eq!(Str::from(String::from("x")), Str::from('x'));
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Str(CompactString);

impl Str {
    /// The text as a `&str`.
    ///
    /// # Example
    /// ```
    /// assert_eq!(streamtree::Str::from("a").as_str(), "a");
    /// ```
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl std::ops::Deref for Str {
    type Target = str;
    fn deref(&self) -> &str {
        self.0.as_str()
    }
}

impl std::borrow::Borrow<str> for Str {
    fn borrow(&self) -> &str {
        self.0.as_str()
    }
}

impl AsRef<str> for Str {
    fn as_ref(&self) -> &str {
        self.0.as_str()
    }
}

impl fmt::Display for Str {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Str {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl serde::Serialize for Str {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl From<&str> for Str {
    fn from(s: &str) -> Self {
        Str(CompactString::new(s))
    }
}
impl From<&mut str> for Str {
    fn from(s: &mut str) -> Self {
        Str(CompactString::new(&*s))
    }
}
impl From<String> for Str {
    fn from(s: String) -> Self {
        Str(CompactString::from(s))
    }
}
impl From<&String> for Str {
    fn from(s: &String) -> Self {
        Str(CompactString::new(s))
    }
}
impl From<Box<str>> for Str {
    fn from(s: Box<str>) -> Self {
        Str(CompactString::from(s))
    }
}
impl From<Cow<'_, str>> for Str {
    fn from(s: Cow<'_, str>) -> Self {
        Str(CompactString::from(s))
    }
}
impl From<char> for Str {
    fn from(c: char) -> Self {
        Str(CompactString::new(c.encode_utf8(&mut [0; 4])))
    }
}
/// Formats straight into the string, without a temporary `String`:
/// `Text(format_args!("{row},{col}"))`.
impl From<fmt::Arguments<'_>> for Str {
    fn from(args: fmt::Arguments<'_>) -> Self {
        if let Some(s) = args.as_str() {
            return Str(CompactString::new(s));
        }
        thread_local! {
            /// Scratch space: formatting into a warm `String` then copying the (usually
            /// inline) result beats growing a fresh string piece by piece.
            static SCRATCH: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
        }
        SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
            Ok(mut buf) => {
                buf.clear();
                let _ = fmt::Write::write_fmt(&mut *buf, args);
                Str(CompactString::new(buf.as_str()))
            }
            // Re-entered from a `Display` impl that itself builds a `Str`.
            Err(_) => Str(CompactString::from(fmt::format(args))),
        })
    }
}
macro_rules! from_integer {
    ($($t:ty)*) => {$(
        /// Decimal digits, formatted with `itoa` (no `core::fmt`).
        impl From<$t> for Str {
            // Inlined: returned through memory, the inline string stalls the caller's
            // copy of it (a store-forwarding miss per cell).
            #[inline]
            fn from(n: $t) -> Self {
                Str(CompactString::new(itoa::Buffer::new().format(n)))
            }
        }
    )*};
}
from_integer!(u8 u16 u32 u64 u128 usize i8 i16 i32 i64 i128 isize);

impl From<&Str> for Str {
    fn from(s: &Str) -> Self {
        s.clone()
    }
}
impl From<Str> for String {
    fn from(s: Str) -> Self {
        s.0.into_string()
    }
}

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
    /// An error shown in place: a contained panic, a misused option, or `ErrorBox`.
    Error(Str),
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
            Node::Component(_) => true,
            _ => false,
        }
    }

    pub(crate) fn error(message: impl Into<Str>) -> Element {
        Element::new(Node::Error(message.into()))
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
            Node::Error(_) => "ErrorBox",
        }
    }

    fn misuse(self, option: &str, belongs_to: &str) -> Element {
        // Keep an error box as it is: the first mistake is the one worth showing.
        if matches!(self.node, Node::Error(_)) {
            return self;
        }
        Element::error(format!(
            "`.{option}(..)` applies to `{belongs_to}`, not to `{}`",
            self.kind_name()
        ))
    }

    /// Sets a [`Page`](crate::elements::Page)'s title (the document `<title>` and the text
    /// heading).
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
            _ => self.misuse("title", "Page"),
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
    /// scheme as written, as the reference's `unsafe_allow_html` does. Only for trusted text.
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

    /// The children of a container element (`Page`, stacks, `Card`, `Fragment`), or of a
    /// resolved component call; empty for leaves.
    pub(crate) fn children(&self) -> &[Element] {
        match &self.node {
            Node::Page(p) => &p.children,
            Node::Stack { children, .. } | Node::Fragment { children, .. } => children,
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
            _ => return,
        };
        pool::recycle(std::mem::take(children));
    }
}

/// Per-thread free list of children `Vec`s.
///
/// Each rerun builds a tree of one `Vec` per container and drops it whole; with glibc the
/// freed top of the heap is often trimmed and the next tree faults every page in again
/// (about half the build time of a 10,000-cell table, and a bimodal one). Recycling the
/// buffers keeps them warm. Bounded: at most [`BUDGET`](pool::BUDGET) bytes of capacity are
/// kept per thread; anything beyond is freed as usual.
pub(crate) mod pool {
    use std::cell::RefCell;

    use super::Element;

    /// Capacity kept per thread, in bytes.
    pub(crate) const BUDGET: usize = 1 << 20;
    const BUDGET_ELEMENTS: usize = BUDGET / std::mem::size_of::<Element>();
    /// How far down the free list to look for a well-fitting buffer.
    const SEARCH: usize = 8;

    struct Pool {
        free: Vec<Vec<Element>>,
        /// Sum of the capacities in `free`, in elements.
        held: usize,
    }

    thread_local! {
        static POOL: RefCell<Pool> = const {
            RefCell::new(Pool { free: Vec::new(), held: 0 })
        };
    }

    /// An empty `Vec` for about `len` children: a recycled one when a fitting one is free.
    #[inline]
    pub(crate) fn take(len: usize) -> Vec<Element> {
        POOL.try_with(|p| {
            let mut p = p.try_borrow_mut().ok()?;
            let fits = |v: &Vec<Element>| v.capacity() >= len && v.capacity() <= 2 * len + 16;
            let n = p.free.len();
            let i = (n.saturating_sub(SEARCH)..n)
                .rev()
                .find(|&i| fits(&p.free[i]))?;
            let v = p.free.swap_remove(i);
            p.held -= v.capacity();
            Some(v)
        })
        .ok()
        .flatten()
        .unwrap_or_default()
    }

    /// Drops the children in `v` (their own buffers come back here first) and keeps the
    /// empty buffer when the budget allows.
    pub(crate) fn recycle(mut v: Vec<Element>) {
        if v.capacity() == 0 {
            return;
        }
        v.clear();
        let _ = POOL.try_with(|p| {
            if let Ok(mut p) = p.try_borrow_mut()
                && p.held + v.capacity() <= BUDGET_ELEMENTS
            {
                p.held += v.capacity();
                p.free.push(std::mem::take(&mut v));
            }
        });
    }
}

impl fmt::Debug for Element {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The serializable tree is the readable form; reuse it.
        fmt::Debug::fmt(&crate::tree::TreeNode::from_element(self), f)
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
        assert_eq!(crate::render::text::render(&second).lines().count(), 51);
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
        let comp = crate::component::component("C", None, Element::empty);
        let dynamic = VStack([stat, comp]);
        assert!(dynamic.dynamic());
        assert!(Fragment([VStack([Element::from("b")]), dynamic]).dynamic());
    }
}
