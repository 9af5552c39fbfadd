//! Element constructors, capitalised like components (`VStack`, `Text`, `Button`).
//!
//! Every constructor returns an [`Element`], so mixed children sit in one array:
//! `VStack([Text("a"), Markdown("b")])`. Options are methods on [`Element`].
#![allow(non_snake_case)]

mod display;
mod records;
mod table;
mod table_builder;

pub use self::display::{Columns, Expander, Info, Metric, Success, Warning};
pub use self::table::{DataTable, Table};
pub use self::table_builder::{CellText, IntoCell, TableBuilder, TableRow};
pub use crate::element::Align;

use crate::asyncio::Progress;
pub use crate::element::{BarChart, LineChart, Series, XValue};
use crate::element::{ButtonNode, Element, Node, PageNode, StackKind, Str, pool};

/// The children as one `Vec` (a recycled one when the pool has a fitting one), and whether
/// any of them is dynamic (noted in the same pass; for leaf children the check folds away).
#[inline]
fn collect<I>(children: I) -> (Vec<Element>, bool)
where
    I: IntoIterator,
    I::Item: Into<Element>,
{
    let mut dynamic = false;
    let children = children.into_iter();
    let mut out = pool::take(children.size_hint().0);
    out.extend(children.map(|c| {
        let c = c.into();
        dynamic |= c.dynamic();
        c
    }));
    (out, dynamic)
}

fn stack<I>(kind: StackKind, children: I) -> Element
where
    I: IntoIterator,
    I::Item: Into<Element>,
{
    let (children, dynamic) = collect(children);
    Element::new(Node::Stack {
        kind,
        dynamic,
        children,
    })
}

/// The root of an app: a titled page of children.
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// let page = Page([Text("body")]).title("My app");
/// assert!(render_html_document(&page).contains("<title>My app</title>"));
/// ```
pub fn Page<I>(children: I) -> Element
where
    I: IntoIterator,
    I::Item: Into<Element>,
{
    let (children, dynamic) = collect(children);
    Element::new(Node::Page(Box::new(PageNode {
        title: None,
        children,
        dynamic,
    })))
}

/// Children stacked vertically.
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// assert_eq!(render_text(&VStack(["a", "b"])), "VStack\n  a\n  b\n");
/// ```
pub fn VStack<I>(children: I) -> Element
where
    I: IntoIterator,
    I::Item: Into<Element>,
{
    stack(StackKind::VStack, children)
}

/// Children side by side.
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// assert!(render_html(&HStack(["a"])).starts_with(r#"<div class="st-hstack">"#));
/// ```
pub fn HStack<I>(children: I) -> Element
where
    I: IntoIterator,
    I::Item: Into<Element>,
{
    stack(StackKind::HStack, children)
}

/// Children in a bordered card.
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// assert_eq!(render_text(&Card([Text("inside")])), "Card\n  inside\n");
/// ```
pub fn Card<I>(children: I) -> Element
where
    I: IntoIterator,
    I::Item: Into<Element>,
{
    stack(StackKind::Card, children)
}

/// Groups children without a container of its own.
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// assert_eq!(render_text(&Fragment(["a", "b"])), "a\nb\n");
/// ```
pub fn Fragment<I>(children: I) -> Element
where
    I: IntoIterator,
    I::Item: Into<Element>,
{
    let (children, dynamic) = collect(children);
    Element::new(Node::Fragment { dynamic, children })
}

/// Plain text, always escaped by the HTML backend.
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// assert_eq!(render_html(&Text("<b>")), r#"<div class="st-text">&lt;b&gt;</div>"#);
/// ```
pub fn Text(text: impl Into<Str>) -> Element {
    Element::new(Node::Text(text.into()))
}

