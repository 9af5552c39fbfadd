//! The keyboard focus model: a list of focusable items (enabled buttons and inputs) built
//! from each resolved tree, and which one has focus.
//!
//! Invariants:
//! - the items are in page order (depth first), so Tab moves down the page;
//! - focus is held by address (a button's key, else its label: the address
//!   [`Session::click`](crate::Session::click) takes; an input's key, the address
//!   [`Session::set_input`](crate::Session::set_input) takes), so it follows its item across
//!   reruns; if the item disappears, focus moves to the item now at its position (or the
//!   last one), and to nothing when no item is left.

use crate::element::input::{Bounds, InputKind, InputNode};
use crate::element::{Element, Node, Str};

/// Something the keyboard can reach.
///
/// Each kind gets its keys in the runner's key handling (`mod.rs`, `command`): a button
/// Enter and Space; a text or number input typing; a select or slider the arrows; a
/// checkbox Space.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Focusable {
    /// An enabled button; Enter or Space presses it.
    Button {
        /// Its click address.
        address: Str,
    },
    /// An enabled input, as the last rerun showed it (its key is its address).
    Input(Box<InputNode>),
}

impl Focusable {
    pub(crate) fn address(&self) -> &str {
        match self {
            Focusable::Button { address } => address,
            Focusable::Input(node) => &node.key,
        }
    }

    /// True for the inputs that take typed text (text and number inputs).
    pub(crate) fn takes_text(&self) -> bool {
        matches!(self, Focusable::Input(node)
            if matches!(node.kind, InputKind::Text { .. } | InputKind::Number { .. }))
    }
}

/// The value one arrow press gives a focused `Select` (previous / next option) or
/// `Slider` (one step, staying in its range and on its steps); `None` when the arrow
/// changes nothing (an end of the range, another kind of input).
pub(crate) fn arrow_value(node: &InputNode, forward: bool) -> Option<String> {
    match &node.kind {
        InputKind::Select { options } => {
            let i = options.iter().position(|o| o.as_str() == node.value);
            let j = match (i, forward) {
                (None, _) => 0,
                (Some(i), true) => (i + 1).min(options.len().checked_sub(1)?),
                (Some(i), false) => i.saturating_sub(1),
            };
            (Some(j) != i).then(|| options.get(j).map(|o| o.to_string()))?
        }
        InputKind::Slider { bounds } => {
            let next = match *bounds {
                Bounds::Int {
                    min,
                    max,
                    step,
                    base,
                } => {
                    let v: i128 = node.value.parse().ok()?;
                    // The last and first values on the step grid inside the range.
                    let top = base + (max - base).div_euclid(step) * step;
                    let bottom = base + (min - base + step - 1).div_euclid(step) * step;
                    let n = if forward { v + step } else { v - step };
                    n.clamp(bottom, top).to_string()
                }
                Bounds::Float {
                    min,
                    max,
                    step,
                    base,
                } => {
                    let v: f64 = node.value.parse().ok()?;
                    // Without a step, a hundredth of the range.
                    let s = step.unwrap_or((max - min) / 100.0);
                    if s.is_nan() || s <= 0.0 {
                        return None;
                    }
                    let k = ((v - base) / s).round() + if forward { 1.0 } else { -1.0 };
                    let top = base + ((max - base) / s + 1e-9).floor() * s;
                    let bottom = base + ((min - base) / s - 1e-9).ceil() * s;
                    (base + k * s).clamp(bottom, top).to_string()
                }
            };
            (next != node.value).then_some(next)
        }
        _ => None,
    }
}

/// The focusable items of a resolved tree, in page order.
pub(crate) fn focusables(el: &Element) -> Vec<Focusable> {
    let mut out = Vec::new();
    collect(el, &mut out);
    out
}

fn collect(el: &Element, out: &mut Vec<Focusable>) {
    match &el.node {
        Node::Button(b) => {
            if !b.disabled {
                out.push(Focusable::Button {
                    address: el.key.as_deref().unwrap_or(&b.label).clone(),
                });
            }
        }
        Node::Input(node) => {
            if !node.disabled {
                out.push(Focusable::Input(node.clone()));
            }
        }
        Node::Component(c) => {
            if let Some(output) = c.output() {
                collect(output, out);
            }
        }
        _ => el.children().iter().for_each(|c| collect(c, out)),
    }
}

/// Which item has focus, by address.
#[derive(Debug, Default)]
pub(crate) struct Focus {
    items: Vec<Focusable>,
    /// Index into `items` of the focused one; always `< items.len()` when set.
    current: Option<usize>,
}

