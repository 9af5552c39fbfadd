//! One browser's session and its push state, and the render that publishes to its event
//! streams.
//!
//! Invariants:
//! - reruns, clicks and renders of one session are serialized by its `render` lock and run
//!   on blocking threads, never on the async reactor; the seq they stamp grows with the
//!   content, so a client applies only newer pushes.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::{Notify, watch};

use crate::element::Element;
use crate::render::html;
use crate::session::{OnChange, Session};

/// One browser's session and its push state.
pub(super) struct Live {
    pub(super) id: u128,
    pub(super) session: Session,
    /// The anti-forgery token every `POST /click` must echo; 32 hex digits.
    pub(super) token: String,
    /// Serializes reruns, clicks and renders of this session; holds the last seq stamped.
    pub(super) render: Mutex<u64>,
    /// The latest render, for the event streams. Written only under `render`.
    pub(super) page: watch::Sender<Arc<Snapshot>>,
    /// Woken by the session's task changes (and by a new event stream).
    pub(super) changed: Arc<Notify>,
    /// Keeps the `changed` hook registered for the session's life.
    pub(super) _on_change: OnChange,
    /// Written by lookups (under the sessions lock) and by closing streams.
    pub(super) activity: Mutex<Activity>,
}

pub(super) struct Activity {
    pub(super) last_seen: Instant,
    pub(super) streams: usize,
}

/// One rendered rerun.
pub(super) struct Snapshot {
    pub(super) seq: u64,
    pub(super) title: String,
    pub(super) busy: bool,
    pub(super) html: String,
    /// The push event's data: `{"seq":..,"title":..,"busy":..,"html":..}`.
    pub(super) json: String,
}

#[derive(Serialize)]
struct PushJson<'a> {
    seq: u64,
    title: &'a str,
    busy: bool,
    html: &'a str,
}

pub(super) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Live {
    /// Closes the session once no render of it runs ([`Session::close`]): cancels its
    /// tasks and drops its handlers and state, which may own the session itself.
    pub(super) fn close(&self) {
        let _seq = lock(&self.render);
        self.session.close();
    }

    /// Reruns, renders and publishes to the event streams when anything visible changed;
    /// returns the render and whether it was published. The caller holds the `render`
    /// lock (`seq`).
    pub(super) fn render_locked(
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

/// Decrements a session's open streams when an event stream ends.
pub(super) struct StreamGuard(pub(super) Arc<Live>);

impl Drop for StreamGuard {
    fn drop(&mut self) {
        let mut activity = lock(&self.0.activity);
        activity.streams -= 1;
        activity.last_seen = Instant::now();
    }
}
