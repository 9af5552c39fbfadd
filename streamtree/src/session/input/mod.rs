//! Input widgets that read their value from the session: [`TextInput`](struct@TextInput), [`NumberInput`](struct@NumberInput),
//! [`Slider`](struct@Slider), [`Select`](struct@Select), [`Checkbox`](struct@Checkbox), and the typed [`InputHandle`] a button handler
//! sets them with.
//!
//! # How values work
//!
//! Each input has a label, a key (its address; the label when no `.key(..)` is given)
//! and a default. Its value lives in the session under the key, session-wide (like
//! [`session_state`](crate::session::session_state)): a builder's `.value()` reads it in the same
//! rerun, typed (`NumberInput<i64>` gives an `i64`, `Select<Region>` a `Region`), so it
//! can be a task's input; turning the builder into an [`Element`] renders it with the
//! same value.
//!
//! ```
//! use streamtree::prelude::*;
//! let mut app = AppTest::new(|| {
//!     let region = Select("Region", ["EU", "US"]).key("region");
//!     let days = Slider("Days", 1..=30).key("days").default(7);
//!     let (r, d) = (region.value(), days.value());
//!     view! { VStack { {region} {days} Text(format!("{r} for {d} days")) } }
//! });
//! assert_eq!(app.run().text(), "VStack\n  Region: [EU ▾]\n  Days: 7 ├────●───────────────┤ 1..=30\n  EU for 7 days\n");
//! app.set_input("region", "US").unwrap();
//! assert!(app.text().ends_with("US for 7 days\n"));
//! ```
//!
//! Values change through [`Session::set_input`] (a form post, the live server's script,
//! [`AppTest::set_input`](crate::testing::AppTest::set_input)), which takes the text a form
//! posts and checks it against the input as the last rerun rendered it, and through an
//! [`InputHandle`], which checks a typed value against its own widget. Refused values
//! change nothing and come back as an [`InputError`] naming key and value.
//!
//! **A widget not rendered in a rerun keeps its value**: values are keyed by the input's
//! key for the whole session and never swept, so a filter hidden behind an `if` or in a
//! closed `Expander` comes back as it was. When the widget returns with constraints its
//! value no longer meets (an option gone, a smaller range), it shows its default until
//! set again. A key rendered by another kind of widget drops the old kind's value.
//! Two inputs with one key in one rerun show an error in place of the second.

mod number;
mod widgets;

use std::sync::Arc;

use crate::element::input::{InputKind, InputNode};
use crate::element::{Element, Node, Str};
use crate::session::Session;
use crate::session::state::{State, Store};

pub use crate::element::input::{InputError, InputErrorKind};
pub use number::Number;
pub use widgets::{Checkbox, NumberInput, Select, SelectOption, Slider, TextInput};

/// Where input values sit in the session's state store: a path no render path or
/// `session_state` key can have.
const PATH: &str = "\u{1}input";

/// An input's value in the session.
#[derive(Default)]
pub(crate) struct InputSlot {
    /// The kind that last rendered or set this key (`""` before either).
    kind: &'static str,
    /// The canonical text last set; `None` means "the default".
    value: Option<String>,
}

pub(crate) fn slot(store: &Store, key: &str) -> State<InputSlot> {
    store.get_or_init(Str::from(PATH), key, false, InputSlot::default)
}

/// Stores the canonical `text` for an input of `kind`.
pub(crate) fn store(slot: &State<InputSlot>, kind: &'static str, text: String) {
    slot.update(|s| {
        s.kind = kind;
        s.value = Some(text);
    });
}

/// What every input builder tells the shared code.
pub(crate) trait Widget: Send + Sync + 'static {
    type Value: Clone + Send + 'static;
    /// The label.
    fn label(&self) -> &Str;
    /// The `.key(..)`, if given.
    fn given_key(&self) -> Option<&Str>;
    fn disabled(&self) -> bool;
    /// The kind with its constraints, or what is wrong with them.
    fn kind(&self) -> Result<InputKind, String>;
    fn default_value(&self) -> Self::Value;
    fn encode(&self, value: &Self::Value) -> String;
    /// The value of a canonical text that passed [`InputNode::parse`].
    fn decode(&self, text: &str) -> Option<Self::Value>;
}

