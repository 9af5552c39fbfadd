//! Backends: turn a (resolved) element tree into output.
//!
//! - [`html`]: an HTML fragment or a full document; every text node and attribute value
//!   goes through [`html::escape`], the one escaper.
//! - [`text`]: structural, deterministic plain text (type names, keys, one element per
//!   line): the insta snapshot format.
//! - [`readable`]: the page as a person reads it (boxes, rows, buttons, focus): what the
//!   terminal runner draws.
//! - `chart`: line and bar charts for both backends (inline SVG, sparklines and bars).
//! - `input`: the input widgets (native controls; one text line each).
//! - `markdown`: the CommonMark handling both backends share (safe links, raw HTML as text).
//!
//! Renderers are pure: a tree in, text out. They never run user code: a component shows
//! the output its rerun stored, and a component that no rerun resolved shows as an error
//! naming the fix (render what [`Session::rerun`](crate::Session::rerun) returns, a
//! [`Resolved`](crate::Resolved), or use [`AppTest`](crate::testing::AppTest)).

pub(crate) mod chart;
mod display;
pub mod html;
mod input;
pub(crate) mod markdown;
pub mod readable;
mod table;
pub mod text;
