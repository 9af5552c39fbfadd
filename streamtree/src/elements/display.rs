//! Display widget constructors: [`Columns`], the alert boxes beside `ErrorBox`
//! ([`Info`], [`Success`], [`Warning`]), [`Metric`] and [`Expander`].

use std::fmt::Display;

use super::collect;
use crate::element::display::{
    AlertKind, ColumnsNode, DEFAULT_TEXT_WIDTH, ExpanderNode, MetricNode,
};
use crate::element::{Element, Node, Str};

/// Children side by side, one column each, of equal width unless [`Element::widths`]
/// gives relative weights. HTML: a CSS grid (`grid-template-columns` from the weights)
/// that stacks on narrow screens. Text: the columns side by side when each one's content
/// fits its share of the line (100 display columns, see [`Element::text_width`]),
/// stacked otherwise.
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// let row = Columns([Metric("Units", 80), Metric("Revenue", "€1,200")]).widths([1, 2]);
/// assert_eq!(render_text(&row), "Columns\n  Units: 80                         Revenue: €1,200\n");
/// ```
pub fn Columns<I>(children: I) -> Element
where
    I: IntoIterator,
    I::Item: Into<Element>,
{
    let (children, dynamic) = collect(children);
    Element::new(Node::Columns(Box::new(ColumnsNode {
        children,
        dynamic,
        widths: Vec::new(),
        text_width: DEFAULT_TEXT_WIDTH,
    })))
}

fn alert(kind: AlertKind, message: impl Into<Str>) -> Element {
    Element::new(Node::Alert {
        kind,
        message: message.into(),
    })
}

/// A blue information box, like [`ErrorBox`](crate::elements::ErrorBox).
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// assert_eq!(render_text(&Info("refreshed at 12:00")), "i info: refreshed at 12:00\n");
/// assert_eq!(render_html(&Info("<hi>")), r#"<div class="st-info" role="status">&lt;hi&gt;</div>"#);
/// ```
pub fn Info(message: impl Into<Str>) -> Element {
    alert(AlertKind::Info, message)
}

/// A green success box, like [`ErrorBox`](crate::elements::ErrorBox).
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// assert_eq!(render_text(&Success("saved")), "✓ success: saved\n");
/// ```
pub fn Success(message: impl Into<Str>) -> Element {
    alert(AlertKind::Success, message)
}

/// A yellow warning box, like [`ErrorBox`](crate::elements::ErrorBox).
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// assert_eq!(render_text(&Warning("stale data")), "! warning: stale data\n");
/// ```
pub fn Warning(message: impl Into<Str>) -> Element {
    alert(AlertKind::Warning, message)
}

/// A labelled value, as on a dashboard: `Metric("Revenue", 1200)`. Add the change with
/// [`Element::delta`] (an arrow, coloured in HTML).
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// let m = Metric("Revenue", "€1,200").delta("+4%");
/// assert_eq!(render_text(&m), "Revenue: €1,200 (▲ +4%)\n");
/// assert!(render_html(&m).contains(r#"<div class="st-metric-delta st-up">"#));
/// ```
pub fn Metric(label: impl Into<Str>, value: impl Display) -> Element {
    Element::new(Node::Metric(Box::new(MetricNode {
        label: label.into(),
        value: Str::from(format_args!("{value}")),
        delta: None,
    })))
}

/// A collapsible section: a label that opens to show `children`. HTML: `<details>` with
/// a `<summary>`, so it opens and closes without JavaScript (closed unless
/// [`Element::expanded`]). Text: always shown open, the children indented under `▾ label`.
/// In `view!`, the children are its second argument; nest `view!` there for `for`/`if`.
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// let e = Expander("Details", [Text("line 1"), Text("line 2")]);
/// assert_eq!(render_text(&e), "▾ Details\n  line 1\n  line 2\n");
/// assert!(render_html(&e).starts_with("<details class=\"st-expander\"><summary>Details</summary>"));
/// let lines = ["a", "b"];
/// let e = view! { Expander("Lines", [view! { for l in lines { Text(l) } }]).expanded(true) };
/// assert_eq!(render_text(&e), "▾ Lines\n  a\n  b\n");
/// ```
pub fn Expander<I>(label: impl Into<Str>, children: I) -> Element
where
    I: IntoIterator,
    I::Item: Into<Element>,
{
    let (children, dynamic) = collect(children);
    Element::new(Node::Expander(Box::new(ExpanderNode {
        label: label.into(),
        children,
        dynamic,
        expanded: false,
    })))
}
