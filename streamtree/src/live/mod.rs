//! Live runners: apps that rerun exactly when their tasks change, with no polling.
//!
//! - [`terminal()`](terminal::terminal): redraws in place on a TTY and takes keys (Tab,
//!   Enter, `q`); otherwise prints task status changes and the final frame.
//! - `serve` (feature `serve`): the live HTML server, one session per browser, pushes
//!   over Server-Sent Events.
//! - [`TaskInspector`]: the session's tasks as a component, for the runners to show
//!   ([`inspector::with_task_inspector`] toggles it under an app).

pub mod inspector;
pub mod terminal;

#[cfg(feature = "serve")]
#[cfg_attr(docsrs, doc(cfg(feature = "serve")))]
pub mod serve;

pub use inspector::TaskInspector;
pub use terminal::{Mode, Terminal, TerminalReport, terminal};