/// CommonMark text, with GFM tables and `~~strikethrough~~`. Raw HTML in the source is
/// shown as text, and link or image URLs whose scheme is not http, https or mailto (or
/// relative) are dropped, unless [`Element::unsafe_allow_html`] opts out. The text backend
/// lays tables out as [`Table`] does (aligned columns, long cells cut with `…`) and keeps
/// the `~~` marks.
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// assert_eq!(render_html(&Markdown("*hi*")), "<div class=\"st-markdown\"><p><em>hi</em></p>\n</div>");
/// let table = Markdown("| Region | Units |\n|---|--:|\n| EU | 12 |\n| Asia | 7 |");
/// assert_eq!(render_text(&table), "Region  Units\n──────  ─────\nEU         12\nAsia        7\n");
/// ```
pub fn Markdown(source: impl Into<Str>) -> Element {
    Element::new(Node::Markdown {
        source: source.into(),
        allow_html: false,
    })
}

/// A horizontal rule.
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// assert_eq!(render_html(&Divider()), r#"<hr class="st-divider">"#);
/// ```
pub fn Divider() -> Element {
    Element::new(Node::Divider)
}

/// A progress bar. Takes a fraction (0 to 1; out of range clamps, NaN is indeterminate)
/// or a task's progress as the loading branch of `match_task` receives it
/// (`Option<Progress>`, `Progress` or a reference): the bar shows its fraction and
/// message, and is indeterminate while there is no fraction (or no progress yet). Add or
/// replace text with [`Element::message`].
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// assert_eq!(render_text(&ProgressBar(2.0)), "[####################] 100%\n");
/// assert_eq!(render_text(&ProgressBar(f64::NAN)), "[<=>.................] working\n");
/// // A task's progress, in one call:
/// let p: Option<Progress> = Some(Progress::from((0.5, "half way")));
/// assert_eq!(render_text(&ProgressBar(p)), "[##########..........] 50% half way\n");
/// assert_eq!(render_text(&ProgressBar(None::<Progress>)), "[<=>.................] working\n");
/// ```
pub fn ProgressBar(value: impl ProgressValue) -> Element {
    let (fraction, message) = value.into_parts();
    let value = if fraction.is_nan() {
        f64::NAN
    } else {
        fraction.clamp(0.0, 1.0)
    };
    Element::new(Node::Progress {
        value,
        message: message.map(Box::new),
    })
}

/// What [`ProgressBar`] accepts: a fraction (`f64`), or a task's [`Progress`] (owned, by
/// reference, or as the `Option` a loading branch receives).
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// use streamtree::elements::ProgressValue;
/// fn bar(p: impl ProgressValue) -> String { render_text(&ProgressBar(p)) }
/// assert_eq!(bar(0.25), bar(Progress::from(0.25)));
/// assert_eq!(bar(&Progress::from("warming up")), "[<=>.................] working warming up\n");
/// ```
pub trait ProgressValue {
    /// The fraction (NaN when indeterminate) and the message, if any.
    #[doc(hidden)]
    fn into_parts(self) -> (f64, Option<Str>);
}

impl ProgressValue for f64 {
    fn into_parts(self) -> (f64, Option<Str>) {
        (self, None)
    }
}

impl ProgressValue for &Progress {
    fn into_parts(self) -> (f64, Option<Str>) {
        (
            self.fraction().unwrap_or(f64::NAN),
            self.message().map(Str::from),
        )
    }
}

impl ProgressValue for Progress {
    fn into_parts(self) -> (f64, Option<Str>) {
        (&self).into_parts()
    }
}

/// No progress yet: an indeterminate bar.
impl<P: ProgressValue> ProgressValue for Option<P> {
    fn into_parts(self) -> (f64, Option<Str>) {
        self.map_or((f64::NAN, None), P::into_parts)
    }
}

/// A button. Give it a [`key`](Element::key) and an [`on_click`](Element::on_click)
/// handler; without a key, its label is its address.
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// let html = render_html(&Button("Go").key("go"));
/// assert_eq!(html, r#"<button class="st-button" type="submit" name="key" value="go" data-st-key="go">Go</button>"#);
/// ```
pub fn Button(label: impl Into<Str>) -> Element {
    Element::new(Node::Button(Box::new(ButtonNode {
        label: label.into(),
        disabled: false,
        on_click: None,
    })))
}

/// An error box showing `message`: what a contained panic renders as, also available
/// to apps.
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// assert_eq!(render_text(&ErrorBox("disk full")), "! error: disk full\n");
/// ```
pub fn ErrorBox(message: impl Into<Str>) -> Element {
    Element::error(message)
}
