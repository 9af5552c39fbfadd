//! A serializable, comparable view of a rendered tree, for structured snapshots
//! (`insta::assert_json_snapshot!`, `assert_debug_snapshot!`) and assertions.

use std::fmt;

use serde::Serialize;

use crate::element::{Element, Node, unresolved};

/// One node of [`render_to_tree`]'s output. Component calls appear as nodes of their
/// function's name with their output as the only child (an `ErrorBox` naming the fix
/// when no rerun resolved them).
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// let tree = streamtree::render_to_tree(&VStack([Text("a")]).key("k"));
/// assert_eq!(tree.kind, "VStack");
/// assert_eq!(tree.key.as_deref(), Some("k"));
/// assert_eq!(tree.children[0].text.as_deref(), Some("a"));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct TreeNode {
    /// The constructor or component name.
    pub kind: &'static str,
    /// The element's key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Text, Markdown source, button label, page title, error or alert message, a
    /// table's header (joined by `, `), a metric's label or an expander's label.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// A progress bar's fraction (`None` when indeterminate).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    /// A progress bar's message, a table's row count (`"3 rows"`), or a metric's value
    /// and delta (`"120 (+5%)"`), or an input's value (as a form posts it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// True for a disabled button or input, Markdown that allows raw HTML, or an expanded
    /// `Expander`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub flag: bool,
    /// Child nodes in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<TreeNode>,
}

impl TreeNode {
    pub(crate) fn from_element(el: &Element) -> TreeNode {
        let mut node = TreeNode {
            kind: el.kind_name(),
            key: el.key.as_ref().map(|k| k.to_string()),
            text: None,
            value: None,
            message: None,
            flag: false,
            children: match &el.node {
                Node::Component(c) if c.output().is_none() => {
                    vec![TreeNode::from_element(&unresolved(c.name))]
                }
                _ => el.children().iter().map(TreeNode::from_element).collect(),
            },
        };
        match &el.node {
            Node::Page(p) => node.text = p.title.as_ref().map(|t| t.to_string()),
            Node::Chart(c) => node.text = c.title.as_ref().map(|t| t.to_string()),
            Node::Text(t) | Node::Error { message: t, .. } => node.text = Some(t.to_string()),
            Node::Markdown { source, allow_html } => {
                node.text = Some(source.to_string());
                node.flag = *allow_html;
            }
            Node::Progress { value, message } => {
                node.value = (!value.is_nan()).then_some(*value);
                node.message = message.as_ref().map(|m| m.to_string());
            }
            Node::Button(b) => {
                node.text = Some(b.label.to_string());
                node.flag = b.disabled;
            }
            Node::Table(t) => {
                node.text = (!t.header.is_empty()).then(|| t.header.join(", "));
                node.message = Some(format!("{} rows", t.row_count()));
            }
            Node::Alert { message, .. } => node.text = Some(message.to_string()),
            Node::Metric(m) => {
                node.text = Some(m.label.to_string());
                node.message = Some(match &m.delta {
                    Some(d) => format!("{} ({d})", m.value),
                    None => m.value.to_string(),
                });
            }
            Node::Input(i) => {
                node.text = Some(i.label.to_string());
                node.message = Some(i.value.clone());
                node.flag = i.disabled;
            }
            Node::Expander(e) => {
                node.text = Some(e.label.to_string());
                node.flag = e.expanded;
            }
            Node::Stack { .. }
            | Node::Fragment { .. }
            | Node::Columns(_)
            | Node::Divider
            | Node::Component(_) => {}
        }
        node
    }
}

/// The tree `el` renders as, as plain data. Pure, like the renderers: component calls
/// show what their rerun resolved.
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// let t = streamtree::render_to_tree(&ProgressBar(0.5).message("half"));
/// assert_eq!((t.value, t.message.as_deref()), (Some(0.5), Some("half")));
/// ```
pub fn render_to_tree(el: &Element) -> TreeNode {
    TreeNode::from_element(el)
}

/// The readable form of an element is its [`TreeNode`].
impl fmt::Debug for Element {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&TreeNode::from_element(self), f)
    }
}
