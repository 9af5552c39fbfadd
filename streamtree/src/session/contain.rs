//! Catching user panics (app functions, component bodies, click handlers) so that they
//! show in place instead of ending the rerun, and reporting each one once.
//!
//! Invariants:
//! - while `contain` runs on a thread, a panic there is reported by our hook, never by
//!   the default one (no backtrace: the panic is shown in place);
//! - the report is one `tracing` event with the message and location as fields (the
//!   subscriber escapes them; they never enter a format string), or, with no subscriber
//!   installed, one stderr line with the message escaped (`\n` as `\\n`), so a panic
//!   message cannot forge a log line;
//! - each distinct message and location is reported at most once per [`WINDOW`], and at
//!   most [`MAX_DISTINCT`] are remembered: past that, reports are counted and the count
//!   is reported once per window, so a flood of panics costs bounded log lines.

use std::any::Any;
use std::cell::Cell;
use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Mutex, Once, PoisonError};
use std::time::{Duration, Instant};

pub(crate) use crate::runtime::panic_message;

/// How long a reported panic stays quiet when it repeats.
const WINDOW: Duration = Duration::from_secs(60);
/// Distinct panics remembered at once.
const MAX_DISTINCT: usize = 256;

thread_local! {
    /// How many `contain` calls are running on this thread.
    static CONTAINED: Cell<u32> = const { Cell::new(0) };
}

/// Runs `f`, catching a panic. While it runs, a panic on this thread is reported once
/// (see the module docs) instead of with a full report: the panic is shown in place (an
/// error element, a `ClickError`), so a backtrace would only be noise.
pub(crate) fn contain<R>(f: impl FnOnce() -> R) -> Result<R, Box<dyn Any + Send>> {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if CONTAINED.with(Cell::get) > 0 {
                let at = info
                    .location()
                    .map(|l| format!("{}:{}", l.file(), l.line()))
                    .unwrap_or_default();
                report(&panic_message(info.payload()), &at);
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

/// The reports of the last [`WINDOW`].
struct Reported {
    /// When each distinct panic (a hash of message and location) was last reported.
    last: HashMap<u64, Instant>,
    /// Panics not reported because `last` was full, since the last note about them.
    suppressed: u64,
    /// When the last note about suppressed panics went out.
    noted: Option<Instant>,
}

static REPORTED: Mutex<Option<Reported>> = Mutex::new(None);

/// What to report for one panic.
#[derive(Debug, PartialEq, Eq)]
enum Report {
    Panic,
    /// The table of distinct panics is full: say how many were not reported.
    Suppressed(u64),
    Nothing,
}

/// Decides, under the lock, whether this panic is reported now.
fn decide(message: &str, at: &str, now: Instant) -> Report {
    let mut hasher = DefaultHasher::new();
    (message, at).hash(&mut hasher);
    let fingerprint = hasher.finish();
    let mut guard = REPORTED.lock().unwrap_or_else(PoisonError::into_inner);
    let reported = guard.get_or_insert_with(|| Reported {
        last: HashMap::new(),
        suppressed: 0,
        noted: None,
    });
    let fresh = |t: &Instant| now.saturating_duration_since(*t) < WINDOW;
    if let Some(last) = reported.last.get_mut(&fingerprint) {
        if fresh(last) {
            return Report::Nothing;
        }
        *last = now;
        return Report::Panic;
    }
    if reported.last.len() >= MAX_DISTINCT {
        reported.last.retain(|_, t| fresh(t));
    }
    if reported.last.len() < MAX_DISTINCT {
        reported.last.insert(fingerprint, now);
        return Report::Panic;
    }
    reported.suppressed += 1;
    if reported.noted.as_ref().is_some_and(fresh) {
        return Report::Nothing;
    }
    reported.noted = Some(now);
    Report::Suppressed(std::mem::take(&mut reported.suppressed))
}

/// Whether a `tracing` subscriber (scoped or global) listens on this thread.
fn subscribed() -> bool {
    !tracing::dispatcher::get_default(|d| d.is::<tracing::subscriber::NoSubscriber>())
}

/// Reports a contained panic with `message` at `at` (`file:line`), if it is due.
fn report(message: &str, at: &str) {
    match decide(message, at, Instant::now()) {
        Report::Panic => {
            if subscribed() {
                tracing::warn!(panic = message, at, "streamtree: contained panic");
            } else {
                eprintln!("{}", stderr_line(message, at));
            }
        }
        Report::Suppressed(count) => {
            if subscribed() {
                tracing::warn!(
                    count,
                    limit = MAX_DISTINCT,
                    "streamtree: many distinct contained panics; these were not logged"
                );
            } else {
                eprintln!("streamtree: {count} more distinct contained panics were not logged");
            }
        }
        Report::Nothing => {}
    }
}

/// The one stderr line for a panic when no `tracing` subscriber is installed: the
/// message escaped, so that it stays one line.
fn stderr_line(message: &str, at: &str) -> String {
    format!(
        "streamtree: contained panic at {}: {}",
        at.escape_debug(),
        message.escape_debug()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_newline_in_a_panic_cannot_forge_a_stderr_line() {
        let line = stderr_line("boom\nERROR forged: admin logged in\r", "src/app.rs:3");
        assert_eq!(line.lines().count(), 1, "{line}");
        assert_eq!(
            line,
            "streamtree: contained panic at src/app.rs:3: boom\\nERROR forged: admin logged in\\r"
        );
    }

    #[test]
    fn each_distinct_panic_is_reported_once_per_window() {
        let t0 = Instant::now();
        let msg = "rate-limit-test a";
        assert_eq!(decide(msg, "x.rs:1", t0), Report::Panic);
        assert_eq!(decide(msg, "x.rs:1", t0 + WINDOW / 2), Report::Nothing);
        assert_eq!(decide(msg, "x.rs:2", t0), Report::Panic, "another place");
        assert_eq!(
            decide(msg, "x.rs:1", t0 + WINDOW),
            Report::Panic,
            "window over"
        );
    }
}
