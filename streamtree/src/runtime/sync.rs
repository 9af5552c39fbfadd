//! Sync shim: `loom`'s model-checked types under `--cfg streamtree_loom`, `std`'s otherwise.
//!
//! Only the task state machine (`slot.rs`, and the table in `table.rs`) goes through this
//! shim: it is what the loom tests model. The pool and the notification plumbing use `std` and
//! `crossbeam-channel` directly; loom cannot model them and they hold no task state.

#[cfg(streamtree_loom)]
pub(crate) use loom::sync::{Condvar, Mutex};
#[cfg(not(streamtree_loom))]
pub(crate) use std::sync::{Condvar, Mutex};

/// The guard type of the shim's [`Mutex`].
#[cfg(streamtree_loom)]
pub(crate) type MutexGuardOf<'a, T> = loom::sync::MutexGuard<'a, T>;
/// The guard type of the shim's [`Mutex`].
#[cfg(not(streamtree_loom))]
pub(crate) type MutexGuardOf<'a, T> = std::sync::MutexGuard<'a, T>;
