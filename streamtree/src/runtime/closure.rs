//! A task's closure, stored in its slot until the worker that dequeues the slot takes it
//! (to run it, or to drop it unrun).

use std::marker::PhantomData;
use std::sync::{Arc, PoisonError};

use super::slot::{Outcome, Slot};
use super::unwind;

/// A slot's closure, taken out at most once by the worker that dequeues the slot.
pub(crate) trait TaskFn: Send + Sync + 'static {
    /// Takes the closure and runs it on `slot`, a panic becoming `Err(message)`; `None`
    /// when there is no closure (already taken, or a slot created without one).
    fn run(&self, slot: &Slot) -> Option<Outcome>;
    /// Takes the closure and drops it unrun (outside every lock: its captures may have
    /// arbitrary `Drop`).
    fn discard(&self);
    /// Takes the closure out unrun, for the caller to drop later (outside its locks).
    fn take_out(&self) -> Option<Box<dyn std::any::Any + Send>>;
}

/// No closure: slots of closed sessions (their closure goes back to the caller) and tests.
pub(crate) struct NoFn;

impl TaskFn for NoFn {
    fn run(&self, _: &Slot) -> Option<Outcome> {
        None
    }
    fn discard(&self) {}
    fn take_out(&self) -> Option<Box<dyn std::any::Any + Send>> {
        None
    }
}

/// A closure returning `Result<T, String>`, stored inline in its slot.
pub(crate) struct FnCell<F, T> {
    f: std::sync::Mutex<Option<F>>,
    /// `fn() -> T`: no `T` is stored here, so this is `Send + Sync` whatever `T` is.
    _result: PhantomData<fn() -> T>,
}

impl<F, T> FnCell<F, T> {
    fn take(&self) -> Option<F> {
        self.f.lock().unwrap_or_else(PoisonError::into_inner).take()
    }
}

impl<F, T> TaskFn for FnCell<F, T>
where
    F: FnOnce(&Slot) -> Result<T, String> + Send + 'static,
    T: Send + 'static,
{
    fn run(&self, slot: &Slot) -> Option<Outcome> {
        let f = self.take()?;
        Some(match unwind::halt_unwinding(|| f(slot)) {
            Ok(Ok(value)) => Ok(Arc::new(std::sync::Mutex::new(value))),
            Ok(Err(message)) | Err(message) => Err(message),
        })
    }

    fn discard(&self) {
        drop(self.take());
    }

    fn take_out(&self) -> Option<Box<dyn std::any::Any + Send>> {
        self.take()
            .map(|f| Box::new(f) as Box<dyn std::any::Any + Send>)
    }
}

/// Closures whose captures take at most this much are stored inline in their slot (and
/// that space stays with the slot until it is freed); larger ones are boxed, the box freed
/// when they have run.
pub(crate) type InlineCaptures = [usize; 4];

/// A closure too large to store inline.
pub(crate) type BoxedFn<T> = Box<dyn FnOnce(&Slot) -> Result<T, String> + Send>;

impl<F, T> FnCell<F, T> {
    pub(crate) fn new(f: F) -> FnCell<F, T> {
        FnCell {
            f: std::sync::Mutex::new(Some(f)),
            _result: PhantomData,
        }
    }
}
