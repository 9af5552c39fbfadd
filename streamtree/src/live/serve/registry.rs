//! The sessions table ([`Shared`]): what all requests share, lookups, creation under the
//! session limit with eviction, event-stream accounting, and the one expiry sweeper.
//!
//! Invariants:
//! - a session lives in `sessions` until the sweeper expires it (idle for `idle_timeout`
//!   with no open event stream), eviction replaces it, or the server stops; whoever removes
//!   it closes it (`Live::close`, which cancels its tasks and breaks handler cycles);
//! - lookups, stream opens, eviction and expiry all hold the sessions lock and then the
//!   session's activity lock, in that order, so a session being looked up is never
//!   expired or evicted under the request that looks it up;
//! - `streams` equals the number of live `StreamGuard`s, and each session's
//!   `activity.streams` the number of its own.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::sync::{Notify, Semaphore, watch};

use super::live::{Live, lock};
use super::pusher::pusher;
use super::server::Config;
use super::visitor::Minter;
use crate::runtime::Runtime;
use crate::session::Session;

/// What all requests share.
pub(super) struct Shared {
    pub(super) cfg: Config,
    pub(super) runtime: Runtime,
    /// Live sessions by cookie id; at most `cfg.max_sessions`.
    sessions: Mutex<HashMap<u128, Arc<Live>>>,
    /// Becomes `true` once, when the server stops; event streams and pushers end on it.
    pub(super) stop: watch::Sender<bool>,
    /// Bumped by `Running::drop_streams`: every event stream open at a bump ends (its
    /// browser reconnects and resumes); streams opened later wait for the next bump.
    pub(super) drop_streams: watch::Sender<u64>,
    /// Bounds concurrent push renders and first renders of new sessions: a burst of task
    /// changes across many sessions, or a flood of new visitors, queues here (in arrival
    /// order, one entry per session) instead of taking a blocking thread each.
    pub(super) renders: Arc<Semaphore>,
    /// The connection cap: `cfg.max_connections`, kept below the open-file limit (which
    /// is raised when the server is built, before it accepts anything).
    pub(super) max_connections: usize,
    /// Open event streams across sessions; at most `cfg.max_streams`.
    streams: AtomicUsize,
    /// Wakes the sweeper when a deadline appears: a new session, a closed stream.
    sweep: Notify,
    /// Mints and checks session cookies (`visitor.rs`).
    pub(super) minter: Minter,
}

/// Why an event stream was refused.
pub(super) enum StreamRefused {
    Unknown,
    SessionFull,
    ServerFull,
}

/// Counts one open event stream; dropping it (the stream ended) uncounts it.
pub(super) struct StreamGuard {
    shared: Arc<Shared>,
    pub(super) live: Arc<Live>,
}

impl Drop for StreamGuard {
    fn drop(&mut self) {
        {
            let mut activity = lock(&self.live.activity);
            debug_assert!(
                activity.streams > 0,
                "a guard exists for each counted stream"
            );
            activity.streams -= 1;
            activity.last_seen = Instant::now();
        }
        self.shared.streams.fetch_sub(1, Ordering::AcqRel);
        self.shared.sweep.notify_one();
    }
}

impl Shared {
    pub(super) fn new(mut cfg: Config) -> Arc<Shared> {
        let runtime = cfg.runtime.take().unwrap_or_else(Runtime::global);
        let renders = Arc::new(Semaphore::new(cfg.max_concurrent_renders));
        let max_connections = super::accept::connection_cap(cfg.max_connections);
        Arc::new(Shared {
            max_connections,
            cfg,
            runtime,
            sessions: Mutex::new(HashMap::new()),
            stop: watch::channel(false).0,
            drop_streams: watch::channel(0).0,
            renders,
            streams: AtomicUsize::new(0),
            sweep: Notify::new(),
            minter: Minter::new(),
        })
    }

    pub(super) fn session_count(&self) -> usize {
        lock(&self.sessions).len()
    }

    /// The session with cookie id `id`, marked as used now.
    pub(super) fn lookup(&self, id: u128) -> Option<Arc<Live>> {
        let sessions = lock(&self.sessions);
        let live = sessions.get(&id)?.clone();
        lock(&live.activity).last_seen = Instant::now();
        drop(sessions);
        Some(live)
    }

