//! Per-thread free list of children `Vec`s.
//!
//! Each rerun builds a tree of one `Vec` per container and drops it whole; with glibc the
//! freed top of the heap is often trimmed and the next tree faults every page in again
//! (about half the build time of a 10,000-cell table, and a bimodal one). Recycling the
//! buffers keeps them warm. Bounded: at most [`BUDGET`] bytes of capacity are
//! kept per thread; anything beyond is freed as usual.

use std::cell::RefCell;

use super::Element;

/// Capacity kept per thread, in bytes.
pub(crate) const BUDGET: usize = 1 << 20;
const BUDGET_ELEMENTS: usize = BUDGET / std::mem::size_of::<Element>();
/// How far down the free list to look for a well-fitting buffer.
const SEARCH: usize = 8;

struct Pool {
    free: Vec<Vec<Element>>,
    /// Sum of the capacities in `free`, in elements.
    held: usize,
}

thread_local! {
    static POOL: RefCell<Pool> = const {
        RefCell::new(Pool { free: Vec::new(), held: 0 })
    };
}

/// An empty `Vec` for about `len` children: a recycled one when a fitting one is free.
#[inline]
pub(crate) fn take(len: usize) -> Vec<Element> {
    POOL.try_with(|p| {
        let mut p = p.try_borrow_mut().ok()?;
        let fits = |v: &Vec<Element>| v.capacity() >= len && v.capacity() <= 2 * len + 16;
        let n = p.free.len();
        let i = (n.saturating_sub(SEARCH)..n)
            .rev()
            .find(|&i| fits(&p.free[i]))?;
        let v = p.free.swap_remove(i);
        p.held -= v.capacity();
        Some(v)
    })
    .ok()
    .flatten()
    .unwrap_or_default()
}

/// Drops the children in `v` (their own buffers come back here first) and keeps the
/// empty buffer when the budget allows.
pub(crate) fn recycle(mut v: Vec<Element>) {
    if v.capacity() == 0 {
        return;
    }
    v.clear();
    let _ = POOL.try_with(|p| {
        if let Ok(mut p) = p.try_borrow_mut()
            && p.held + v.capacity() <= BUDGET_ELEMENTS
        {
            p.held += v.capacity();
            p.free.push(std::mem::take(&mut v));
        }
    });
}
