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

/// Runs pending component bodies before a backend walks the tree (in the current session,
/// or a fresh one made only if a body is left to run).
pub(crate) use crate::component::resolve as prepare;
