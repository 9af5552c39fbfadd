//! The worker pool's scheduling through the public API: the queue is fair across sessions
//! (one FIFO per session, served round-robin) and FIFO within one session. One worker and
//! gates fix every order; nothing sleeps to order events.

use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::Duration;

use streamtree::Runtime;
use streamtree::prelude::*;

const LONG: Duration = Duration::from_secs(20);

/// Submits on `session` a task that records `(name, i)` when it runs.
fn recording(session: &Session, order: &Sender<(char, usize)>, name: char, i: usize) {
    let order = order.clone();
    session.enter(|| {
        submit(&format!("{name}{i}"), move || {
            order.send((name, i)).expect("the test holds the receiver");
        })
    });
}

/// Occupies the runtime's only worker with a task of `session` until `go` is sent.
fn block_the_worker(session: &Session) -> Sender<()> {
    let (started_tx, started) = channel();
    let (go, go_rx) = channel::<()>();
    session.enter(|| {
        submit("gate", move || {
            started_tx.send(()).expect("the test waits for the start");
            go_rx
                .recv_timeout(LONG)
                .expect("the test opens the gate in time");
        })
    });
    started
        .recv_timeout(LONG)
        .expect("the gate task starts on the idle pool");
    go
}

fn drain(order: &Receiver<(char, usize)>, n: usize) -> Vec<(char, usize)> {
    (0..n)
        .map(|k| {
            order
                .recv_timeout(LONG)
                .unwrap_or_else(|_| panic!("task {k} of {n} did not run within {LONG:?}"))
        })
        .collect()
}

/// Session A queues many tasks, then session B one: B's task runs after at most one of
/// A's queued tasks, not after all of them (one FIFO for everyone, before).
#[test]
fn a_session_with_a_backlog_delays_another_by_one_task() {
    let rt = Runtime::builder().max_workers(1).build();
    let a = Session::builder().runtime(rt.clone()).build();
    let b = Session::builder().runtime(rt.clone()).build();
    let (order_tx, order) = channel();
    let go = block_the_worker(&a);
    for i in 0..5 {
        recording(&a, &order_tx, 'A', i);
    }
    recording(&b, &order_tx, 'B', 0);
    go.send(()).expect("the gate task is waiting");
    let got = drain(&order, 6);
    assert_eq!(
        got,
        [('A', 0), ('B', 0), ('A', 1), ('A', 2), ('A', 3), ('A', 4)],
        "round-robin across sessions, FIFO within each"
    );
    assert!(a.wait_idle(LONG), "session A settles");
    assert!(b.wait_idle(LONG), "session B settles");
}

/// Three sessions with backlogs take turns, one task each, in the order they first queued;
/// a session whose queue empties leaves the rotation and the others go on.
#[test]
fn busy_sessions_take_turns_in_order() {
    let rt = Runtime::builder().max_workers(1).build();
    let gate = Session::builder().runtime(rt.clone()).build();
    let sessions: Vec<(char, Session, usize)> = [('A', 3), ('B', 2), ('C', 1)]
        .into_iter()
        .map(|(name, n)| (name, Session::builder().runtime(rt.clone()).build(), n))
        .collect();
    let (order_tx, order) = channel();
    let go = block_the_worker(&gate);
    for (name, session, n) in &sessions {
        for i in 0..*n {
            recording(session, &order_tx, *name, i);
        }
    }
    go.send(()).expect("the gate task is waiting");
    let got = drain(&order, 6);
    assert_eq!(
        got,
        [('A', 0), ('B', 0), ('C', 0), ('A', 1), ('B', 1), ('A', 2)],
        "one task per busy session per turn"
    );
    for (name, session, _) in &sessions {
        assert!(session.wait_idle(LONG), "session {name} settles");
    }
}

/// The flood, scaled down: ten sessions queue ten tasks each, then a victim
/// queues one. The victim's task runs after at most one task of each other session (ten),
/// not after all hundred.
#[test]
fn a_victim_waits_for_one_task_per_flooding_session_at_most() {
    let rt = Runtime::builder().max_workers(1).build();
    let gate = Session::builder().runtime(rt.clone()).build();
    let floods: Vec<Session> = (0..10)
        .map(|_| Session::builder().runtime(rt.clone()).build())
        .collect();
    let victim = Session::builder().runtime(rt.clone()).build();
    let (order_tx, order) = channel();
    let go = block_the_worker(&gate);
    for flood in &floods {
        for i in 0..10 {
            recording(flood, &order_tx, 'F', i);
        }
    }
    recording(&victim, &order_tx, 'V', 0);
    go.send(()).expect("the gate task is waiting");
    let got = drain(&order, 101);
    let before = got
        .iter()
        .position(|&(name, _)| name == 'V')
        .expect("the victim's task ran");
    assert_eq!(before, 10, "one task per flooding session, then the victim");
    for session in floods.iter().chain([&victim]) {
        assert!(session.wait_idle(LONG), "every session settles");
    }
}
