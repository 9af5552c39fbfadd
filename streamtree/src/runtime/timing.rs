//! Timing readings of a task's state: elapsed, ETA, queue and run times (for handles
//! and summaries).

use std::time::{Duration, Instant};

use super::slot::{Phase, Since, SlotState};

impl SlotState {
    /// `TaskHandle::elapsed`: since submit (Pending), since start (Running), total
    /// (finished); `None` once dismissed.
    pub(crate) fn elapsed(&self, now: Instant) -> Option<Duration> {
        if self.dismissed {
            return None;
        }
        let at = |t: Since| t.instant(self.submitted);
        Some(match (self.phase, at(self.started), at(self.finished)) {
            (Phase::Pending, _, _) => now.saturating_duration_since(self.submitted),
            (Phase::Running | Phase::Backoff, Some(s), _) => now.saturating_duration_since(s),
            (_, _, Some(f)) => f.saturating_duration_since(self.submitted),
            _ => now.saturating_duration_since(self.submitted),
        })
    }

    /// `TaskHandle::eta`: from the progress rate while Running.
    pub(crate) fn eta(&self, now: Instant) -> Option<Duration> {
        if !matches!(self.phase, Phase::Running | Phase::Backoff) {
            return None;
        }
        let f = self.progress()?.fraction().filter(|f| *f > 0.0)?;
        let ran = self.elapsed(now)?;
        Some(ran.mul_f64((1.0 - f) / f))
    }

    /// When the current Done result was produced (`None` unless Done).
    pub(crate) fn done_at(&self) -> Option<Instant> {
        (self.phase == Phase::Done)
            .then(|| self.finished.instant(self.submitted))
            .flatten()
    }

    /// Time spent queued: until it started, or until now / its end if it never started.
    pub(crate) fn queued_for(&self, now: Instant) -> Duration {
        let at = |t: Since| t.instant(self.submitted);
        let until = at(self.started).or(at(self.finished)).unwrap_or(now);
        until.saturating_duration_since(self.submitted)
    }

    /// Time spent running, if it started.
    pub(crate) fn running_for(&self, now: Instant) -> Option<Duration> {
        let at = |t: Since| t.instant(self.submitted);
        at(self.started).map(|s| {
            at(self.finished)
                .unwrap_or(now)
                .saturating_duration_since(s)
        })
    }
}
