//! Display widgets' data: `Columns` and `Expander` (containers), alerts and `Metric`
//! (leaves). Plain values; the options that configure them are the `impl Element`
//! methods below.

use std::fmt::Display;

use crate::element::{Element, Node, Str};

/// The text backend's default line width for [`Columns`](crate::elements::Columns).
pub(crate) const DEFAULT_TEXT_WIDTH: usize = 100;

/// The three alert boxes beside `ErrorBox`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AlertKind {
    Info,
    Success,
    Warning,
}

impl AlertKind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            AlertKind::Info => "Info",
            AlertKind::Success => "Success",
            AlertKind::Warning => "Warning",
        }
    }
}

/// Children side by side (boxed in [`Node::Columns`]).
pub(crate) struct ColumnsNode {
    pub(crate) children: Vec<Element>,
    /// True when a child subtree holds a component call.
    pub(crate) dynamic: bool,
    /// One positive, finite weight per child; empty means equal widths.
    pub(crate) widths: Vec<f64>,
    /// The text backend's line width: columns that do not fit are stacked.
    pub(crate) text_width: usize,
}

impl ColumnsNode {
    /// The weight of column `i`.
    pub(crate) fn weight(&self, i: usize) -> f64 {
        self.widths.get(i).copied().unwrap_or(1.0)
    }
}

/// A labelled metric (boxed in [`Node::Metric`]).
pub(crate) struct MetricNode {
    pub(crate) label: Str,
    pub(crate) value: Str,
    /// The change, as given; down when it starts with a minus sign.
    pub(crate) delta: Option<Str>,
}

impl MetricNode {
    /// Whether the delta reads as a fall (a leading `-` or `−`).
    pub(crate) fn down(delta: &str) -> bool {
        delta.trim_start().starts_with(['-', '−'])
    }
}

/// A collapsible section (boxed in [`Node::Expander`]).
pub(crate) struct ExpanderNode {
    pub(crate) label: Str,
    pub(crate) children: Vec<Element>,
    /// True when a child subtree holds a component call.
    pub(crate) dynamic: bool,
    /// Open on first render.
    pub(crate) expanded: bool,
}

impl Element {
    /// Sets the relative widths of [`Columns`](crate::elements::Columns), one weight per
    /// column (`[2, 1]`: the first twice as wide). Weights must be positive and finite,
    /// and as many as the columns; otherwise the element becomes an error box saying so.
    ///
    /// # Example
    /// ```
    /// use streamtree::prelude::*;
    /// let c = Columns([Text("wide"), Text("narrow")]).widths([2, 1]);
    /// assert!(render_html(&c).contains("grid-template-columns:minmax(0,2fr) minmax(0,1fr)"));
    /// ```
    pub fn widths<W: Into<f64>>(mut self, widths: impl IntoIterator<Item = W>) -> Element {
        let Node::Columns(c) = &mut self.node else {
            return self.misuse("widths", "Columns");
        };
        let widths: Vec<f64> = widths.into_iter().map(Into::into).collect();
        if widths.len() != c.children.len() {
            return Element::error(format!(
                "`Columns` has {} columns but `.widths(..)` gave {} weights",
                c.children.len(),
                widths.len()
            ));
        }
        if let Some(w) = widths.iter().find(|w| !(w.is_finite() && **w > 0.0)) {
            return Element::error(format!(
                "`Columns` weight {w} is not a positive number: `.widths(..)` takes relative widths such as [2, 1]"
            ));
        }
        c.widths = widths;
        self
    }

    /// Sets the line width (in display columns, default 100) within which the text
    /// backend lays [`Columns`](crate::elements::Columns) side by side; columns whose
    /// content does not fit their share are stacked instead. HTML is unaffected.
    ///
    /// # Example
    /// ```
    /// use streamtree::prelude::*;
    /// let c = Columns(["left", "right"]);
    /// assert_eq!(render_text(&c), "Columns\n  left                                              right\n");
    /// assert_eq!(render_text(&c.text_width(10)), "Columns\n  left\n  right\n");
    /// ```
    pub fn text_width(mut self, width: usize) -> Element {
        match &mut self.node {
            Node::Columns(c) => {
                c.text_width = width;
                self
            }
            _ => self.misuse("text_width", "Columns"),
        }
    }

    /// Sets a [`Metric`](crate::elements::Metric)'s change since the last value: shown as
    /// a rise (green, `▲`) unless it starts with a minus sign (`-` or `−`), then as a fall
    /// (red, `▼`).
    ///
    /// # Example
    /// ```
    /// use streamtree::prelude::*;
    /// assert_eq!(render_text(&Metric("Sales", 120).delta("+5%")), "Sales: 120 (▲ +5%)\n");
    /// assert_eq!(render_text(&Metric("Sales", 120).delta(-3)), "Sales: 120 (▼ -3)\n");
    /// ```
    pub fn delta(mut self, delta: impl Display) -> Element {
        match &mut self.node {
            Node::Metric(m) => {
                m.delta = Some(Str::from(format_args!("{delta}")));
                self
            }
            _ => self.misuse("delta", "Metric"),
        }
    }

    /// Opens (or closes) an [`Expander`](crate::elements::Expander) on first render
    /// (default closed). The text backend always shows it open.
    ///
    /// # Example
    /// ```
    /// use streamtree::prelude::*;
    /// assert!(render_html(&Expander("More", ["x"]).expanded(true)).starts_with("<details class=\"st-expander\" open>"));
    /// ```
    pub fn expanded(mut self, expanded: bool) -> Element {
        match &mut self.node {
            Node::Expander(e) => {
                e.expanded = expanded;
                self
            }
            _ => self.misuse("expanded", "Expander"),
        }
    }
}
