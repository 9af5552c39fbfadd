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
//! Invariants:
//! - a session lives in `Shared::sessions` until its pusher expires it (idle for
//!   `idle_timeout` with no open event stream) or the server stops; removal drops the last
//!   long-lived `Session` clone, which cancels its tasks;
//! - lookups and expiry both hold the sessions lock and then the session's activity lock,
//!   in that order, so a session being used is never expired under a request;
//! - reruns, clicks and renders of one session are serialized by its `render` lock and run
//!   on blocking threads, never on the async reactor; the seq they stamp grows with the
//!   content, so a client applies only newer pushes;
//! - pushes per session are coalesced to at most [`MAX_PUSHES_PER_SECOND`]: change
//!   notifications arriving inside the interval fold into the next rerun (`Notify` keeps one
//!   permit, so none is lost).

use std::collections::HashMap;
use std::convert::Infallible;
use std::fmt::Write as _;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tokio::sync::{Notify, Semaphore, oneshot, watch};

use crate::element::Element;
use crate::render::html;
use crate::runtime::Runtime;
use crate::session::{ClickError, OnChange, Session};

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

type Root = Arc<dyn Fn() -> Element + Send + Sync>;

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

/// What all requests share.
struct Shared {
    root: Root,
    idle_timeout: Duration,
    max_sessions: usize,
    runtime: Runtime,
    title: String,
    /// Live sessions by cookie id. Inserted by `GET /` (under the limit), removed by the
    /// session's pusher on expiry and by `serve` on shutdown.
    sessions: Mutex<HashMap<u128, Arc<Live>>>,
    /// Becomes `true` once, when the server stops; event streams and pushers end on it.
    stop: watch::Sender<bool>,
    /// Bounds concurrent pusher renders to the core count: a burst of task changes across
    /// many sessions queues here instead of spawning a blocking thread per session.
    renders: Semaphore,
}

/// One browser's session and its push state.
struct Live {
    id: u128,
    session: Session,
    /// The anti-forgery token every `POST /click` must echo; 32 hex digits.
    token: String,
    /// Serializes reruns, clicks and renders of this session; holds the last seq stamped.
    render: Mutex<u64>,
    /// The latest render, for the event streams. Written only under `render`.
    page: watch::Sender<Arc<Snapshot>>,
    /// Woken by the session's task changes (and by a new event stream).
    changed: Arc<Notify>,
    /// Keeps the `changed` hook registered for the session's life.
    _on_change: OnChange,
    /// Written by lookups (under the sessions lock) and by closing streams.
    activity: Mutex<Activity>,
}

struct Activity {
    last_seen: Instant,
    streams: usize,
}

/// One rendered rerun.
struct Snapshot {
    seq: u64,
    title: String,
    busy: bool,
    html: String,
    /// The push event's data: `{"seq":..,"title":..,"busy":..,"html":..}`.
    json: String,
}

#[derive(Serialize)]
struct PushJson<'a> {
    seq: u64,
    title: &'a str,
    busy: bool,
    html: &'a str,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    async fn serve(
        self: Arc<Self>,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> io::Result<()> {
        let router = Router::new()
            .route("/", get(page))
            .route("/events", get(events))
            .route("/click", post(click))
            .fallback(not_found)
            .with_state(self.clone());
        let stop = self.stop.clone();
        let result = axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                shutdown.await;
                stop.send_replace(true);
            })
            .await;
        // Streams and pushers have seen `stop`; dropping the map drops the sessions.
        self.stop.send_replace(true);
        let sessions = std::mem::take(&mut *self.lock_sessions());
        drop(sessions);
        result
    }

    fn lock_sessions(&self) -> std::sync::MutexGuard<'_, HashMap<u128, Arc<Live>>> {
        lock(&self.sessions)
    }

    /// The session with cookie id `id`, marked as used now (and as holding one more event
    /// stream when `stream`).
    fn lookup(&self, id: u128, stream: bool) -> Option<Arc<Live>> {
        let sessions = self.lock_sessions();
        let live = sessions.get(&id)?.clone();
        let mut activity = lock(&live.activity);
        activity.last_seen = Instant::now();
        if stream {
            activity.streams += 1;
        }
        drop(activity);
        Some(live)
    }

    /// A new session with its pusher started; `None` at the session limit.
    fn create(self: &Arc<Self>) -> Option<Arc<Live>> {
        let mut sessions = self.lock_sessions();
        if sessions.len() >= self.max_sessions {
            return None;
        }
        let mut id = random_u128();
        while sessions.contains_key(&id) {
            id = random_u128();
        }
        let session = Session::builder().runtime(self.runtime.clone()).build();
        let changed = Arc::new(Notify::new());
        let hook = changed.clone();
        let on_change = session.on_change(move || hook.notify_one());
        let (page, _) = watch::channel(Arc::new(Snapshot {
            seq: 0,
            title: String::new(),
            busy: false,
            html: String::new(),
            json: String::new(),
        }));
        let live = Arc::new(Live {
            id,
            session,
            token: format!("{:032x}", random_u128()),
            render: Mutex::new(0),
            page,
            changed,
            _on_change: on_change,
            activity: Mutex::new(Activity {
                last_seen: Instant::now(),
                streams: 0,
            }),
        });
        sessions.insert(id, live.clone());
        drop(sessions);
        tokio::spawn(pusher(self.clone(), live.clone()));
        Some(live)
    }

    /// Removes `live` if it has been idle for the timeout with no stream open.
    fn try_expire(&self, live: &Live) -> bool {
        let mut sessions = self.lock_sessions();
        let activity = lock(&live.activity);
        let expired = activity.streams == 0 && activity.last_seen.elapsed() >= self.idle_timeout;
        drop(activity);
        if expired {
            sessions.remove(&live.id);
        }
        expired
    }

    /// Reruns `live` on this (blocking) thread and publishes the render; see
    /// [`Live::render_locked`].
    fn render(&self, live: &Live) -> (Arc<Snapshot>, bool) {
        let mut seq = lock(&live.render);
        live.render_locked(&mut seq, &*self.root, &self.title)
    }
}

