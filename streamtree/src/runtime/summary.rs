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
    /// Readable progress (`"50% half way"`), at most 120 characters, ending in `...` when cut.
    pub progress: String,
    /// The progress fraction, if any.
    pub progress_fraction: Option<f64>,
    /// The error message, at most 120 characters, ending in `...` when cut.
    pub error_preview: Option<String>,
    /// The result type's name.
    pub result_type: String,
    /// Milliseconds spent queued (so far, if still pending).
    pub queued_ms: f64,
    /// Milliseconds spent running (so far, if still running); `None` if it never started.
    pub running_ms: Option<f64>,
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
    pub(crate) fn of(slot: &Slot, now: Instant) -> TaskSummary {
        slot.with_state(|st| TaskSummary {
            key: slot.key().to_owned(),
            status: st.status(),
            has_error: st.error().is_some(),
            has_result: st.value().is_some(),
            cancel_requested: st.cancel_requested(),
            progress: st
                .progress()
                .map(|p| preview(&p.to_string()))
                .unwrap_or_default(),
            progress_fraction: st.progress().and_then(Progress::fraction),
            error_preview: st.error().map(preview),
            result_type: slot.result_type_name().to_owned(),
            queued_ms: st.queued_for(now).as_secs_f64() * 1e3,
            running_ms: st.running_for(now).map(|d| d.as_secs_f64() * 1e3),
        })
    }
}
