//! Resumable pushes: events carry their seq as the SSE id, and a stream reopened with
//! `Last-Event-ID` gets only newer pushes: the current render at once when the client
//! missed it, else the next one; never an older page.
//!
//! The stream is dropped by closing its TCP connection from the client side, or from the
//! server side with [`Running::drop_streams`](streamtree::Running::drop_streams), then
//! reopened as a browser's `EventSource` does: either way the old stream is gone and the
//! resume logic in `GET /events` is what is tested. `tests/browser.rs` does the same with
//! the browser's own reconnect.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::mpsc::{Receiver, Sender, channel};

use streamtree::prelude::*;
use streamtree::{Running, serve};
use streamtree_tests::Gate;

#[path = "serve_client.rs"]
mod serve_client;
use serve_client::{Events, GUARD, get};

/// An app with one task held by `gate`, which says on `finishing` when it is let through;
/// the page shows the task's status.
fn gated_job(gate: Arc<Gate>, finishing: Sender<()>) -> impl Fn() -> Element + Send + Sync {
    let finishing = Mutex::new(finishing);
    move || {
        let gate = gate.clone();
        let finishing = finishing.lock().unwrap().clone();
        let job = submit("job", move || {
            gate.wait(|| false);
            let _ = finishing.send(());
        });
        Text(format!("job: {}", job.status().as_str()))
    }
}

/// The event's id, checked to be its seq, as a number.
fn seq_of(id: Option<String>, event: &serde_json::Value) -> u64 {
    let seq = event["seq"].as_u64().expect("a push carries its seq");
    assert_eq!(id, Some(seq.to_string()), "the event id is the push's seq");
    seq
}

/// One client of a [`gated_job`] server, its task held, after the first push of its
/// event stream.
struct Resume {
    gate: Arc<Gate>,
    /// Says when the task is let through.
    finishing: Receiver<()>,
    server: Running,
    cookie: String,
    /// The first push.
    first: serde_json::Value,
    /// The first push's seq (its event id).
    seen: u64,
}

impl Resume {
    /// Serves a [`gated_job`] with the gate closed, visits it (the page shows the job) and
    /// reads the first push of the session's event stream, which it returns open.
    fn start() -> (Resume, Events) {
        let gate = Arc::new(Gate::new(false));
        let (finishing_tx, finishing) = channel();
        let server = serve(gated_job(gate.clone(), finishing_tx))
            .bind(([127, 0, 0, 1], 0))
            .spawn()
            .unwrap();
        let page = get(server.addr(), None);
        assert!(page.body.contains("job: "), "{}", page.body);
        let cookie = page.cookie();
        let mut events = Events::open(server.addr(), &cookie);
        let (id, first) = events.next_with_id();
        let seen = seq_of(id, &first);
        let resume = Resume {
            gate,
            finishing,
            server,
            cookie,
            first,
            seen,
        };
        (resume, events)
    }

    /// Lets the task through and waits until it says so.
    fn let_through(&self) {
        self.gate.open();
        self.finishing
            .recv_timeout(GUARD)
            .expect("the task was let through");
    }

    /// Reopens the stream as a browser's `EventSource` does: `Last-Event-ID` is the first
    /// push's seq.
    fn reconnect(&self) -> Events {
        let last = self.seen.to_string();
        Events::try_open_with(
            self.server.addr(),
            "/events",
            &self.cookie,
            &[("Last-Event-ID", &last)],
        )
        .unwrap_or_else(|head| panic!("{head}"))
    }
}

#[test]
fn a_reconnect_gets_what_finished_while_away() {
    let (r, events) = Resume::start();
    let html = r.first["html"].as_str().unwrap();
    assert!(
        html.contains("job: ") && !html.contains("job: done"),
        "{}",
        r.first
    );
    // The stream drops while the task runs; the task finishes while the client is away.
    drop(events);
    r.let_through();
    let mut events = r.reconnect();
    // Every push after the reconnect is newer than what the client had, up to the final
    // state, which arrives without a reload.
    loop {
        let (id, event) = events.next_with_id();
        let seq = seq_of(id, &event);
        assert!(
            seq > r.seen,
            "a reconnect got seq {seq}, not newer than {}",
            r.seen
        );
        if event["html"].as_str().unwrap().contains("job: done") {
            break;
        }
    }
}

#[test]
fn a_reconnect_that_has_the_current_page_waits_for_the_next() {
    let (r, events) = Resume::start();
    drop(events);
    // Nothing changed while away: the reconnect must not resend the page it has.
    let mut events = r.reconnect();
    r.let_through();
    let (id, next) = events.next_with_id();
    let seq = seq_of(id, &next);
    assert!(
        seq > r.seen,
        "the reconnect resent seq {seq}, the client had {}",
        r.seen
    );
    // Pushes only go forward from there, to the final state.
    let mut prev = seq;
    let mut event = next;
    while !event["html"].as_str().unwrap().contains("job: done") {
        let (id, e) = events.next_with_id();
        let seq = seq_of(id, &e);
        assert!(seq > prev, "seq {seq} after {prev}");
        prev = seq;
        event = e;
    }
}

#[test]
fn drop_streams_ends_the_open_stream_and_a_reconnect_resumes() {
    let (r, mut events) = Resume::start();
    // The server ends the stream on its side; the session stays.
    r.server.drop_streams();
    events.expect_end();
    assert_eq!(
        r.server.session_count(),
        1,
        "the session outlives its stream"
    );
    r.let_through();
    let mut events = r.reconnect();
    // A stream opened after the drop is not ended by it: it resumes to the final state.
    let (id, event) = events.next_with_id();
    assert!(seq_of(id, &event) > r.seen, "{event}");
    if !event["html"].as_str().unwrap().contains("job: done") {
        events.until("job: done");
    }
}
