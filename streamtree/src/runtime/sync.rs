//! Sync shim: `loom`'s model-checked types under `--cfg streamtree_loom`, `std`'s otherwise.
//!
//! The task state machine (`slot.rs`), the table (`table.rs`), the active count
//! (`active.rs`), the set's `closed` flag and the pool's worker counts (`pool/counts.rs`)
//! go through this shim: they are what the loom tests model. The rest of the pool and the
//! notification plumbing use `std` and `crossbeam-channel` directly; loom cannot model
//! them and they hold no task state.

#[cfg(streamtree_loom)]
pub(crate) use loom::sync::atomic::{AtomicBool, AtomicUsize};
#[cfg(streamtree_loom)]
pub(crate) use loom::sync::{Condvar, Mutex};
pub(crate) use std::sync::atomic::Ordering;
#[cfg(not(streamtree_loom))]
pub(crate) use std::sync::atomic::{AtomicBool, AtomicUsize};
#[cfg(not(streamtree_loom))]
pub(crate) use std::sync::{Condvar, Mutex};

/// The guard type of the shim's [`Mutex`].
#[cfg(streamtree_loom)]
pub(crate) type MutexGuardOf<'a, T> = loom::sync::MutexGuard<'a, T>;
/// The guard type of the shim's [`Mutex`].
#[cfg(not(streamtree_loom))]
pub(crate) type MutexGuardOf<'a, T> = std::sync::MutexGuard<'a, T>;

#[cfg(streamtree_loom)]
pub(crate) use loom::sync::atomic::AtomicU64;
#[cfg(not(streamtree_loom))]
pub(crate) use std::sync::atomic::AtomicU64;
