//! The per-session push loop: reruns on task changes (coalesced to
//! [`MAX_PUSHES_PER_SECOND`]) and expires the session when idle.
//!
//! Invariant: change notifications arriving inside the push interval fold into the next
//! rerun (the session's change signal keeps one permit, so none is lost).

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::MAX_PUSHES_PER_SECOND;
use super::live::{Live, lock};
use super::registry::Shared;

/// Per session: reruns and pushes on task changes (coalesced), and expires the session
/// when it has been idle for the timeout.
pub(super) async fn pusher(shared: Arc<Shared>, live: Arc<Live>) {
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
        let expired = tokio::select! {
            () = live.changed.notified() => false,
            () = tokio::time::sleep_until(deadline) => {
                if !shared.try_expire(&live) {
                    continue;
                }
                true
            }
            _ = stop.wait_for(|stopped| *stopped) => return,
        };
        if expired {
            let _ = tokio::task::spawn_blocking(move || live.close()).await;
            return;
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
