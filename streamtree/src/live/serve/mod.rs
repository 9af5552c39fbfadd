//! The live HTML server: one [`Session`](crate::Session) per browser, the page pushed
//! over Server-Sent Events whenever that session's tasks change, clicks posted with an
//! anti-forgery token. Start it with [`serve`] and configure it on [`Server`].
//!
//! Routes (under [`Server::base_path`], if set):
//!
//! | route | answer |
//! | --- | --- |
//! | `GET /` | a rerun as a full document (gzipped when the client accepts it); without a session, a tiny page that sets a cookie and reloads (the session is created when the cookie comes back) |
//! | `HEAD /` | the headers of a page, without creating a session |
//! | `GET /healthz` | `200 ok` while the server runs; creates no session |
//! | `GET /events` | `text/event-stream`: one JSON event per change, its id the seq: the whole page `{seq, title, busy, html}`, or a patch `{seq, base, title, busy, patch: [[path, html], ..]}` that applies to the page of the stream's event `base` (see below); a reconnect with `Last-Event-ID: n` gets the current render at once if newer than `n` (as a patch when it was made from `n`), else the next (never an older one). gzipped when the client accepts it, flushed after every event (`gzip.rs`), so each event arrives whole |
//! | `POST /click` | sets the inputs it carries, runs the button's handler, reruns, pushes; `303` to `/` for forms, `204` for JSON |
//!
//! Without JavaScript the page is a `<form>` whose buttons post `key=<address>` with the
//! hidden token and every input as `in.<key>=<value>` (a page with inputs also gets an
//! "Apply changes" button, first in the form so Enter in a field applies rather than
//! clicks), and a `<noscript>` refresh reloads it while tasks are pending or running.
//! With JavaScript an inline script (no timers) applies pushed events, posts clicks as
//! JSON `{"token", "key"}` and each changed input, on `change` or Enter, as
//! `{"token", "input", "value"}`; a refused value (`400` bad value, `404` unknown key,
//! `409` disabled, the reason in the body) is shown in the page's note and the control
//! goes back to its last rendered value. A push keeps the text, focus and caret of the
//! field being typed in.
//!
//! Keyed partial updates (`patch.rs`, on by default, [`Server::partial_updates`]): each
//! published render is diffed against the one published before it, and a stream whose
//! last event was that one gets only the elements whose own markup changed (start tag,
//! text between children, number of children), each addressed by its path of
//! element-child indexes from the page root and replaced whole in the browser; unchanged
//! subtrees are not re-sent, so a progress tick beside a 100 × 100 table is a few hundred
//! bytes. The whole page goes out instead for a new stream, a resume from any other page,
//! a change of the root's structure, HTML that does not parse as balanced tags, or a
//! patch not smaller than the page. The script applies a patch only on top of the event
//! it names as `base`, else it opens a fresh stream (which starts with the whole page).
//!
//! Against hostile clients: header-read and request timeouts, a connection cap below the
//! open-file limit (raised at start), a bounded session table that evicts the least
//! recently active session without an event stream, event streams capped per session and
//! in total, one rerun or handler at a time per session (others wait without holding a
//! thread), bounded and fair push renders, and rate-limited `tracing` events for panics.
//!
//! Files, one structure each: `server.rs` (the builder), `running.rs` (the handle of a
//! spawned server), `accept.rs` (connections, limits, graceful shutdown), `registry.rs`
//! (the sessions table, eviction, the expiry sweeper), `live.rs` (one session's push state
//! and render), `pusher.rs` (the per-session push loop), `routes.rs` (the handlers),
//! `click.rs` (the click handler), `visitor.rs` (first visits and cookies), `panics.rs` (the rate-limited panic log), `patch.rs`
//! (the diff behind partial updates; its tests in `patch_tests.rs`), `gzip.rs` (event streams gzipped per event),
//! `script.js` (the client script).

mod accept;
mod click;
mod gzip;
mod live;
mod panics;
mod patch;
mod pusher;
mod registry;
mod routes;
mod running;
mod server;
mod visitor;

use std::sync::Arc;

use crate::element::Element;

pub use running::Running;
pub use server::Server;

/// Default upper bound on pushes per second and session
/// ([`Server::max_pushes_per_second`] changes it); bursts of task changes fold into one
/// rerun. 60 keeps a change's wait for the next push under 17 ms (a worker's progress
/// reaches the page within 20 ms) while a push that is a patch costs a few hundred bytes.
///
/// # Example
/// ```
/// assert_eq!(streamtree::live::serve::MAX_PUSHES_PER_SECOND, 60);
/// ```
pub const MAX_PUSHES_PER_SECOND: u32 = 60;

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
    Server::new(Arc::new(root))
}

/// The app function all sessions share.
pub(super) type Root = Arc<dyn Fn() -> Element + Send + Sync>;
