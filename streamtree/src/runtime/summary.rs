//! [`TaskSummary`]: one row of the task debugging panel.

use std::time::Instant;

use serde::Serialize;

use super::slot::Slot;
use super::status::{Progress, TaskStatus};

/// A debugging-panel row for one task, from
/// [`summarize_async_tasks`](crate::asyncio::summarize_async_tasks).
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// let s = Session::new();
/// s.enter(|| submit("a", || 1));
/// s.wait_idle(std::time::Duration::from_secs(10));
/// let rows = s.enter(summarize_async_tasks);
/// assert_eq!(rows[0].key, "a");
/// assert_eq!(rows[0].status, TaskStatus::Done);
/// assert!(rows[0].has_result);
/// let json = serde_json::to_value(&rows[0]).unwrap();
/// assert_eq!(json["status"], "done");
/// ```
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct TaskSummary {
    /// The task's key.
    pub key: String,
    /// Its status.
    pub status: TaskStatus,
    /// Whether it ended with an error.
    pub has_error: bool,
    /// Whether it ended with a result.
    pub has_result: bool,
    /// Whether a cancel request is pending.
    pub cancel_requested: bool,
    /// Readable progress (`"50% half way"`) while Pending or Running, else empty; at most
    /// 120 characters, ending in `...` when cut.
    pub progress: String,
    /// The progress fraction, if any, while Pending or Running.
    pub progress_fraction: Option<f64>,
    /// The error message, at most 120 characters, ending in `...` when cut.
    pub error_preview: Option<String>,
    /// The result type's name, without module paths (`Vec<String>`).
    pub result_type: String,
    /// Milliseconds spent queued (so far, if still pending).
    pub queued_ms: f64,
    /// Milliseconds spent running (so far, if still running); `None` if it never started.
    pub running_ms: Option<f64>,
    /// The input's fingerprint as 16 hex digits (`task(key).input(..)`); `None` for a
    /// task without input.
    pub input: Option<String>,
    /// The current or last attempt, 1-based.
    pub attempt: u32,
    /// Milliseconds as [`TaskHandle::elapsed`](crate::asyncio::TaskHandle::elapsed).
    pub elapsed_ms: Option<f64>,
    /// Milliseconds as [`TaskHandle::eta`](crate::asyncio::TaskHandle::eta).
    pub eta_ms: Option<f64>,
    /// As [`TaskHandle::queue_position`](crate::asyncio::TaskHandle::queue_position).
    pub queue_position: Option<usize>,
    /// Milliseconds since a Done task's result was produced; `None` unless Done.
    pub age_ms: Option<f64>,
    /// Whether a Done task is older than its `stale_after` (its next run refreshes it),
    /// or a refresh was asked.
    pub stale: bool,
    /// Whether the shown value is not the current run's
    /// ([`TaskHandle::is_refreshing`](crate::asyncio::TaskHandle::is_refreshing)).
    pub refreshing: bool,
    /// Whether the task is shared by the runtime's sessions.
    pub shared: bool,
}

/// Longest preview in a [`TaskSummary`], in characters.
const PREVIEW_CHARS: usize = 120;

/// `s` cut to at most [`PREVIEW_CHARS`] characters, ending in `...` when cut.
pub(crate) fn preview(s: &str) -> String {
    if s.chars().count() <= PREVIEW_CHARS {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(PREVIEW_CHARS - 3).collect();
    out.push_str("...");
    out
}

impl TaskSummary {
    /// The row for `slot` at `now`. Progress shows only while the task is Pending or
    /// Running: a finished task's last progress ("80% step 4 of 5") would contradict its
    /// status. The state is copied under the slot's lock; text is built after it.
    pub(crate) fn of(slot: &Slot, now: Instant) -> TaskSummary {
        let (status, has_result, cancel_requested, progress, error, queued, running) = slot
            .with_state(|st| {
                let status = st.status();
                let live = matches!(status, TaskStatus::Pending | TaskStatus::Running);
                (
                    status,
                    st.value().is_some(),
                    st.cancel_requested(),
                    st.progress().filter(|_| live).cloned(),
                    st.error().map(str::to_owned),
                    st.queued_for(now),
                    st.running_for(now),
                )
            });
        let (attempt, elapsed, eta, done_at, stale_after, shared) = slot.with_state(|st| {
            let opts = st.life.as_ref().map(|l| l.opts);
            (
                st.life
                    .as_ref()
                    .map_or(st.attempt, |l| st.attempt.max(l.backend_attempt)),
                st.elapsed(now),
                st.eta(now),
                st.done_at(),
                opts.and_then(|o| o.stale_after),
                opts.is_some_and(|o| o.shared),
            )
        });
        let age = done_at.map(|at| now.saturating_duration_since(at));
        let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
        TaskSummary {
            key: slot.key().to_owned(),
            status,
            has_error: error.is_some(),
            has_result,
            cancel_requested,
            progress: progress
                .as_ref()
                .map(|p| preview(&p.to_string()))
                .unwrap_or_default(),
            progress_fraction: progress.as_ref().and_then(Progress::fraction),
            error_preview: error.as_deref().map(preview),
            result_type: slot.result_type_name(),
            queued_ms: queued.as_secs_f64() * 1e3,
            running_ms: running.map(|d| d.as_secs_f64() * 1e3),
            input: slot.input().map(|fp| format!("{fp:016x}")),
            attempt,
            elapsed_ms: elapsed.map(ms),
            eta_ms: eta.map(ms),
            queue_position: (status == TaskStatus::Pending)
                .then(|| slot.set_upgrade().map(|set| set.queue_position(slot)))
                .flatten(),
            age_ms: age.map(ms),
            stale: slot.wants_run() || age.zip(stale_after).is_some_and(|(a, s)| a >= s),
            refreshing: slot.shown().1,
            shared,
        }
    }
}
