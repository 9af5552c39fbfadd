//! The live server's session lifecycle: expiry and shutdown close sessions (also those that
//! keep themselves alive through a handler), one sweeper expires them, and a failed render
//! does not stop a session's pushes.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use streamtree::prelude::*;
use streamtree::serve;
use streamtree_tests::Gate;

#[path = "serve_client.rs"]
mod serve_client;
use serve_client::{Events, GUARD, get};

/// Sends once when dropped: the end of a task's closure, run or not.
struct Ended(Sender<()>);

impl Drop for Ended {
    fn drop(&mut self) {
        let _ = self.0.send(());
    }
}

/// An app whose button handler captures its own session (an `Arc` cycle) and which runs a
/// task until it is cancelled; the task's end is sent on `ended`.
fn self_owning_app(ended: Sender<()>) -> impl Fn() -> Element + Send + Sync + 'static {
    let ended = Mutex::new(ended);
    move || {
        let me = Session::current();
        let guard = Ended(ended.lock().unwrap().clone());
        let h = submit_with("forever", move |ctx: &TaskContext| {
            let _guard = guard;
            Gate::new(false).wait(|| ctx.is_cancel_requested());
            ctx.cancelled();
        });
        VStack([
            Text(format!("task: {}", h.status().as_str())),
            Button("me").on_click(move || {
                let _ = me.id();
            }),
        ])
    }
}

#[test]
fn expiry_closes_a_session_that_owns_itself() {
    let (ended_tx, ended) = channel();
    let server = serve(self_owning_app(ended_tx))
        .bind(([127, 0, 0, 1], 0))
        .session_idle_timeout(Duration::from_millis(50))
        .spawn()
        .unwrap();
    assert_eq!(get(server.addr(), None).status, 200);
    // Before `Session::close`, removing the map entry left the handler's `Session` clone:
    // the session was never dropped and its task ran forever.
    ended
        .recv_timeout(GUARD)
        .expect("the expired session was closed and its task cancelled");
    assert_eq!(server.session_count(), 0);
}

#[test]
fn shutdown_closes_a_session_that_owns_itself() {
    let (ended_tx, ended) = channel();
    let server = serve(self_owning_app(ended_tx))
        .bind(([127, 0, 0, 1], 0))
        .spawn()
        .unwrap();
    assert_eq!(get(server.addr(), None).status, 200);
    server.shutdown().unwrap();
    ended
        .recv_timeout(GUARD)
        .expect("shutdown closed the session and cancelled its task");
}

/// An app with one task held by `gate`; the page shows the task's status.
fn gated_job(gate: Arc<Gate>) -> impl Fn() -> Element + Send + Sync + 'static {
    move || {
        let gate = gate.clone();
        let job = submit("job", move || gate.wait(|| false));
        Text(format!("job: {}", job.status().as_str()))
    }
}

#[test]
fn never_expiring_sessions_are_still_pushed_to() {
    let gate = Arc::new(Gate::new(false));
    // `Duration::MAX` overflowed the expiry deadline and killed the session's pusher.
    let server = serve(gated_job(gate.clone()))
        .bind(([127, 0, 0, 1], 0))
        .session_idle_timeout(Duration::MAX)
        .spawn()
        .unwrap();
    let page = get(server.addr(), None);
    assert!(page.body.contains("job: "), "{}", page.body);
    let mut events = Events::open(server.addr(), &page.cookie());
    gate.open();
    events.until("job: done");
    assert_eq!(server.session_count(), 1, "the session never expires");
}

/// Panics when dropped while `ARMED` (once), after saying so on its channel.
struct Bomb(Sender<()>);

static ARMED: AtomicBool = AtomicBool::new(false);

impl Drop for Bomb {
    fn drop(&mut self) {
        if ARMED.swap(false, Ordering::SeqCst) {
            let _ = self.0.send(());
            panic!("a button handler's capture panicked while dropped");
        }
    }
}

#[test]
fn a_failed_render_is_logged_and_pushes_go_on() {
    let gate = Arc::new(Gate::new(false));
    let (exploded_tx, exploded) = channel();
    let exploded_tx = Mutex::new(exploded_tx);
    let job = gated_job(gate.clone());
    let server = serve(move || {
        let bomb = Bomb(exploded_tx.lock().unwrap().clone());
        VStack([
            job(),
            Button("b").on_click(move || {
                let _ = &bomb;
            }),
        ])
    })
    .bind(([127, 0, 0, 1], 0))
    .spawn()
    .unwrap();
    let page = get(server.addr(), None);
    assert_eq!(page.status, 200);
    // The next rerun (the push for the new stream) replaces the first rerun's handler,
    // whose drop panics out of the rerun: the render fails.
    ARMED.store(true, Ordering::SeqCst);
    let mut events = Events::open(server.addr(), &page.cookie());
    exploded
        .recv_timeout(GUARD)
        .expect("a rerun dropped the armed handler");
    // Before the fix the pusher returned on a failed render: no push ever again.
    gate.open();
    events.until("job: done");
}
