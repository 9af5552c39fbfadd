//! The sessions table: what all requests share, lookups, creation under the session
//! limit, and expiry.
//!
//! Invariants:
//! - a session lives in `Shared::sessions` until it expires (idle for `idle_timeout` with
//!   no open event stream) or the server stops; removal drops the last long-lived
//!   `Session` clone, which cancels its tasks;
//! - lookups and expiry both hold the sessions lock and then the session's activity lock,
//!   in that order, so a session being used is never expired under a request.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::{get, post};
use tokio::net::TcpListener;
use tokio::sync::{Notify, Semaphore, watch};

use super::Root;
use super::live::{Activity, Live, Snapshot, lock};
use super::pusher::pusher;
use super::routes::{click, events, not_found, page, random_u128};
use crate::runtime::Runtime;
use crate::session::Session;

/// What all requests share.
pub(super) struct Shared {
    pub(super) root: Root,
    pub(super) idle_timeout: Duration,
    pub(super) max_sessions: usize,
    pub(super) runtime: Runtime,
    pub(super) title: String,
    /// Live sessions by cookie id. Inserted by `GET /` (under the limit), removed by the
    /// session's pusher on expiry and by `serve` on shutdown.
    pub(super) sessions: Mutex<HashMap<u128, Arc<Live>>>,
    /// Becomes `true` once, when the server stops; event streams and pushers end on it.
    pub(super) stop: watch::Sender<bool>,
    /// Bounds concurrent pusher renders to the core count: a burst of task changes across
    /// many sessions queues here instead of spawning a blocking thread per session.
    pub(super) renders: Semaphore,
}

impl Shared {
    pub(super) async fn serve(
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
        // Streams and pushers have seen `stop`; close every session (cancelling its tasks,
        // dropping its handlers) on a blocking thread: user `Drop` code may block.
        self.stop.send_replace(true);
        let sessions = std::mem::take(&mut *self.lock_sessions());
        let _ = tokio::task::spawn_blocking(move || {
            for live in sessions.values() {
                live.close();
            }
        })
        .await;
        result
    }

    pub(super) fn lock_sessions(&self) -> std::sync::MutexGuard<'_, HashMap<u128, Arc<Live>>> {
        lock(&self.sessions)
    }

    /// The session with cookie id `id`, marked as used now (and as holding one more event
    /// stream when `stream`).
    pub(super) fn lookup(&self, id: u128, stream: bool) -> Option<Arc<Live>> {
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
    pub(super) fn create(self: &Arc<Self>) -> Option<Arc<Live>> {
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
    pub(super) fn try_expire(&self, live: &Live) -> bool {
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
    pub(super) fn render(&self, live: &Live) -> (Arc<Snapshot>, bool) {
        let mut seq = lock(&live.render);
        live.render_locked(&mut seq, &*self.root, &self.title)
    }
}
