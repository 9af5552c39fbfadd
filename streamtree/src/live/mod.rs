//! Live runners: apps that rerun exactly when their tasks change, with no polling.
//!
//! - [`terminal`]: redraws in place on a TTY, prints each distinct frame otherwise.

pub mod terminal;

pub use terminal::{Mode, Terminal, TerminalReport, terminal};