fn key_of<W: Widget + ?Sized>(w: &W) -> &Str {
    w.given_key().unwrap_or(w.label())
}

/// The node with the default as its value, or the configuration mistake.
fn spec<W: Widget + ?Sized>(w: &W) -> Result<InputNode, String> {
    let key = key_of(w);
    let kind = w.kind()?;
    let name = kind.name();
    if key.trim().is_empty() {
        return Err(format!(
            "`{name}` with a blank label needs a `.key(..)` with a non-space character"
        ));
    }
    let mut node = InputNode {
        kind,
        label: w.label().clone(),
        key: key.clone(),
        value: String::new(),
        disabled: w.disabled(),
    };
    let default = w.encode(&w.default_value());
    node.value = node.parse_enabled(&default).map_err(|why| {
        let err = InputError::new(key, &default, why);
        format!("`{name}` default does not fit: {err}")
    })?;
    Ok(node)
}

/// The value and the node to render, read from `slot`, or the configuration mistake.
fn read<W: Widget + ?Sized>(
    w: &W,
    slot: &State<InputSlot>,
) -> Result<(W::Value, InputNode), String> {
    let mut node = spec(w)?;
    let kind = node.kind.name();
    let stored = slot.with(|s| (s.kind == kind).then(|| s.value.clone()).flatten());
    if let Some(text) = stored
        && let Ok(canonical) = node.parse_enabled(&text)
        && let Some(value) = w.decode(&canonical)
    {
        node.value = canonical;
        return Ok((value, node));
    }
    Ok((w.default_value(), node))
}

/// The value of `w` read from `slot`: a misconfigured widget gives its default.
fn read_value<W: Widget + ?Sized>(w: &W, slot: &State<InputSlot>) -> W::Value {
    read(w, slot).map_or_else(|_| w.default_value(), |(value, _)| value)
}

fn current_slot<W: Widget>(w: &W) -> State<InputSlot> {
    slot(Session::current().state_store(), key_of(w))
}

/// The value `w` shows in this rerun.
#[track_caller]
fn value<W: Widget>(w: &W) -> W::Value {
    read_value(w, &current_slot(w))
}

/// `w` as an element, with its value; records its kind on the key. Outside a session
/// (a snapshot of a bare widget) it shows its default.
fn element<W: Widget>(w: W) -> Element {
    let slot = match Session::try_current() {
        Some(session) => slot(session.state_store(), key_of(&w)),
        None => State::detached(InputSlot::default()),
    };
    match read(&w, &slot) {
        Ok((_, node)) => {
            let kind = node.kind.name();
            slot.update(|s| {
                if s.kind != kind {
                    // Another kind's value means nothing to this one.
                    s.kind = kind;
                    s.value = None;
                }
            });
            let key = node.key.clone();
            let mut el = Element::new(Node::Input(Box::new(node)));
            el.key = Some(Box::new(key));
            el
        }
        Err(mistake) => Element::error(mistake),
    }
}

fn handle<W: Widget>(w: W) -> InputHandle<W::Value> {
    InputHandle {
        slot: current_slot(&w),
        widget: Arc::new(w),
    }
}

/// A typed handle on an input's value, for button handlers and tasks: `set` checks the
/// value against the widget it came from, as a form post is checked. Cheap to clone,
/// `Send`; it holds the value's slot, not the session.
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// let mut app = AppTest::new(|| {
///     let days = Slider("Days", 1..=30).key("days").default(7);
///     let week = days.handle();
///     let shown = days.value();
///     VStack([
///         days.into(),
///         Button("Two weeks").key("two").on_click(move || week.set(14).unwrap()),
///         Text(format!("{shown} days")),
///     ])
/// });
/// app.run();
/// assert!(app.click("two").unwrap().text().ends_with("14 days\n"));
/// ```
pub struct InputHandle<T> {
    slot: State<InputSlot>,
    widget: Arc<dyn Widget<Value = T>>,
}

