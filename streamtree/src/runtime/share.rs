//! What a task shares and shows beyond its own run: the sessions that use it (shared
//! tasks), the task it supersedes and whose value it shows meanwhile (keep_previous), and
//! when it may be collected. Split from `life.rs`, whose transitions these follow.
//!
//! Invariants (with `life.rs`'s): users are weak (a shared task never keeps a session
//! alive) and pruned when one is added; `previous` points at a slot that has a value of
//! its own (linking past a valueless predecessor takes that one's link), so no chain of
//! old slots forms; values replaced under the lock are dropped after it.

use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use super::TaskSet;
use super::life::{Life, Options};
use super::slot::{Phase, Slot, SlotState, TaskValue};
use super::sync::Ordering;

impl Slot {
    /// keep_previous: shows `prev`'s value (or what it showed) while this task has none.
    pub(crate) fn link_previous(&self, prev: &Arc<Slot>) {
        let candidate = {
            let st = prev.lock();
            if own_value(&st).is_some() {
                Some(prev.clone())
            } else {
                st.life.as_ref().and_then(|l| l.previous.clone())
            }
        };
        let Some(candidate) = candidate else { return };
        if std::ptr::eq(Arc::as_ptr(&candidate), self) {
            return;
        }
        let mut st = self.lock();
        let old = if own_value(&st).is_none() {
            st.life.as_mut().and_then(|l| l.previous.replace(candidate))
        } else {
            Some(candidate)
        };
        drop(st);
        drop(old);
    }

    /// Another input of the key ran: cancel this task if unfinished and not shared (the
    /// next `run` of its input restarts it).
    pub(crate) fn supersede(&self) {
        let mut st = self.lock();
        if st.phase.is_terminal() || st.life.as_ref().is_some_and(|l| l.opts.shared) {
            return;
        }
        let now = Instant::now();
        st.life
            .get_or_insert_with(|| Life::new(Options::default(), None, now))
            .superseded = true;
        self.has_life.store(true, Ordering::Release);
        drop(st);
        let (change, trash) = self.cancel_with_trash();
        drop(trash);
        self.publish(change);
    }

    /// Registers `set` as a user of this shared task.
    pub(crate) fn add_user(&self, set: &Arc<TaskSet>) {
        let mut st = self.lock();
        let Some(life) = st.life.as_mut() else { return };
        if life
            .users
            .iter()
            .any(|u| std::ptr::eq(u.as_ptr(), Arc::as_ptr(set)))
        {
            return;
        }
        life.users.retain(|u| u.strong_count() > 0);
        life.users.push(Arc::downgrade(set));
    }

    /// Whether `set` uses this shared task.
    pub(crate) fn is_used_by(&self, set: &TaskSet) -> bool {
        let st = self.lock();
        st.life
            .as_ref()
            .is_some_and(|l| l.users.iter().any(|u| std::ptr::eq(u.as_ptr(), set)))
    }

    /// Notifies every session using this shared task (outside the slot's lock).
    pub(crate) fn notify_users(&self) {
        let users: Vec<Arc<TaskSet>> = {
            let st = self.lock();
            st.life
                .as_ref()
                .map(|l| l.users.iter().filter_map(Weak::upgrade).collect())
                .unwrap_or_default()
        };
        for set in users {
            set.notify_change();
        }
    }

    /// Collection: `Some(Ok(()))` when this task is finished and unread for its
    /// `gc_after`; `Some(Err(at))` when it may be due at `at`; `None` if never collected.
    pub(crate) fn gc_due(&self, now: Instant) -> Option<Result<(), Instant>> {
        let mut guard = self.lock();
        let st = &mut *guard;
        let life = st.life.as_mut()?;
        if std::mem::take(&mut life.read) {
            life.last_read = now;
        }
        let idle = life.opts.gc_after?;
        if st.dismissed {
            return None;
        }
        if !st.phase.is_terminal() || life.closure_running {
            // Its finish schedules a sweep; this is only a coarse re-check.
            return Some(Err(now + idle.max(Duration::from_secs(1))));
        }
        let since = st
            .finished
            .instant(st.submitted)
            .map_or(life.last_read, |f| f.max(life.last_read));
        let due = since + idle;
        Some(if now >= due { Ok(()) } else { Err(due) })
    }

    /// The value a ready arm shows and whether it is not the current run's (see
    /// `TaskHandle::result` and `is_refreshing`); the fallback slot is read after this
    /// one's lock is released.
    pub(crate) fn shown(&self) -> (Option<TaskValue>, bool) {
        let (own, fallback, running) = {
            let st = self.lock();
            if st.dismissed {
                return (None, false);
            }
            let running = matches!(st.phase, Phase::Pending | Phase::Running | Phase::Backoff);
            let current = st.value().cloned();
            let earlier = st.life.as_ref().and_then(|l| l.last_good.clone());
            let fallback = st.life.as_ref().and_then(|l| l.previous.clone());
            (current.or(earlier), fallback, running)
        };
        if own.is_some() {
            return (own, running);
        }
        let Some(prev) = fallback else {
            return (None, false);
        };
        let value = own_value(&prev.lock());
        let refreshing = value.is_some() && running;
        (value, refreshing)
    }
}

/// The task's own good value: its Done value, else the value it keeps from an earlier run.
fn own_value(st: &SlotState) -> Option<TaskValue> {
    st.value().cloned().or_else(|| {
        (!st.dismissed)
            .then(|| st.life.as_ref()?.last_good.clone())
            .flatten()
    })
}

/// The collection idle time of a task with one.
pub(crate) fn gc_after(slot: &Slot) -> Option<Duration> {
    if !slot.has_life.load(Ordering::Acquire) {
        return None;
    }
    slot.lock().life.as_ref()?.opts.gc_after
}
