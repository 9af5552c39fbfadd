//! The live server's session lifecycle: expiry and shutdown close sessions (also those that
//! keep themselves alive through a handler), one sweeper expires them, and a failed render
//! does not stop a session's pushes.

use std::sync::Mutex;
use std::sync::mpsc::{Sender, channel};
use std::time::Duration;

use streamtree::prelude::*;
use streamtree::serve;
use streamtree_tests::Gate;

#[path = "serve_client.rs"]
mod serve_client;
use serve_client::{GUARD, get};

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
