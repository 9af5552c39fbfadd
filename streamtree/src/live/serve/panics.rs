//! The panic log: each distinct panic of a session becomes one `tracing` event, with the
//! message as a structured field (the subscriber escapes it; it is never part of a format
//! string), and a reference id that users can quote when details are hidden.
//!
//! Invariant: a session's log remembers at most [`MAX_DISTINCT`] panics; past that, new
//! ones are counted, not logged, so a flood of distinct messages costs bounded memory and
//! bounded log lines.

use std::any::Any;
use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};

use super::live::{Live, lock};

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
    let mut hasher = DefaultHasher::new();
    (live.session.id(), what, message).hash(&mut hasher);
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

/// The text of a panic payload (`&str` or `String`).
pub(super) fn panic_text(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_owned()
    }
}