impl Focus {
    /// Takes the items of a new rerun, keeping focus on the same address if it is still
    /// there, else on the item now at the same position.
    pub(crate) fn update(&mut self, items: Vec<Focusable>) {
        let old = self.current.map(|i| self.items[i].address().to_owned());
        self.current = match (old, self.current) {
            (Some(addr), Some(i)) => items
                .iter()
                .position(|it| it.address() == addr)
                .or_else(|| (!items.is_empty()).then(|| i.min(items.len() - 1))),
            _ => None,
        };
        self.items = items;
        debug_assert!(
            self.current.is_none_or(|i| i < self.items.len()),
            "focus points at an existing item"
        );
    }

    /// True when nothing can take focus.
    pub(crate) fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The focused item.
    pub(crate) fn current(&self) -> Option<&Focusable> {
        self.current.map(|i| &self.items[i])
    }

    /// Tab: the next item, wrapping; the first when nothing has focus.
    pub(crate) fn next(&mut self) {
        if !self.items.is_empty() {
            self.current = Some(self.current.map_or(0, |i| (i + 1) % self.items.len()));
        }
    }

    /// Shift-Tab: the previous item, wrapping; the last when nothing has focus.
    pub(crate) fn prev(&mut self) {
        let n = self.items.len();
        if n > 0 {
            self.current = Some(self.current.map_or(n - 1, |i| (i + n - 1) % n));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elements::{Button, HStack, Text, VStack};

    fn addresses(el: &Element) -> Vec<String> {
        focusables(el)
            .iter()
            .map(|f| f.address().to_owned())
            .collect()
    }

    #[test]
    fn buttons_in_page_order_without_disabled_ones() {
        let page = VStack([
            Button("A"),
            HStack([Text("x"), Button("B").key("b"), Button("C").disabled(true)]),
            Button("D"),
        ]);
        assert_eq!(addresses(&page), ["A", "b", "D"]);
    }

    /// Enabled inputs join the buttons, in page order; a slider steps on its grid and
    /// stays in range; a select stops at its ends.
    #[test]
    fn inputs_join_and_arrows_step() {
        use crate::session::input::{Checkbox, Select, Slider, TextInput};
        let session = crate::Session::new();
        let page = session.rerun(|| {
            VStack([
                TextInput("Name").into(),
                Button("A"),
                Checkbox("Off").disabled(true).into(),
                Slider("Level", 0..=10).step(4).key("lvl").into(),
                Select("Pick", ["x", "y"]).into(),
            ])
        });
        assert_eq!(addresses(&page), ["Name", "A", "lvl", "Pick"]);
        let items = focusables(&page);
        let node = |i: usize| match &items[i] {
            Focusable::Input(n) => (**n).clone(),
            Focusable::Button { .. } => panic!("an input"),
        };
        assert!(items[0].takes_text() && !items[2].takes_text());
        let mut slider = node(2);
        assert_eq!(arrow_value(&slider, false), None, "at the bottom");
        assert_eq!(arrow_value(&slider, true).as_deref(), Some("4"));
        slider.value = "8".into();
        assert_eq!(arrow_value(&slider, true), None, "10 is off the grid");
        let select = node(3);
        assert_eq!(arrow_value(&select, true).as_deref(), Some("y"));
        assert_eq!(arrow_value(&select, false), None);
    }

    #[test]
    fn tab_wraps_and_focus_follows_its_address() {
        let item = |a: &str| Focusable::Button { address: a.into() };
        let mut f = Focus::default();
        f.update(vec![item("a"), item("b"), item("c")]);
        assert_eq!(f.current(), None);
        f.next();
        f.next();
        assert_eq!(f.current().map(Focusable::address), Some("b"));
        // A new item above: focus stays on "b".
        f.update(vec![item("z"), item("a"), item("b"), item("c")]);
        assert_eq!(f.current().map(Focusable::address), Some("b"));
        // "b" gone: the item now at its position.
        f.update(vec![item("z"), item("a"), item("c")]);
        assert_eq!(f.current().map(Focusable::address), Some("c"));
        f.next();
        assert_eq!(f.current().map(Focusable::address), Some("z"));
        f.prev();
        assert_eq!(f.current().map(Focusable::address), Some("c"));
        f.update(Vec::new());
        assert_eq!(f.current(), None);
        assert!(f.is_empty());
    }
}
