//! Catches panics at the worker boundary (after rayon's `unwind::halt_unwinding`): a
//! panicking task becomes an `Error` carrying the panic message, and the worker lives on.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// Runs `f`, turning a panic into `Err(message)`.
///
/// `AssertUnwindSafe` is sound here in the sense that matters: nothing `f` touched is
/// observed after a panic except through the task's own slot, which records `Error`, and
/// every lock in the runtime tolerates poisoning.
pub(crate) fn halt_unwinding<R>(f: impl FnOnce() -> R) -> Result<R, String> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|payload| {
        let message = panic_message(&*payload);
        // Dropping a payload can itself panic; contain that too (rayon aborts instead).
        let _ = catch_unwind(AssertUnwindSafe(move || drop(payload)));
        message
    })
}

/// The text of a panic payload (`&str` or `String`), or a placeholder for other payloads.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_owned()
    }
}
