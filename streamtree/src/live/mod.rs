//! Live runners: apps that rerun exactly when their tasks change, with no polling.
//!
//! - [`serve`] (feature `serve`): the live HTML server, one session per browser, pushes
//!   over Server-Sent Events.

#[cfg(feature = "serve")]
pub mod serve;
