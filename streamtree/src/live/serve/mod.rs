//! The live HTML server: one [`Session`] per browser, the page pushed over Server-Sent
//! Events whenever that session's tasks change, clicks posted with an anti-forgery token.
//!
//! Routes:
//!
//! | route | answer |
//! | --- | --- |
//! | `GET /` | a rerun as a full document (creates the session and its cookie if needed) |
//! | `GET /events` | `text/event-stream`: one JSON event `{seq, title, busy, html}` per change |
//! | `POST /click` | runs the button's handler, reruns, pushes; `303` to `/` for forms, `204` for JSON |
//!
//! Without JavaScript the page is a `<form>` whose buttons post `key=<address>` with the
//! hidden token, and a `<noscript>` refresh reloads it while tasks are pending or running.
//! With JavaScript an inline script (no timers) applies pushed events and posts clicks as
//! JSON.
//!
//! Files: `registry.rs` (the sessions table and expiry), `live.rs` (one session's push
//! state and render), `pusher.rs` (the per-session push loop), `routes.rs` (the handlers),
//! `script.js` (the client script).

mod live;
mod pusher;
mod registry;
mod routes;

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::{Semaphore, oneshot, watch};

use crate::element::Element;
use crate::runtime::Runtime;
use registry::Shared;

/// Upper bound on pushes per second and session; bursts of task changes fold into one rerun.
///
/// # Example
/// ```
/// assert_eq!(streamtree::live::serve::MAX_PUSHES_PER_SECOND, 30);
/// ```
pub const MAX_PUSHES_PER_SECOND: u32 = 30;

/// Largest accepted `POST /click` body, in bytes; larger ones get a `413`.
///
/// # Example
/// ```
/// assert_eq!(streamtree::live::serve::MAX_CLICK_BODY, 8192);
/// ```
pub const MAX_CLICK_BODY: usize = 8 * 1024;

/// Name of the session cookie (`HttpOnly; SameSite=Strict`, 128 random bits as hex).
///
/// # Example
/// ```
/// assert_eq!(streamtree::live::serve::SESSION_COOKIE, "st_session");
/// ```
pub const SESSION_COOKIE: &str = "st_session";

/// Starts configuring a live server for the app function `root`; see [`Server`].
///
/// # Example
/// ```no_run
/// use streamtree::prelude::*;
/// streamtree::serve(|| Page([Text("hello")]).title("Hello"))
///     .bind(([127, 0, 0, 1], 8501))
///     .run()
///     .unwrap();
/// ```
pub fn serve(root: impl Fn() -> Element + Send + Sync + 'static) -> Server {
    Server {
        root: Arc::new(root),
        addr: SocketAddr::from(([127, 0, 0, 1], 8501)),
        idle_timeout: Server::DEFAULT_IDLE_TIMEOUT,
        max_sessions: Server::DEFAULT_MAX_SESSIONS,
        runtime: None,
        title: "streamtree".to_owned(),
    }
}

pub(super) type Root = Arc<dyn Fn() -> Element + Send + Sync>;

/// A live HTML server for one app function, configured by chained calls and started with
/// [`run`](Self::run) (blocking), [`spawn`](Self::spawn) (background thread) or
/// [`serve_on`](Self::serve_on) (inside your own tokio runtime).
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
/// let mut tcp = std::net::TcpStream::connect(server.addr()).unwrap();
/// tcp.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
/// let mut page = String::new();
/// tcp.read_to_string(&mut page).unwrap();
/// assert!(page.starts_with("HTTP/1.1 200"));
/// assert!(page.contains("<title>Demo</title>"));
/// assert!(page.contains("hi &amp; bye"));
/// assert_eq!(server.session_count(), 1);
/// server.shutdown().unwrap();
/// ```
#[must_use = "a server does nothing until `run`, `spawn` or `serve_on`"]
pub struct Server {
    root: Root,
    addr: SocketAddr,
    idle_timeout: Duration,
    max_sessions: usize,
    runtime: Option<Runtime>,
    title: String,
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

    /// The address to listen on; default `127.0.0.1:8501`. Port 0 picks a free port
    /// ([`Running::addr`] tells which).
    ///
    /// # Example
    /// ```
    /// let s = streamtree::serve(streamtree::Element::empty).bind(([127, 0, 0, 1], 0));
    /// # drop(s);
    /// ```
    pub fn bind(mut self, addr: impl Into<SocketAddr>) -> Self {
        self.addr = addr.into();
        self
    }

    /// How long a session may go without requests or an open event stream before it is
    /// dropped and its tasks cancelled; default [`DEFAULT_IDLE_TIMEOUT`](Self::DEFAULT_IDLE_TIMEOUT).
    ///
    /// # Example
    /// ```
    /// let s = streamtree::serve(streamtree::Element::empty)
    ///     .session_idle_timeout(std::time::Duration::from_secs(60));
    /// # drop(s);
    /// ```
    pub fn session_idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// The most sessions held at once (raised to 1); a new browser beyond it gets a `503`
    /// that says so. Default [`DEFAULT_MAX_SESSIONS`](Self::DEFAULT_MAX_SESSIONS).
    ///
    /// # Example
    /// ```
    /// let s = streamtree::serve(streamtree::Element::empty).max_sessions(100);
    /// # drop(s);
    /// ```
    pub fn max_sessions(mut self, n: usize) -> Self {
        self.max_sessions = n.max(1);
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
        self.runtime = Some(runtime);
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
        self.title = title.into();
        self
    }

    /// Binds, prints the address to stderr and serves until the process ends, on a tokio
    /// runtime of its own.
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
        rt.block_on(async move {
            let listener = TcpListener::bind(self.addr).await?;
            eprintln!("streamtree: serving on http://{}/", listener.local_addr()?);
            self.serve_on(listener, std::future::pending()).await
        })
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
        let listener = std::net::TcpListener::bind(self.addr)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .thread_name("streamtree-serve")
            .build()?;
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let shared = self.into_shared();
        let app = shared.clone();
        let thread = std::thread::Builder::new()
            .name("streamtree-serve-main".to_owned())
            .spawn(move || {
                rt.block_on(async move {
                    let listener = TcpListener::from_std(listener)?;
                    app.serve(listener, async move {
                        // A dropped sender (the `Running` went away) also stops the server.
                        let _ = stop_rx.await;
                    })
                    .await
                })
            })?;
        Ok(Running {
            addr,
            shared,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    /// Serves on `listener` until `shutdown` completes, then closes every event stream,
    /// finishes in-flight requests and drops all sessions (cancelling their tasks). Call
    /// it inside a tokio runtime with the IO and time drivers enabled.
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
        self.into_shared().serve(listener, shutdown).await
    }

    fn into_shared(self) -> Arc<Shared> {
        let (stop, _) = watch::channel(false);
        Arc::new(Shared {
            root: self.root,
            idle_timeout: self.idle_timeout,
            max_sessions: self.max_sessions,
            runtime: self.runtime.unwrap_or_else(Runtime::global),
            title: self.title,
            sessions: Mutex::new(HashMap::new()),
            stop,
            renders: Semaphore::new(
                std::thread::available_parallelism().map_or(2, std::num::NonZero::get),
            ),
        })
    }
}

/// A server started by [`Server::spawn`]. Dropping it stops the server like
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
        self.shared.lock_sessions().len()
    }

    /// Stops the server, waits for its thread and drops all sessions.
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