impl<T> Clone for InputHandle<T> {
    fn clone(&self) -> Self {
        InputHandle {
            slot: self.slot.clone(),
            widget: self.widget.clone(),
        }
    }
}

impl<T: Clone + Send + 'static> InputHandle<T> {
    /// The input's key.
    ///
    /// # Example
    /// ```
    /// use streamtree::prelude::*;
    /// Session::new().enter(|| assert_eq!(Checkbox("Agree").handle().key(), "Agree"));
    /// ```
    pub fn key(&self) -> &str {
        key_of(&*self.widget)
    }

    /// The current value (the default until one is set).
    ///
    /// # Example
    /// ```
    /// use streamtree::prelude::*;
    /// Session::new().enter(|| assert_eq!(TextInput("Name").default("Ada").handle().get(), "Ada"));
    /// ```
    pub fn get(&self) -> T {
        read_value(&*self.widget, &self.slot)
    }

    /// Sets the value the next rerun shows.
    ///
    /// # Errors
    /// An [`InputError`] when the value breaks the widget's constraints, the widget is
    /// disabled or misconfigured, or another kind of input now holds the key; nothing
    /// changes then.
    ///
    /// # Example
    /// ```
    /// use streamtree::prelude::*;
    /// Session::new().enter(|| {
    ///     let n = NumberInput("Count").min(0).max(9).handle();
    ///     n.set(3).unwrap();
    ///     assert_eq!(n.get(), 3);
    ///     assert_eq!(n.set(12).unwrap_err().to_string(), "input `Count`: `12` is outside 0..=9");
    /// });
    /// ```
    pub fn set(&self, value: T) -> Result<(), InputError> {
        let w = &*self.widget;
        let text = w.encode(&value);
        let key = key_of(w);
        let node = spec(w).map_err(|reason| {
            InputError::new(key, &text, InputErrorKind::Misconfigured { reason })
        })?;
        let canonical = node
            .parse(&text)
            .map_err(|why| InputError::new(key, &text, why))?;
        let kind = node.kind.name();
        self.slot.update(|s| {
            if !s.kind.is_empty() && s.kind != kind {
                return Err(InputError::new(
                    key,
                    &text,
                    InputErrorKind::WrongKind {
                        expected: kind,
                        found: s.kind,
                    },
                ));
            }
            s.kind = kind;
            s.value = Some(canonical);
            Ok(())
        })
    }
}

impl<T: Clone + Send + 'static> std::fmt::Debug for InputHandle<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InputHandle")
            .field("key", &key_of(&*self.widget).as_str())
            .finish_non_exhaustive()
    }
}

