//! Per-session-slot gates of the server benchmarks (`benches/serve.rs`,
//! `benches/push_bytes.rs`): a slot's task runs its step `i`, then waits until the load
//! generator has released past `i`.

use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex, OnceLock};

/// Released step per session slot: the slot's task of step `i` waits until `released > i`.
pub struct SlotGate {
    pub released: Mutex<u64>,
    pub changed: Condvar,
}

/// The gate of `slot`, made on first use.
pub fn gate(slot: usize) -> Arc<SlotGate> {
    static GATES: OnceLock<Mutex<HashMap<usize, Arc<SlotGate>>>> = OnceLock::new();
    let mut gates = GATES.get_or_init(Default::default).lock().unwrap();
    gates
        .entry(slot)
        .or_insert_with(|| {
            Arc::new(SlotGate {
                released: Mutex::new(0),
                changed: Condvar::new(),
            })
        })
        .clone()
}

/// Lets `slot`'s task past step `step`.
pub fn release(slot: usize, step: u64) {
    let g = gate(slot);
    *g.released.lock().unwrap() = step + 1;
    g.changed.notify_all();
}