impl Live {
    /// Reruns, renders and publishes to the event streams when anything visible changed;
    /// returns the render and whether it was published. The caller holds the `render`
    /// lock (`seq`).
    fn render_locked(
        &self,
        seq: &mut u64,
        root: &(dyn Fn() -> Element + Send + Sync),
        fallback_title: &str,
    ) -> (Arc<Snapshot>, bool) {
        let tree = self.session.rerun(root);
        let html = html::fragment(&tree);
        let title = html::title(&tree).unwrap_or(fallback_title).to_owned();
        let busy = !self.session.wait_idle(Duration::ZERO);
        *seq += 1;
        let json = serde_json::to_string(&PushJson {
            seq: *seq,
            title: &title,
            busy,
            html: &html,
        })
        .expect("a struct of strings, bools and numbers serializes");
        let snapshot = Arc::new(Snapshot {
            seq: *seq,
            title,
            busy,
            html,
            json,
        });
        let sent = self.page.send_if_modified(|current| {
            let changed = current.html != snapshot.html
                || current.busy != snapshot.busy
                || current.title != snapshot.title;
            if changed {
                *current = snapshot.clone();
            }
            changed
        });
        (snapshot, sent)
    }
}

/// Per session: reruns and pushes on task changes (coalesced), and expires the session
/// when it has been idle for the timeout.
async fn pusher(shared: Arc<Shared>, live: Arc<Live>) {
    let min_interval = Duration::from_secs(1) / MAX_PUSHES_PER_SECOND;
    let mut stop = shared.stop.subscribe();
    let mut last_push: Option<tokio::time::Instant> = None;
    loop {
        let deadline = {
            let activity = lock(&live.activity);
            let from = if activity.streams > 0 {
                Instant::now()
            } else {
                activity.last_seen
            };
            tokio::time::Instant::from_std(from + shared.idle_timeout)
        };
        tokio::select! {
            () = live.changed.notified() => {}
            () = tokio::time::sleep_until(deadline) => {
                if shared.try_expire(&live) {
                    return;
                }
                continue;
            }
            _ = stop.wait_for(|stopped| *stopped) => return,
        }
        // Nobody listens: the next stream asks for a fresh render when it opens.
        if live.page.receiver_count() == 0 {
            continue;
        }
        if let Some(at) = last_push {
            tokio::time::sleep_until(at + min_interval).await;
        }
        let Ok(_permit) = shared.renders.acquire().await else {
            return;
        };
        let (app, session) = (shared.clone(), live.clone());
        match tokio::task::spawn_blocking(move || app.render(&session)).await {
            // Only pushes that went out count against the rate; unchanged renders are free.
            Ok((_, true)) => last_push = Some(tokio::time::Instant::now()),
            Ok((_, false)) => {}
            // A render never panics (reruns contain panics); if the runtime is shutting
            // down the task was cancelled. Either way this pusher is done.
            Err(_) => return,
        }
    }
}

/// Decrements a session's open streams when an event stream ends.
struct StreamGuard(Arc<Live>);

impl Drop for StreamGuard {
    fn drop(&mut self) {
        let mut activity = lock(&self.0.activity);
        activity.streams -= 1;
        activity.last_seen = Instant::now();
    }
}

fn random_u128() -> u128 {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the operating system's random source is available");
    u128::from_le_bytes(bytes)
}

