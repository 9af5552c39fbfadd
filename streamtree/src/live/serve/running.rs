//! [`Running`]: the handle of a server started by [`Server::spawn`](super::Server::spawn).

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;

use tokio::sync::oneshot;

use super::registry::Shared;

/// A server started by [`Server::spawn`](super::Server::spawn). Dropping it stops the server like
/// [`shutdown`](Self::shutdown), ignoring errors.
///
/// # Example
/// ```
/// let running = streamtree::serve(streamtree::Element::empty)
///     .bind(([127, 0, 0, 1], 0))
///     .spawn()
///     .unwrap();
/// assert_eq!(running.session_count(), 0);
/// drop(running);
/// ```
pub struct Running {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<io::Result<()>>>,
}

impl Running {
    pub(super) fn new(
        addr: SocketAddr,
        shared: Arc<Shared>,
        stop: oneshot::Sender<()>,
        thread: JoinHandle<io::Result<()>>,
    ) -> Running {
        Running {
            addr,
            shared,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// The bound address.
    ///
    /// # Example
    /// ```
    /// let r = streamtree::serve(streamtree::Element::empty).bind(([127, 0, 0, 1], 0)).spawn().unwrap();
    /// assert_ne!(r.addr().port(), 0);
    /// ```
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// How many sessions the server holds now.
    ///
    /// # Example
    /// ```
    /// let r = streamtree::serve(streamtree::Element::empty).bind(([127, 0, 0, 1], 0)).spawn().unwrap();
    /// assert_eq!(r.session_count(), 0);
    /// ```
    pub fn session_count(&self) -> usize {
        self.shared.session_count()
    }

    /// Ends every open event stream now, as a proxy's timeout or a dropped connection
    /// would, and keeps the sessions. Browsers reconnect by themselves (`EventSource`,
    /// after its retry delay) with `Last-Event-ID` and get what changed while they were
    /// away, or the next push (`GET /events` in the [module docs](super)). For tests of
    /// reconnects, and to have every client reconnect (e.g. before moving them).
    ///
    /// # Example
    /// ```
    /// let r = streamtree::serve(streamtree::Element::empty).bind(([127, 0, 0, 1], 0)).spawn().unwrap();
    /// r.drop_streams();
    /// // The server runs on; only the streams open at the call ended.
    /// assert_eq!(r.session_count(), 0);
    /// r.shutdown().unwrap();
    /// ```
    pub fn drop_streams(&self) {
        self.shared.drop_streams.send_modify(|bumps| *bumps += 1);
    }

    /// Stops the server gracefully (as [`Server::serve_on`](super::Server::serve_on)
    /// describes), waits for its thread and closes all sessions.
    ///
    /// # Errors
    /// The server's own error, if it failed while running.
    ///
    /// # Example
    /// ```
    /// let r = streamtree::serve(streamtree::Element::empty).bind(([127, 0, 0, 1], 0)).spawn().unwrap();
    /// r.shutdown().unwrap();
    /// ```
    pub fn shutdown(mut self) -> io::Result<()> {
        self.stop_and_join()
    }

    fn stop_and_join(&mut self) -> io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(_)) => Err(io::Error::other("the server thread panicked")),
            None => Ok(()),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.stop_and_join();
    }
}

impl std::fmt::Debug for Running {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Running")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}
