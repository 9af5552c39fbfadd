//! The per-session push loop: reruns on task changes, coalesced to the server's
//! `max_pushes_per_second` ([`MAX_PUSHES_PER_SECOND`](super::MAX_PUSHES_PER_SECOND) by
//! default), while an event stream listens.
//!
//! Invariants:
//! - change notifications arriving inside the push interval fold into the next rerun (the
//!   session's change signal keeps one permit, so none is lost);
//! - a failed render is logged and the loop goes on: only the server's stop or the
//!   session's close ends it. Expiry is the sweeper's (`registry.rs`), not this loop's.

use std::sync::Arc;
use std::time::Duration;

use super::live::{Live, RunError};
use super::panics;
use super::registry::Shared;

/// Per session: reruns and pushes on task changes (coalesced) until the session closes
/// or the server stops.
pub(super) async fn pusher(shared: Arc<Shared>, live: Arc<Live>) {
    let min_interval = Duration::from_secs(1) / shared.cfg.max_pushes_per_second;
    let mut stop = shared.stop.subscribe();
    let mut closed = live.closed.subscribe();
    let mut last_push: Option<tokio::time::Instant> = None;
    loop {
        tokio::select! {
            () = live.changed.notified() => {}
            _ = stop.wait_for(|stopped| *stopped) => return,
            _ = closed.wait_for(|closed| *closed) => return,
        }
        // Nobody listens: the next stream asks for a fresh render when it opens.
        if live.page.receiver_count() == 0 {
            continue;
        }
        if let Some(at) = last_push {
            tokio::time::sleep_until(at + min_interval).await;
        }
        let app = shared.clone();
        let rendered = live
            .run(Some(&shared.renders), move |live, seq| {
                live.render_locked(seq, &*app.cfg.root, &app.cfg.title)
            })
            .await;
        match rendered {
            // Only pushes that went out count against the rate; unchanged renders are free.
            Ok((_, true)) => last_push = Some(tokio::time::Instant::now()),
            Ok((_, false)) => {}
            Err(RunError::Closed) => return,
            Err(RunError::Panicked(message)) => {
                panics::report(&live, "render", &message);
            }
        }
    }
}
