//! The keyboard focus model: a list of focusable items built from each resolved tree, and
//! which one has focus.
//!
//! Invariants:
//! - the items are in page order (depth first), so Tab moves down the page;
//! - focus is held by address (a button's key, else its label: the address
//!   [`Session::click`](crate::Session::click) takes), so it follows its item across
//!   reruns; if the item disappears, focus moves to the item now at its position (or the
//!   last one), and to nothing when no item is left.

use crate::element::{Element, Node, Str};

/// Something the keyboard can reach.
///
/// Extension point for inputs: text and number inputs, sliders, selects and checkboxes
/// join as further variants here, are collected in [`collect`] in page order, and get
/// their keys (typing, arrows) in the runner's key handling beside [`Focusable::Button`]'s
/// Enter and Space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Focusable {
    /// An enabled button; Enter or Space presses it.
    Button {
        /// Its click address.
        address: Str,
    },
}

impl Focusable {
    pub(crate) fn address(&self) -> &str {
        match self {
            Focusable::Button { address } => address,
        }
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