/// The session id from the `Cookie` headers, if one is well formed.
fn session_id(headers: &HeaderMap) -> Option<u128> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().strip_prefix(SESSION_COOKIE)?.strip_prefix('='))
        .find_map(|value| {
            (value.len() == 32 && value.bytes().all(|b| b.is_ascii_hexdigit()))
                .then(|| u128::from_str_radix(value, 16).ok())
                .flatten()
        })
}

fn text(status: StatusCode, message: impl Into<String>) -> Response {
    let mut body = message.into();
    body.push('\n');
    (
        status,
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

/// Compares without an early exit, so the time taken does not tell how much matched.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The inline client: applies pushes, posts clicks as JSON. No timers, no polling.
const SCRIPT: &str = r#"(function () {
  var form = document.getElementById("st-form");
  var root = document.getElementById("st-root");
  var note = document.getElementById("st-note");
  var seq = Number(root.getAttribute("data-st-seq"));
  var token = form.elements.token.value;
  function say(message) { note.textContent = message; note.hidden = !message; }
  function apply(push) {
    if (push.seq <= seq) return;
    seq = push.seq;
    root.innerHTML = push.html;
    document.title = push.title;
  }
  var events = new EventSource("/events");
  events.onmessage = function (e) { apply(JSON.parse(e.data)); };
  events.onopen = function () { say(""); };
  events.onerror = function () {
    say(events.readyState === 2 ? "Disconnected from the server: reload the page." : "Reconnecting…");
  };
  form.addEventListener("submit", function (e) {
    var button = e.submitter;
    if (!button || button.name !== "key") return;
    e.preventDefault();
    fetch("/click", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ token: token, key: button.value })
    }).then(function (r) { return r.ok ? "" : r.text(); },
            function () { return "The click did not reach the server."; })
      .then(say);
  });
})();"#;

/// `GET /`: the page, creating the session on first visit.
async fn page(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let (live, new) = match session_id(&headers).and_then(|id| shared.lookup(id, false)) {
        Some(live) => (live, false),
        None => match shared.create() {
            Some(live) => (live, true),
            None => {
                return text(
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!(
                        "This server already holds its limit of {} sessions. Try again after \
                         an idle session expires ({} s without activity).",
                        shared.max_sessions,
                        shared.idle_timeout.as_secs()
                    ),
                );
            }
        },
    };
    let (app, session) = (shared.clone(), live.clone());
    let Ok((snapshot, _)) = tokio::task::spawn_blocking(move || app.render(&session)).await else {
        return text(
            StatusCode::INTERNAL_SERVER_ERROR,
            "rendering the page failed",
        );
    };
    let nonce = format!("{:032x}", random_u128());
    let head = if snapshot.busy {
        // Without JavaScript, reload while tasks run; with it, `<noscript>` is inert.
        "<noscript><meta http-equiv=\"refresh\" content=\"1\"></noscript>\n"
    } else {
        ""
    };
    let mut body_start = String::with_capacity(256);
    let _ = write!(
        body_start,
        "<form id=\"st-form\" method=\"post\" action=\"/click\">\
         <input type=\"hidden\" name=\"token\" value=\"{}\">\
         <div id=\"st-note\" class=\"st-error\" role=\"status\" hidden></div>\
         <div id=\"st-root\" data-st-seq=\"{}\">",
        live.token, snapshot.seq
    );
    let body_end = format!("</div></form>\n<script nonce=\"{nonce}\">\n{SCRIPT}\n</script>");
    let document = html::document_with(
        &snapshot.html,
        &snapshot.title,
        &html::Shell {
            head,
            body_start: &body_start,
            body_end: &body_end,
        },
    );
    let csp = format!(
        "default-src 'none'; script-src 'nonce-{nonce}'; style-src 'unsafe-inline'; \
         img-src 'self' https: data:; connect-src 'self'; form-action 'self'; \
         base-uri 'none'; frame-ancestors 'none'"
    );
    let mut response = (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        document,
    )
        .into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&csp) {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    if new {
        let cookie = format!(
            "{SESSION_COOKIE}={:032x}; Path=/; HttpOnly; SameSite=Strict",
            live.id
        );
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            headers.insert(header::SET_COOKIE, value);
        }
    }
    response
}

