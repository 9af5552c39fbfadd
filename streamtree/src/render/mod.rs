//! Backends: turn a (resolved) element tree into output.
//!
//! - [`html`]: an HTML fragment or a full document; every text node and attribute value
//!   goes through [`html::escape`], the one escaper.
//! - [`text`]: readable, deterministic plain text; also the snapshot format.
//! - `markdown`: the CommonMark handling both backends share (safe links, raw HTML as text).
//!
//! Rendering an element with unresolved component calls resolves them first: in the
//! current session, or in a fresh one when none is current.

pub mod html;
pub(crate) mod markdown;
pub mod text;

use crate::component::resolve;
use crate::element::Element;
use crate::session::Session;

/// Runs pending component bodies before a backend walks the tree.
pub(crate) fn prepare(el: &Element) {
    if !el.dynamic() {
        return;
    }
    match Session::try_current() {
        Some(_) => resolve(el),
        None => Session::new().enter(|| resolve(el)),
    }
}
