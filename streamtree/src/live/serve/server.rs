//! [`Server`]: the builder. Each option is one field of [`Config`]; `run`, `spawn` and
//! `serve_on` hand the config to the registry and the accept loop.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::oneshot;

use super::Root;
use super::accept;
use super::registry::Shared;
use super::running::Running;
use crate::runtime::Runtime;

/// Connections the kernel may hold waiting for `accept` (capped by `somaxconn`). The
/// usual 1,024 (128 for std's listener) overflowed under a 1,000-client reconnect flood:
/// dropped SYNs come back after a 1 s retransmit, which was the flood's whole p99 tail.
const LISTEN_BACKLOG: u32 = 4096;

/// A listener on `addr` with the [`LISTEN_BACKLOG`]; call inside a tokio runtime.
fn listen(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    // As `TcpListener::bind` does: a restarted server can bind while old connections
    // linger in TIME_WAIT.
    #[cfg(unix)]
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// Everything a [`Server`] was configured with.
pub(super) struct Config {
    pub(super) root: Root,
    pub(super) addr: SocketAddr,
    /// May be `Duration::MAX` (never expire): deadlines use checked arithmetic.
    pub(super) idle_timeout: Duration,
    pub(super) max_sessions: usize,
    pub(super) runtime: Option<Runtime>,
    pub(super) title: String,
    /// `""` or a path that starts with `/` and does not end with one.
    pub(super) base_path: String,
    pub(super) max_connections: usize,
    pub(super) max_streams_per_session: usize,
    pub(super) max_streams: usize,
    pub(super) max_concurrent_renders: usize,
    pub(super) header_read_timeout: Duration,
    pub(super) request_timeout: Duration,
    pub(super) shutdown_timeout: Duration,
    pub(super) secure_cookies: bool,
    pub(super) trust_proxy: bool,
    pub(super) show_error_details: bool,
    /// Whether `/_streamtree/tasks` serves the session's task inspector.
    pub(super) inspector: bool,
    /// Whether pushes may be patches (`patch.rs`) rather than whole pages.
    pub(super) partial_updates: bool,
    /// At least 1.
    pub(super) max_pushes_per_second: u32,
}

/// A live HTML server for one app function, configured by chained calls and started with
/// [`run`](Self::run) (blocking, stops on Ctrl-C or SIGTERM), [`spawn`](Self::spawn)
/// (background thread) or [`serve_on`](Self::serve_on) (inside your own tokio runtime).
///
/// # Example
/// ```
/// use std::io::{Read, Write};
/// use std::time::Duration;
/// use streamtree::prelude::*;
///
/// let server = streamtree::serve(|| Page([Text("hi & bye")]))
///     .bind(([127, 0, 0, 1], 0))
///     .session_idle_timeout(Duration::from_secs(60))
///     .max_sessions(10)
///     .title("Demo")
///     .spawn()
///     .unwrap();
/// let get = |cookie: &str| {
///     let mut tcp = std::net::TcpStream::connect(server.addr()).unwrap();
///     let request = format!("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{cookie}\r\n");
///     tcp.write_all(request.as_bytes()).unwrap();
///     let mut reply = String::new();
///     tcp.read_to_string(&mut reply).unwrap();
///     reply
/// };
/// // A first visit gets a cookie and a page that reloads with it; that creates the session.
/// let first = get("");
/// let cookie = first.split("set-cookie: ").nth(1).unwrap().split(';').next().unwrap();
/// assert_eq!(server.session_count(), 0);
/// let page = get(&format!("Cookie: {cookie}\r\n"));
/// assert!(page.starts_with("HTTP/1.1 200"));
/// assert!(page.contains("<title>Demo</title>"));
/// assert!(page.contains("hi &amp; bye"));
/// assert_eq!(server.session_count(), 1);
/// server.shutdown().unwrap();
/// ```
#[must_use = "a server does nothing until `run`, `spawn` or `serve_on`"]
pub struct Server {
    cfg: Config,
}

impl Server {
    /// Default time a session may sit idle (no request, no open event stream).
    ///
    /// # Example
    /// ```
    /// assert_eq!(streamtree::Server::DEFAULT_IDLE_TIMEOUT.as_secs(), 900);
    /// ```
    pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(15 * 60);
    /// Default bound on live sessions.
    ///
    /// # Example
    /// ```
    /// assert_eq!(streamtree::Server::DEFAULT_MAX_SESSIONS, 1000);
    /// ```
    pub const DEFAULT_MAX_SESSIONS: usize = 1000;
    /// Default bound on open connections (also kept below the process's file limit).
    ///
    /// # Example
    /// ```
    /// assert_eq!(streamtree::Server::DEFAULT_MAX_CONNECTIONS, 10_000);
    /// ```
    pub const DEFAULT_MAX_CONNECTIONS: usize = 10_000;
    /// Default bound on open event streams per session (browser tabs of one user).
    ///
    /// # Example
    /// ```
    /// assert_eq!(streamtree::Server::DEFAULT_MAX_STREAMS_PER_SESSION, 4);
    /// ```
    pub const DEFAULT_MAX_STREAMS_PER_SESSION: usize = 4;
    /// Default time a client may take to send a request's headers.
    ///
    /// # Example
    /// ```
    /// assert_eq!(streamtree::Server::DEFAULT_HEADER_READ_TIMEOUT.as_secs(), 10);
    /// ```
    pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
    /// Default time a request (not an event stream) may take to be answered.
    ///
    /// # Example
    /// ```
    /// assert_eq!(streamtree::Server::DEFAULT_REQUEST_TIMEOUT.as_secs(), 60);
    /// ```
    pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

    pub(super) fn new(root: Root) -> Server {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        Server {
            cfg: Config {
                root,
                addr: SocketAddr::from(([127, 0, 0, 1], 8501)),
                idle_timeout: Server::DEFAULT_IDLE_TIMEOUT,
                max_sessions: Server::DEFAULT_MAX_SESSIONS,
                runtime: None,
                title: "streamtree".to_owned(),
                base_path: String::new(),
                max_connections: Server::DEFAULT_MAX_CONNECTIONS,
                max_streams_per_session: Server::DEFAULT_MAX_STREAMS_PER_SESSION,
                max_streams: 2 * Server::DEFAULT_MAX_SESSIONS,
                max_concurrent_renders: (4 * cores).max(8),
                header_read_timeout: Server::DEFAULT_HEADER_READ_TIMEOUT,
                request_timeout: Server::DEFAULT_REQUEST_TIMEOUT,
                shutdown_timeout: Duration::from_secs(10),
                secure_cookies: false,
                trust_proxy: false,
                show_error_details: true,
                inspector: false,
                partial_updates: true,
                max_pushes_per_second: super::MAX_PUSHES_PER_SECOND,
            },
        }
    }

    /// The address to listen on; default `127.0.0.1:8501`. Port 0 picks a free port
    /// ([`Running::addr`] tells which).
    ///
    /// # Example
    /// ```
    /// let s = streamtree::serve(streamtree::Element::empty).bind(([127, 0, 0, 1], 0));
    /// # drop(s);
    /// ```
    pub fn bind(mut self, addr: impl Into<SocketAddr>) -> Self {
        self.cfg.addr = addr.into();
        self
    }

    /// How long a session may go without requests or an open event stream before it is
    /// closed (its tasks cancelled); default
    /// [`DEFAULT_IDLE_TIMEOUT`](Self::DEFAULT_IDLE_TIMEOUT). `Duration::MAX` means never.
    ///
    /// # Example
    /// ```
    /// let s = streamtree::serve(streamtree::Element::empty)
    ///     .session_idle_timeout(std::time::Duration::from_secs(60));
    /// # drop(s);
    /// ```
    pub fn session_idle_timeout(mut self, timeout: Duration) -> Self {
        self.cfg.idle_timeout = timeout;
        self
    }

    /// The most sessions held at once (raised to 1). When full, a new browser takes the
    /// place of the least recently active session without an open event stream (which is
    /// closed); only when every session has one does it get a `503`. Default
    /// [`DEFAULT_MAX_SESSIONS`](Self::DEFAULT_MAX_SESSIONS).
    ///
    /// # Example
    /// ```
    /// let s = streamtree::serve(streamtree::Element::empty).max_sessions(100);
    /// # drop(s);
    /// ```
    pub fn max_sessions(mut self, n: usize) -> Self {
        self.cfg.max_sessions = n.max(1);
        self
    }

    /// The most connections open at once (raised to 1); more wait in the listen backlog.
    /// It is also kept below the process's open-file limit, which the server raises to
    /// its hard maximum at start. Default
    /// [`DEFAULT_MAX_CONNECTIONS`](Self::DEFAULT_MAX_CONNECTIONS).
    ///
    /// # Example
    /// ```
    /// let s = streamtree::serve(streamtree::Element::empty).max_connections(512);
    /// # drop(s);
    /// ```
    pub fn max_connections(mut self, n: usize) -> Self {
        self.cfg.max_connections = n.max(1);
        self
    }

    /// The most event streams one session may hold open (raised to 1); one more gets a
    /// `429`. Default [`DEFAULT_MAX_STREAMS_PER_SESSION`](Self::DEFAULT_MAX_STREAMS_PER_SESSION).
    ///
    /// # Example
    /// ```
    /// let s = streamtree::serve(streamtree::Element::empty).max_streams_per_session(2);
    /// # drop(s);
    /// ```
    pub fn max_streams_per_session(mut self, n: usize) -> Self {
        self.cfg.max_streams_per_session = n.max(1);
        self
    }

    /// The most event streams open across all sessions (raised to 1); one more gets a
    /// `503`. Default: twice the default session limit.
    ///
    /// # Example
    /// ```
    /// let s = streamtree::serve(streamtree::Element::empty).max_streams(500);
    /// # drop(s);
    /// ```
    pub fn max_streams(mut self, n: usize) -> Self {
        self.cfg.max_streams = n.max(1);
        self
    }

    /// The most pushes and first pages of new sessions rendering at once (raised to 1);
    /// more queue in arrival order, one per session at most, so slow sessions cannot
    /// starve others and a flood of new visitors cannot hold every thread. Default: four
    /// per core, at least 8.
    ///
    /// # Example
    /// ```
    /// let s = streamtree::serve(streamtree::Element::empty).max_concurrent_renders(16);
    /// # drop(s);
    /// ```
    pub fn max_concurrent_renders(mut self, n: usize) -> Self {
        self.cfg.max_concurrent_renders = n.max(1);
        self
    }

    /// How long a client may take to send a request's headers before the connection is
    /// closed (slow clients cannot hold connections); default
    /// [`DEFAULT_HEADER_READ_TIMEOUT`](Self::DEFAULT_HEADER_READ_TIMEOUT).
    ///
    /// # Example
    /// ```
    /// let s = streamtree::serve(streamtree::Element::empty)
    ///     .header_read_timeout(std::time::Duration::from_secs(5));
    /// # drop(s);
    /// ```
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.cfg.header_read_timeout = timeout;
        self
    }

    /// How long a request may take to be answered (`408` after); event streams, once
    /// open, are not limited. Default [`DEFAULT_REQUEST_TIMEOUT`](Self::DEFAULT_REQUEST_TIMEOUT).
    ///
    /// # Example
    /// ```
    /// let s = streamtree::serve(streamtree::Element::empty)
    ///     .request_timeout(std::time::Duration::from_secs(30));
    /// # drop(s);
    /// ```
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.cfg.request_timeout = timeout;
        self
    }

    /// On shutdown, how long in-flight requests may take to finish before their
    /// connections are dropped; default 10 s.
    ///
    /// # Example
    /// ```
    /// let s = streamtree::serve(streamtree::Element::empty)
    ///     .shutdown_timeout(std::time::Duration::from_secs(3));
    /// # drop(s);
    /// ```
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.cfg.shutdown_timeout = timeout;
        self
    }

    /// Serves the app under a path prefix, e.g. `/apps/x` behind a reverse proxy: every
    /// route, redirect, cookie path and script URL starts with it. Default none. Trailing
    /// slashes are ignored and a missing leading one is added.
    ///
    /// # Example
    /// ```
    /// let s = streamtree::serve(streamtree::Element::empty).base_path("/apps/x");
    /// # drop(s);
    /// ```
    pub fn base_path(mut self, path: &str) -> Self {
        let trimmed = path.trim_matches('/');
        self.cfg.base_path = if trimmed.is_empty() {
            String::new()
        } else {
            format!("/{trimmed}")
        };
        self
    }

    /// The document title when the app's root is not a titled `Page`; default `streamtree`.
    ///
    /// # Example
    /// ```
    /// let s = streamtree::serve(streamtree::Element::empty).title("My app");
    /// # drop(s);
    /// ```
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.cfg.title = title.into();
        self
    }

    /// The task runtime all sessions share; default [`Runtime::global`].
    ///
    /// # Example
    /// ```
    /// let rt = streamtree::Runtime::builder().max_workers(16).build();
    /// let s = streamtree::serve(streamtree::Element::empty).runtime(rt);
    /// # drop(s);
    /// ```
    pub fn runtime(mut self, runtime: Runtime) -> Self {
        self.cfg.runtime = Some(runtime);
        self
    }

    /// Marks the session cookie `Secure` (sent over https only). Default off; on anyway
    /// for a request that a trusted proxy says came over https
    /// ([`trust_proxy`](Self::trust_proxy)).
    ///
    /// # Example
    /// ```
    /// let s = streamtree::serve(streamtree::Element::empty).secure_cookies(true);
    /// # drop(s);
    /// ```
    pub fn secure_cookies(mut self, on: bool) -> Self {
        self.cfg.secure_cookies = on;
        self
    }

    /// Believes the `X-Forwarded-Proto` header (set this only behind a reverse proxy that
    /// sets it): `https` there makes the session cookie `Secure`. Default off.
    ///
    /// # Example
    /// ```
    /// let s = streamtree::serve(streamtree::Element::empty).trust_proxy(true);
    /// # drop(s);
    /// ```
    pub fn trust_proxy(mut self, on: bool) -> Self {
        self.cfg.trust_proxy = on;
        self
    }

    /// Whether users see the details of a failed click or render (a handler's panic
    /// message) and of panics shown in the page (the error box of a component or app that
    /// panicked). Off, they see "Something went wrong (reference `<id>`)" instead, and the
    /// details go to the log (`tracing`) under the same id, as Streamlit's
    /// `client.showErrorDetails`. Default on.
    ///
    /// # Example
    /// ```
    /// let s = streamtree::serve(streamtree::Element::empty).show_error_details(false);
    /// # drop(s);
    /// ```
    pub fn show_error_details(mut self, on: bool) -> Self {
        self.cfg.show_error_details = on;
        self
    }

    /// Serves the task inspector ([`TaskInspector`](crate::live::TaskInspector)) of the
    /// requesting session at `/_streamtree/tasks` (under the base path): a live page of
    /// the session's tasks with Cancel, Refresh and Dismiss buttons, updated by the same
    /// pushes as the app's page. Off by default (the path answers `404`): it is a
    /// development aid.
    ///
    /// # Example
    /// ```
    /// let s = streamtree::serve(streamtree::Element::empty).inspector(true);
    /// # drop(s);
    /// ```
    pub fn inspector(mut self, on: bool) -> Self {
        self.cfg.inspector = on;
        self
    }

    /// Whether a push may carry only what changed since the stream's previous push (the
    /// elements whose own markup changed, addressed by their path in the page) instead of
    /// the whole page; on by default. Off, every push is the whole page, as a baseline
    /// for measurements.
    ///
    /// # Example
    /// ```
    /// let s = streamtree::serve(streamtree::Element::empty).partial_updates(false);
    /// # drop(s);
    /// ```
    pub fn partial_updates(mut self, on: bool) -> Self {
        self.cfg.partial_updates = on;
        self
    }

    /// The most pushes per second one session's page gets; default
    /// [`MAX_PUSHES_PER_SECOND`](super::MAX_PUSHES_PER_SECOND) (60). Task changes inside
    /// the interval fold into the next push (the last state always goes out), so a lower
    /// rate costs latency, never a lost change. `0` is taken as 1.
    ///
    /// # Example
    /// ```
    /// let s = streamtree::serve(streamtree::Element::empty).max_pushes_per_second(20);
    /// # drop(s);
    /// ```
    pub fn max_pushes_per_second(mut self, n: u32) -> Self {
        self.cfg.max_pushes_per_second = n.max(1);
        self
    }

    /// Binds and serves until Ctrl-C or SIGTERM, on a tokio runtime of its own, then shuts
    /// down gracefully (see [`serve_on`](Self::serve_on)) and returns `Ok`. The address
    /// and errors are logged through `tracing`; install a subscriber to see them.
    ///
    /// # Errors
    /// When the runtime cannot start or the address cannot be bound.
    ///
    /// # Example
    /// ```no_run
    /// streamtree::serve(|| streamtree::elements::Text("hi")).run().unwrap();
    /// ```
    pub fn run(self) -> io::Result<()> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .thread_name("streamtree-serve")
            .build()?;
        let result = rt.block_on(async move {
            let listener = listen(self.cfg.addr)?;
            tracing::info!(address = %listener.local_addr()?, base_path = %self.cfg.base_path, "streamtree: serving");
            self.serve_on(listener, accept::termination()).await
        });
        // A handler that never returns must not keep the process from exiting.
        rt.shutdown_timeout(Duration::from_secs(1));
        result
    }

    /// Binds and serves on a background thread with its own tokio runtime; the returned
    /// [`Running`] tells the address and stops the server. For tests and embedding.
    ///
    /// # Errors
    /// When the address cannot be bound or the runtime cannot start.
    ///
    /// # Example
    /// ```
    /// let running = streamtree::serve(streamtree::Element::empty)
    ///     .bind(([127, 0, 0, 1], 0))
    ///     .spawn()
    ///     .unwrap();
    /// assert!(running.addr().ip().is_loopback());
    /// running.shutdown().unwrap();
    /// ```
    pub fn spawn(self) -> io::Result<Running> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .thread_name("streamtree-serve")
            .build()?;
        let listener = {
            let _reactor = rt.enter();
            listen(self.cfg.addr)?
        };
        let addr = listener.local_addr()?;
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let shared = Shared::new(self.cfg);
        let app = shared.clone();
        let thread = std::thread::Builder::new()
            .name("streamtree-serve-main".to_owned())
            .spawn(move || {
                let result = rt.block_on(async move {
                    accept::serve(app, listener, async move {
                        // A dropped sender (the `Running` went away) also stops the server.
                        let _ = stop_rx.await;
                    })
                    .await
                });
                rt.shutdown_timeout(Duration::from_secs(1));
                result
            })?;
        Ok(Running::new(addr, shared, stop_tx, thread))
    }

    /// Serves on `listener` until `shutdown` completes, then stops gracefully: stops
    /// accepting, closes every event stream, lets in-flight requests finish (up to
    /// [`shutdown_timeout`](Self::shutdown_timeout)) and closes all sessions (cancelling
    /// their tasks). Call it inside a tokio runtime with the IO and time drivers enabled.
    ///
    /// # Errors
    /// When accepting connections fails fatally.
    ///
    /// # Example
    /// ```
    /// # let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    /// # rt.block_on(async {
    /// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    /// streamtree::serve(streamtree::Element::empty)
    ///     .serve_on(listener, async {}) // stops at once
    ///     .await
    ///     .unwrap();
    /// # });
    /// ```
    pub async fn serve_on(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> io::Result<()> {
        accept::serve(Shared::new(self.cfg), listener, shutdown).await
    }
}
