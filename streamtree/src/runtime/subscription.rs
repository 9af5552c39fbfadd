//! [`Subscription`]: a receiver of one task set's change notifications.

use std::fmt;
use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError};

/// Notifications of a session's task changes: every status or progress change wakes the
/// subscriber. Wake-ups coalesce: several changes before a wait count as one, so after a
/// wake-up, re-read what you watch.
///
/// # Example
/// ```
/// use std::time::Duration;
/// use streamtree::prelude::*;
/// let session = Session::new();
/// let sub = session.subscribe();
/// let h = session.enter(|| submit("job", || 1));
/// while h.status() != TaskStatus::Done {
///     assert!(sub.wait_timeout(Duration::from_secs(10)));
/// }
/// ```
pub struct Subscription {
    rx: Receiver<()>,
}

impl Subscription {
    /// A subscription receiving on `rx` (its sender is kept by the task set).
    pub(crate) fn new(rx: Receiver<()>) -> Subscription {
        Subscription { rx }
    }
}

impl fmt::Debug for Subscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscription").finish_non_exhaustive()
    }
}

impl Subscription {
    /// Waits up to `timeout` for a change; true if one came, false on timeout or when the
    /// session is gone.
    ///
    /// # Example
    /// ```
    /// let sub = streamtree::Session::new().subscribe();
    /// assert!(!sub.wait_timeout(std::time::Duration::ZERO));
    /// ```
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        match self.rx.recv_timeout(timeout) {
            Ok(()) => true,
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => false,
        }
    }

    /// Waits for a change; false when the session is gone (no change can come).
    ///
    /// # Example
    /// ```
    /// use streamtree::prelude::*;
    /// let session = Session::new();
    /// let sub = session.subscribe();
    /// session.enter(|| submit("job", || ()));
    /// assert!(sub.recv());
    /// ```
    pub fn recv(&self) -> bool {
        self.rx.recv().is_ok()
    }

    /// Takes a pending change without waiting; true if there was one.
    ///
    /// # Example
    /// ```
    /// let sub = streamtree::Session::new().subscribe();
    /// assert!(!sub.try_recv());
    /// ```
    pub fn try_recv(&self) -> bool {
        self.rx.try_recv().is_ok()
    }

    /// The underlying channel, for `crossbeam_channel::select!` alongside other events.
    /// Each message is one (coalesced) change; disconnection means the session is gone.
    ///
    /// # Example
    /// ```
    /// let sub = streamtree::Session::new().subscribe();
    /// assert!(sub.receiver().is_empty());
    /// ```
    pub fn receiver(&self) -> &Receiver<()> {
        &self.rx
    }
}
