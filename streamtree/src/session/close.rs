//! Ending a session by hand: [`Session::close`], and [`WeakSession`], a handle that does
//! not keep a session alive.
//!
//! Why: a button handler, a state value or a task closure that captures
//! `Session::current()` owns the session it lives in, so the session (and its tasks) would
//! never be dropped. `close` breaks such cycles from the outside; `WeakSession` avoids them.
//!
//! Invariant: `close` takes the handlers and state out under their locks and drops them
//! after releasing the locks, so user `Drop` code never runs under a session lock.

use std::fmt;
use std::sync::{Arc, PoisonError, Weak};

use super::{Session, SessionInner};

/// A handle to a [`Session`] that does not keep it alive: capture it in a button handler,
/// a state value or a task instead of a `Session` to avoid a reference cycle.
///
/// # Example
/// ```
/// use streamtree::Session;
/// let session = Session::new();
/// let weak = session.downgrade();
/// assert_eq!(weak.upgrade().map(|s| s.id()), Some(session.id()));
/// drop(session);
/// assert!(weak.upgrade().is_none());
/// ```
#[derive(Clone, Default)]
pub struct WeakSession {
    inner: Weak<SessionInner>,
}

impl WeakSession {
    /// The session, if any strong handle to it is still alive.
    ///
    /// # Example
    /// ```
    /// let weak = streamtree::WeakSession::default();
    /// assert!(weak.upgrade().is_none());
    /// ```
    pub fn upgrade(&self) -> Option<Session> {
        self.inner.upgrade().map(|inner| Session { inner })
    }
}

impl fmt::Debug for WeakSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WeakSession")
            .field("alive", &(self.inner.strong_count() > 0))
            .finish()
    }
}

impl Session {
    /// A handle to this session that does not keep it alive; see [`WeakSession`].
    ///
    /// # Example
    /// ```
    /// use streamtree::prelude::*;
    /// let session = Session::new();
    /// session.rerun(|| {
    ///     let me = Session::current().downgrade(); // no cycle through the handler
    ///     Button("Go").key("go").on_click(move || {
    ///         if let Some(s) = me.upgrade() {
    ///             s.enter(|| session_state("clicks", || 0u32).update(|n| *n += 1));
    ///         }
    ///     })
    /// });
    /// session.click("go").unwrap();
    /// ```
    pub fn downgrade(&self) -> WeakSession {
        WeakSession {
            inner: Arc::downgrade(&self.inner),
        }
    }

    /// Ends the session: cancels its pending tasks and asks running ones to stop (later
    /// submits start nothing), and drops its button handlers and state values, which
    /// breaks any reference cycle through them. Calling it again does nothing more.
    /// Servers call it when a session expires and when they stop.
    ///
    /// # Example
    /// ```
    /// use std::time::Duration;
    /// use streamtree::prelude::*;
    /// let session = Session::builder().max_workers(1).build();
    /// let (release, gate) = std::sync::mpsc::channel::<()>();
    /// session.enter(|| submit("busy", move || gate.recv().is_ok()));
    /// let queued = session.enter(|| submit("queued", || 1));
    /// session.close();
    /// session.close(); // idempotent
    /// assert_eq!(queued.status(), TaskStatus::Cancelled);
    /// drop(release);
    /// assert!(session.wait_idle(Duration::from_secs(10)));
    /// ```
    pub fn close(&self) {
        self.inner.tasks.close();
        let buttons = std::mem::take(
            &mut *self
                .inner
                .buttons
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        let state = self.inner.state.take_all();
        // User values (handlers' captures, state) drop here, outside every lock.
        drop(buttons);
        drop(state);
    }
}

#[cfg(test)]
mod tests {
    use super::WeakSession;
    use crate::prelude::*;

    #[test]
    fn close_breaks_a_cycle_through_a_handler_and_is_idempotent() {
        let session = Session::new();
        session.rerun(|| {
            let me = Session::current(); // the cycle: session → handler → session
            Button("me").key("me").on_click(move || {
                let _ = me.id();
            })
        });
        session.enter(|| session_state("kept", || Session::current()));
        let weak = session.downgrade();
        session.close();
        session.close();
        assert!(
            matches!(session.click("me"), Err(crate::ClickError::UnknownKey(_))),
            "close dropped the handlers"
        );
        drop(session);
        assert!(
            weak.upgrade().is_none(),
            "nothing keeps a closed session alive"
        );
    }

    #[test]
    fn user_drop_code_runs_outside_the_session_locks() {
        /// Re-enters the session while being dropped: needs its locks free.
        struct Reenter(WeakSession);
        impl Drop for Reenter {
            fn drop(&mut self) {
                if let Some(s) = self.0.upgrade() {
                    let _ = s.click("x");
                    s.enter(|| session_state("other", || 0u8).get());
                }
            }
        }
        let session = Session::new();
        let weak = session.downgrade();
        session.enter(|| session_state("guard", || Reenter(weak.clone())));
        let w = weak.clone();
        session.rerun(move || {
            let guard = Reenter(w.clone());
            Button("x").on_click(move || {
                let _ = &guard;
            })
        });
        session.close(); // would deadlock if a drop ran under a lock
    }
}
