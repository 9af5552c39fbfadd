//! The panic log: each distinct panic of a session becomes one `tracing` event, with the
//! message as a structured field (the subscriber escapes it; it is never part of a format
//! string), and a reference id that users can quote when details are hidden.
//!
//! Panics on a session's lane thread (its reruns and handlers) reach the log through a
//! panic hook that the server installs on top of the runtime's, instead of one stderr
//! line each: a flood of clicks on a panicking button makes one event, not thousands.
//!
//! Invariants:
//! - a session's log remembers at most [`MAX_DISTINCT`] panics; past that, new ones are
//!   counted, not logged, so a flood of distinct messages costs bounded memory and bounded
//!   log lines;
//! - the reference id depends only on the session and the panic message, so the hook and
//!   the handler that answers the user compute the same id and the second logs nothing.

use std::any::Any;
use std::cell::RefCell;
use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, Once};

use super::live::{Live, lock};

thread_local! {
    /// The session whose lane work runs on this thread, if any.
    static LANE: RefCell<Option<Arc<Live>>> = const { RefCell::new(None) };
}

/// Runs `f` as lane work of `live`: a panic inside is logged for `live` by the hook.
pub(super) fn in_lane<R>(live: &Arc<Live>, f: impl FnOnce() -> R) -> R {
    struct Leave(Option<Arc<Live>>);
    impl Drop for Leave {
        fn drop(&mut self) {
            let previous = self.0.take();
            // The `Live` dropped here is not the last clone: the caller holds one.
            LANE.with(|l| *l.borrow_mut() = previous);
        }
    }
    let previous = LANE.with(|l| l.borrow_mut().replace(live.clone()));
    let _leave = Leave(previous);
    f()
}

/// Installs the server's panic hook once per process, above the runtime's own (which is
/// installed first, so it cannot wrap ours): on a lane thread a panic becomes one `tracing`
/// event per distinct message and session; elsewhere the previous hook runs unchanged.
pub(super) fn install_hook() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        // The runtime installs its hook on first use: make that happen now.
        let _ = crate::session::contain(|| ());
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let live = LANE.with(|l| l.borrow().clone());
            match live {
                Some(live) => {
                    let at = info
                        .location()
                        .map(|l| format!("{}:{}", l.file(), l.line()))
                        .unwrap_or_default();
                    report_at(&live, "panic", &panic_text(info.payload()), &at);
                }
                None => previous(info),
            }
        }));
    });
}

/// Distinct panics logged per session before the rest are only counted.
const MAX_DISTINCT: usize = 32;

/// The distinct panics of one session already logged.
#[derive(Default)]
pub(super) struct PanicLog {
    seen: HashSet<u64>,
    /// Panics not logged because `seen` was full.
    suppressed: u64,
}

/// Logs `message` (a panic in `what`: `click`, `render`) once per session and returns
/// its reference id: the same panic of the same session always gets the same id, so the
/// one logged event explains every repeat.
pub(super) fn report(live: &Live, what: &'static str, message: &str) -> String {
    report_at(live, what, message, "")
}

fn report_at(live: &Live, what: &'static str, message: &str, at: &str) -> String {
    let mut hasher = DefaultHasher::new();
    (live.session.id(), message).hash(&mut hasher);
    let fingerprint = hasher.finish();
    let reference = format!("{fingerprint:016x}");
    let log = {
        let mut panics = lock(&live.panics);
        if panics.seen.contains(&fingerprint) {
            None
        } else if panics.seen.len() >= MAX_DISTINCT {
            panics.suppressed += 1;
            // Say so once, when the first one is dropped.
            (panics.suppressed == 1).then_some(false)
        } else {
            panics.seen.insert(fingerprint);
            Some(true)
        }
    };
    match log {
        Some(true) => tracing::error!(
            session = live.session.id(),
            what,
            reference = %reference,
            panic = message,
            at,
            "a session's code panicked"
        ),
        Some(false) => tracing::warn!(
            session = live.session.id(),
            limit = MAX_DISTINCT,
            "this session keeps panicking in new ways; further panics are not logged"
        ),
        None => {}
    }
    reference
}

/// The text of a panic payload (`&str` or `String`), as the error elements of contained
/// panics hold it, so the hook and a hidden error box compute the same reference.
pub(super) fn panic_text(payload: &(dyn Any + Send)) -> String {
    crate::runtime::panic_message(payload)
}