/// `GET /events`: the session's pushes as Server-Sent Events, the current render first.
async fn events(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let Some(id) = session_id(&headers) else {
        return text(
            StatusCode::FORBIDDEN,
            "No session cookie: open the page (GET /) first.",
        );
    };
    let Some(live) = shared.lookup(id, true) else {
        return text(
            StatusCode::FORBIDDEN,
            "Unknown or expired session: reload the page.",
        );
    };
    let guard = StreamGuard(live.clone());
    let mut rx = live.page.subscribe();
    rx.mark_changed();
    // The pusher skipped changes while no stream was open: ask it for a fresh render.
    live.changed.notify_one();
    let stop = shared.stop.subscribe();
    let stream = futures_util::stream::unfold((rx, stop, guard), |mut state| async move {
        let (rx, stop, _) = &mut state;
        tokio::select! {
            changed = rx.changed() => changed.ok()?,
            _ = stop.wait_for(|stopped| *stopped) => return None,
        }
        let event = Event::default().data(&rx.borrow_and_update().json);
        Some((Ok::<_, Infallible>(event), state))
    });
    let mut response = Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A click as the script sends it.
#[derive(Deserialize)]
struct ClickJson {
    token: Option<String>,
    key: Option<String>,
}

enum Kind {
    Form,
    Json,
}

/// `POST /click`: token check, then handler, rerun and push (Streamlit's order).
async fn click(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Body) -> Response {
    let Some(id) = session_id(&headers) else {
        return text(
            StatusCode::FORBIDDEN,
            "No session cookie: open the page (GET /) first, then click.",
        );
    };
    let Some(live) = shared.lookup(id, false) else {
        return text(
            StatusCode::FORBIDDEN,
            "Unknown or expired session: reload the page, then click again.",
        );
    };
    let too_large = || {
        text(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("The click request is larger than {MAX_CLICK_BODY} bytes."),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_CLICK_BODY as u64) {
        return too_large();
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mime = content_type.split(';').next().unwrap_or("").trim();
    let kind = if mime.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        Kind::Form
    } else if mime.eq_ignore_ascii_case("application/json") {
        Kind::Json
    } else {
        return text(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "A click is posted as application/x-www-form-urlencoded or application/json.",
        );
    };
    let Ok(bytes) = axum::body::to_bytes(body, MAX_CLICK_BODY).await else {
        return too_large();
    };
    let (token, key) = match parse_click(&kind, &bytes) {
        Ok(fields) => fields,
        Err(message) => return text(StatusCode::BAD_REQUEST, message),
    };
    if !token.is_some_and(|t| same_secret(t.as_bytes(), live.token.as_bytes())) {
        return text(
            StatusCode::FORBIDDEN,
            "Missing or stale anti-forgery token: reload the page, then click again.",
        );
    }
    let app = shared.clone();
    let session = live.clone();
    let outcome = tokio::task::spawn_blocking(move || {
        let mut seq = lock(&session.render);
        let result = session.session.click(&key);
        // A failed lookup changed nothing; a panicked handler may have, so show it.
        if !matches!(
            result,
            Err(ClickError::UnknownKey(_) | ClickError::Disabled(_))
        ) {
            session.render_locked(&mut seq, &*app.root, &app.title);
        }
        result
    })
    .await;
    match outcome {
        Ok(Ok(())) => match kind {
            Kind::Form => (StatusCode::SEE_OTHER, [(header::LOCATION, "/")]).into_response(),
            Kind::Json => StatusCode::NO_CONTENT.into_response(),
        },
        Ok(Err(err @ ClickError::UnknownKey(_))) => {
            text(StatusCode::NOT_FOUND, format!("{err}: reload the page."))
        }
        Ok(Err(err @ ClickError::Disabled(_))) => text(StatusCode::CONFLICT, err.to_string()),
        Ok(Err(err)) => text(StatusCode::INTERNAL_SERVER_ERROR, err.to_string()),
        Err(_) => text(
            StatusCode::INTERNAL_SERVER_ERROR,
            "running the click failed",
        ),
    }
}

/// `(token, key)` from a click body; the token may be missing (a `403` later), the key not.
fn parse_click(kind: &Kind, bytes: &Bytes) -> Result<(Option<String>, String), String> {
    let (token, key) = match kind {
        Kind::Form => {
            if std::str::from_utf8(bytes).is_err() {
                return Err("The click form is not valid UTF-8.".to_owned());
            }
            let (mut token, mut key) = (None, None);
            for (name, value) in form_urlencoded::parse(bytes) {
                let slot = match &*name {
                    "token" => &mut token,
                    "key" => &mut key,
                    _ => continue,
                };
                if slot.replace(value.into_owned()).is_some() {
                    return Err(format!("The click form has field `{name}` twice."));
                }
            }
            (token, key)
        }
        Kind::Json => {
            let click: ClickJson = serde_json::from_slice(bytes).map_err(|e| {
                format!("The click is not JSON of the form {{\"token\": .., \"key\": ..}}: {e}")
            })?;
            (click.token, click.key)
        }
    };
    let key = key.ok_or_else(|| "The click names no button: field `key` is missing.".to_owned())?;
    Ok((token, key))
}

async fn not_found(uri: Uri) -> Response {
    text(
        StatusCode::NOT_FOUND,
        format!("No page at {}: the app lives at /.", uri.path()),
    )
}