    /// Counts a new event stream of session `id`, within the per-session and total caps.
    pub(super) fn open_stream(self: &Arc<Self>, id: u128) -> Result<StreamGuard, StreamRefused> {
        let sessions = lock(&self.sessions);
        let live = sessions.get(&id).ok_or(StreamRefused::Unknown)?.clone();
        let mut activity = lock(&live.activity);
        if activity.streams >= self.cfg.max_streams_per_session {
            return Err(StreamRefused::SessionFull);
        }
        let counted = self
            .streams
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.cfg.max_streams).then_some(n + 1)
            });
        if counted.is_err() {
            return Err(StreamRefused::ServerFull);
        }
        activity.streams += 1;
        activity.last_seen = Instant::now();
        drop(activity);
        drop(sessions);
        Ok(StreamGuard {
            shared: self.clone(),
            live,
        })
    }

    /// A new session with cookie id `id` (minted by `visitor.rs`) and its pusher started
    /// (or the session already under `id`, if a concurrent request created it). At the
    /// limit it takes the place of the least recently active session without an open
    /// event stream, which is closed; `None` when every session has one.
    pub(super) fn create(self: &Arc<Self>, id: u128) -> Option<Arc<Live>> {
        let mut sessions = lock(&self.sessions);
        if let Some(live) = sessions.get(&id) {
            return Some(live.clone());
        }
        let mut evicted = None;
        if sessions.len() >= self.cfg.max_sessions {
            let victim = sessions
                .values()
                .filter_map(|live| {
                    let activity = lock(&live.activity);
                    (activity.streams == 0).then_some((activity.last_seen, live.id))
                })
                .min()?
                .1;
            evicted = sessions.remove(&victim);
        }
        let session = Session::builder().runtime(self.runtime.clone()).build();
        let token = format!("{:032x}", super::routes::random_u128());
        let live = Arc::new(Live::new(id, session, token, &self.cfg));
        sessions.insert(id, live.clone());
        debug_assert!(
            sessions.len() <= self.cfg.max_sessions,
            "the table never holds more than the session limit"
        );
        drop(sessions);
        if let Some(old) = evicted {
            tracing::info!(
                session = old.session.id(),
                "session limit reached: closing the least recently active session"
            );
            tokio::spawn(old.close());
        }
        tokio::spawn(pusher(self.clone(), live.clone()));
        self.sweep.notify_one();
        Some(live)
    }

    /// Removes the sessions idle past the timeout; returns them and the earliest deadline
    /// of those left (`None`: none can expire until something changes).
    fn take_expired(&self, now: Instant) -> (Vec<Arc<Live>>, Option<Instant>) {
        let mut sessions = lock(&self.sessions);
        let mut next: Option<Instant> = None;
        let mut expired = Vec::new();
        sessions.retain(|_, live| {
            let activity = lock(&live.activity);
            if activity.streams > 0 {
                return true;
            }
            // `None` (e.g. `Duration::MAX`): never expires.
            let Some(deadline) = activity.last_seen.checked_add(self.cfg.idle_timeout) else {
                return true;
            };
            if deadline <= now {
                expired.push(live.clone());
                return false;
            }
            next = Some(next.map_or(deadline, |n| n.min(deadline)));
            true
        });
        (expired, next)
    }

    /// The one expiry task: sleeps until the earliest deadline (or a change), closes what
    /// expired, until the server stops.
    pub(super) async fn sweeper(self: Arc<Self>) {
        let mut stop = self.stop.subscribe();
        loop {
            let (expired, next) = self.take_expired(Instant::now());
            for live in expired {
                tracing::debug!(session = live.session.id(), "session expired");
                tokio::spawn(live.close());
            }
            let wait = async {
                match next {
                    Some(at) => tokio::time::sleep_until(at.into()).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                () = wait => {}
                () = self.sweep.notified() => {}
                _ = stop.wait_for(|stopped| *stopped) => return,
            }
        }
    }

    /// Removes and closes every session (server shutdown), all at once, each within the
    /// shutdown timeout.
    pub(super) async fn close_all(&self) {
        let sessions = std::mem::take(&mut *lock(&self.sessions));
        let mut closing = tokio::task::JoinSet::new();
        for live in sessions.into_values() {
            closing.spawn(live.close_within(self.cfg.shutdown_timeout));
        }
        while closing.join_next().await.is_some() {}
    }
}
