//! Catching user panics (app functions, component bodies, click handlers) so that they
//! show in place instead of ending the rerun.

use std::any::Any;
use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Once;

pub(crate) use crate::runtime::panic_message;

thread_local! {
    /// How many `contain` calls are running on this thread.
    static CONTAINED: Cell<u32> = const { Cell::new(0) };
}

/// Runs `f`, catching a panic. While it runs, the panic hook reports a panic on this
/// thread as one line on stderr instead of a full report: the panic is shown in place
/// (an error element, a `ClickError`), so a backtrace would only be noise.
pub(crate) fn contain<R>(f: impl FnOnce() -> R) -> Result<R, Box<dyn Any + Send>> {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if CONTAINED.with(Cell::get) > 0 {
                let at = info
                    .location()
                    .map(|l| format!(" at {}:{}", l.file(), l.line()))
                    .unwrap_or_default();
                eprintln!(
                    "streamtree: contained panic{at}: {}",
                    panic_message(info.payload())
                );
            } else {
                previous(info);
            }
        }));
    });
    struct Leave;
    impl Drop for Leave {
        fn drop(&mut self) {
            CONTAINED.with(|c| c.set(c.get() - 1));
        }
    }
    CONTAINED.with(|c| c.set(c.get() + 1));
    let _leave = Leave;
    catch_unwind(AssertUnwindSafe(f))
}