/// Implements the methods every input builder shares, and `Into<Element>`.
macro_rules! common {
    ($ty:ident $(<$t:ident: $b:path>)?, $value:ty, $example:literal) => {
        impl$(<$t: $b>)? $ty$(<$t>)? {
            /// Gives the input a key: its address for form posts and
            /// [`AppTest::set_input`](crate::testing::AppTest::set_input), and where its value
            /// lives in the session. Without one, the label is the key.
            ///
            /// # Example
            /// ```
            /// use streamtree::prelude::*;
            #[doc = concat!("let el: Element = ", $example, ".key(\"k\").into();")]
            /// assert_eq!(el.key_str(), Some("k"));
            /// ```
            pub fn key(mut self, key: impl Into<Str>) -> Self {
                self.key = Some(key.into());
                self
            }

            /// Disables (or re-enables) the input: shown greyed, and changes are refused.
            ///
            /// # Example
            /// ```
            /// use streamtree::prelude::*;
            #[doc = concat!("let el: Element = ", $example, ".disabled(true).into();")]
            /// assert!(render_text(&el).ends_with("(disabled)\n"));
            /// ```
            pub fn disabled(mut self, disabled: bool) -> Self {
                self.disabled = disabled;
                self
            }

            /// The value in this rerun: the session's, or the default (also when the
            /// widget is misconfigured: its element shows the mistake). Typed.
            ///
            /// # Panics
            /// With no current session (call it inside a rerun); for a `Select` with
            /// neither options nor a default (it has no value to give).
            ///
            /// # Example
            /// ```
            /// use streamtree::prelude::*;
            #[doc = concat!("Session::new().enter(|| { let _v = ", $example, ".value(); });")]
            /// ```
            #[track_caller]
            pub fn value(&self) -> $value {
                value(self)
            }

            /// A typed handle to read and set the value later (in a button handler).
            ///
            /// # Panics
            /// With no current session (call it inside a rerun).
            ///
            /// # Example
            /// ```
            /// use streamtree::prelude::*;
            #[doc = concat!("Session::new().enter(|| { let h = ", $example, ".handle(); let _ = h.get(); });")]
            /// ```
            #[track_caller]
            pub fn handle(&self) -> InputHandle<$value> {
                handle(self.clone())
            }
        }

        impl$(<$t: $b>)? From<$ty$(<$t>)?> for Element {
            #[track_caller]
            fn from(w: $ty$(<$t>)?) -> Element {
                element(w)
            }
        }
    };
}
pub(crate) use common;

impl Session {
    /// Sets the input with key `key` from the last rerun to the value a form posts as
    /// `text`. The caller reruns afterwards, as after [`Session::click`].
    ///
    /// # Errors
    /// An [`InputError`] naming key and value when no such input was rendered, it is
    /// disabled, or the text does not fit it; nothing changes then.
    ///
    /// # Example
    /// ```
    /// use streamtree::prelude::*;
    /// let session = Session::new();
    /// session.rerun(|| Select("Region", ["EU", "US"]).into());
    /// session.set_input("Region", "US").unwrap();
    /// let err = session.set_input("Region", "Mars").unwrap_err();
    /// assert_eq!(err.to_string(), "input `Region`: `Mars` is not one of the options EU, US");
    /// ```
    pub fn set_input(&self, key: &str, text: &str) -> Result<(), InputError> {
        self.set_inputs([(key, text)])
    }

    /// Sets several inputs at once (a page-wide form post): every value is checked first,
    /// and nothing changes unless all fit. A value equal to what the input showed in the
    /// last rerun changes nothing.
    ///
    /// # Errors
    /// The first [`InputError`], as for [`set_input`](Self::set_input).
    ///
    /// # Example
    /// ```
    /// use streamtree::prelude::*;
    /// let session = Session::new();
    /// session.rerun(|| VStack([Element::from(TextInput("Name")), Checkbox("Agree").into()]));
    /// assert!(session.set_inputs([("Name", "Grace"), ("Agree", "maybe")]).is_err());
    /// session.set_inputs([("Name", "Grace"), ("Agree", "on")]).unwrap();
    /// ```
    pub fn set_inputs<'a>(
        &self,
        values: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<(), InputError> {
        let mut checked = Vec::new();
        for (key, text) in values {
            let node = self
                .input_spec(key)
                .ok_or_else(|| InputError::new(key, text, InputErrorKind::UnknownKey))?;
            let canonical = node
                .parse(text)
                .map_err(|why| InputError::new(key, text, why))?;
            // A page-wide form posts every input: one showing this value already is
            // left as it is (its default stays a default).
            if canonical != node.value {
                checked.push((key, node.kind.name(), canonical));
            }
        }
        for (key, kind, canonical) in checked {
            store(&slot(self.state_store(), key), kind, canonical);
        }
        Ok(())
    }
}
