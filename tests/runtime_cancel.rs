//! Cancelling tasks through the public API (`streamtree::asyncio`): pending and
//! cooperative cancel, who may complete a cancel and when a task counts as ended (bug 3 of
//! issue 8), fallible tasks stopping with `Cancelled`, and session drop. Workers are gated
//! with channels; every wait has a timeout and a message.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::{Duration, Instant};

use streamtree::prelude::*;
use streamtree::{Runtime, Subscription};

const LONG: Duration = Duration::from_secs(20);

/// A task body that reports it started, then waits for the test to let it go.
fn gated(started: Sender<()>, go: Receiver<()>) -> impl FnOnce() -> u32 + Send + 'static {
    move || {
        started.send(()).unwrap();
        go.recv_timeout(LONG).expect("the test lets the task go");
        1
    }
}

/// Waits for `sub`'s session to be gone (its channel disconnected), at most `LONG`.
fn wait_disconnected(sub: &Subscription) {
    let deadline = Instant::now() + LONG;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match sub.receiver().recv_timeout(left) {
            Ok(()) => {}
            Err(e) if e.is_disconnected() => return,
            Err(_) => panic!("the session was not freed within {LONG:?}"),
        }
    }
}

#[test]
fn cancel_pending_never_runs() {
    let s = Session::builder().max_workers(1).build();
    let (started_tx, started) = channel();
    let (go, go_rx) = channel();
    let ran = Arc::new(AtomicUsize::new(0));
    let r = ran.clone();
    s.enter(|| submit("block", gated(started_tx, go_rx)));
    let queued = s.enter(|| submit("queued", move || r.fetch_add(1, Ordering::SeqCst)));
    started.recv_timeout(LONG).expect("the task starts");
    queued.cancel();
    assert_eq!(queued.status(), TaskStatus::Cancelled);
    assert!(!queued.is_cancel_requested());
    go.send(()).unwrap();
    assert!(s.wait_idle(LONG));
    assert_eq!(ran.load(Ordering::SeqCst), 0);
    assert_eq!(queued.status(), TaskStatus::Cancelled);
    assert_eq!(queued.result(), None);
    queued.cancel(); // terminal: no-op
    assert_eq!(queued.status(), TaskStatus::Cancelled);
}

#[test]
fn cooperative_cancel_of_a_running_task() {
    let s = Session::new();
    let (started_tx, started) = channel();
    let (go, go_rx) = channel::<()>();
    let h = s.enter(|| {
        submit("long", move || {
            started_tx.send(()).unwrap();
            go_rx.recv_timeout(LONG).expect("the test lets the task go");
            // Worker-side free functions see the task's own session.
            if is_task_cancel_requested("long") {
                complete_cancelled("long");
                return 0;
            }
            99
        })
    });
    started.recv_timeout(LONG).expect("the task starts");
    h.cancel();
    assert_eq!(
        h.status(),
        TaskStatus::Running,
        "a running task only gets a request"
    );
    assert!(h.is_cancel_requested());
    go.send(()).unwrap();
    assert!(s.wait_idle(LONG));
    assert_eq!(h.status(), TaskStatus::Cancelled);
    assert_eq!(h.result(), None, "the return value is discarded");
    assert!(!h.is_cancel_requested());
}

#[test]
fn finishing_normally_wins_over_a_cancel_request() {
    let s = Session::new();
    let (started_tx, started) = channel();
    let (go, go_rx) = channel();
    let h = s.enter(|| submit("k", gated(started_tx, go_rx)));
    started.recv_timeout(LONG).expect("the task starts");
    h.cancel();
    go.send(()).unwrap();
    assert!(s.wait_idle(LONG));
    assert_eq!(h.status(), TaskStatus::Done);
    assert_eq!(h.result(), Some(1));
    assert!(!h.is_cancel_requested(), "the request is cleared");
}

/// A running task with a cancel request that the session's thread tried to complete
/// (`complete_cancelled` is only the task's own worker's to call); its closure is parked
/// on `go`, then reports whether it still sees the request.
struct ForeignComplete {
    s: Session,
    h: TaskHandle<u32>,
    go: Sender<()>,
    saw: Receiver<bool>,
}

fn cancel_then_complete_from_the_session_thread() -> ForeignComplete {
    let s = Session::new();
    let (started_tx, started) = channel();
    let (go, go_rx) = channel::<()>();
    let (saw_tx, saw) = channel();
    let h = s.enter(|| {
        submit("k", move || {
            started_tx.send(()).unwrap();
            go_rx.recv_timeout(LONG).expect("the test lets the task go");
            saw_tx.send(is_task_cancel_requested("k")).unwrap();
            1u32
        })
    });
    started.recv_timeout(LONG).expect("the task starts");
    h.cancel();
    s.enter(|| complete_cancelled("k"));
    ForeignComplete { s, h, go, saw }
}

#[test]
fn complete_cancelled_from_another_thread_leaves_the_task_running() {
    let t = cancel_then_complete_from_the_session_thread();
    assert_eq!(t.h.status(), TaskStatus::Running);
    assert!(
        !t.s.wait_idle(Duration::ZERO),
        "a task whose closure still runs is not idle"
    );
    t.go.send(()).unwrap();
    assert!(t.s.wait_idle(LONG), "idle once the closure returned");
    assert_eq!(
        t.h.status(),
        TaskStatus::Done,
        "its own return decides the end"
    );
    assert_eq!(t.h.result(), Some(1));
}

#[test]
fn no_second_closure_runs_beside_one_still_running() {
    let t = cancel_then_complete_from_the_session_thread();
    let ran = Arc::new(AtomicUsize::new(0));
    let r = ran.clone();
    assert!(
        !t.s.enter(|| dismiss_task("k")),
        "a task whose closure still runs cannot be dismissed"
    );
    let again = t.s.enter(|| {
        submit("k", move || {
            r.fetch_add(1, Ordering::SeqCst);
            2u32
        })
    });
    assert_eq!(
        again.status(),
        TaskStatus::Running,
        "the same task, still running"
    );
    t.go.send(()).unwrap();
    assert!(t.s.wait_idle(LONG));
    assert_eq!(
        ran.load(Ordering::SeqCst),
        0,
        "the second closure never ran"
    );
    assert_eq!(again.result(), Some(1));
}

#[test]
fn a_cancel_request_stays_visible_until_the_closure_returns() {
    let t = cancel_then_complete_from_the_session_thread();
    assert!(t.h.is_cancel_requested());
    t.go.send(()).unwrap();
    assert!(
        t.saw.recv_timeout(LONG).expect("the closure reports"),
        "the closure still sees the request"
    );
    assert!(t.s.wait_idle(LONG));
    assert!(!t.h.is_cancel_requested(), "cleared once the task ended");
}

#[test]
fn a_context_lent_to_a_helper_thread_cannot_end_the_task() {
    let s = Session::new();
    let (started_tx, started) = channel();
    let (go, go_rx) = channel::<()>();
    let h = s.enter(|| {
        submit_with("k", move |ctx: &TaskContext| {
            started_tx.send(()).unwrap();
            go_rx.recv_timeout(LONG).expect("the test lets the task go");
            std::thread::scope(|scope| scope.spawn(|| ctx.cancelled()).join().unwrap());
            5u32
        })
    });
    started.recv_timeout(LONG).expect("the task starts");
    h.cancel();
    go.send(()).unwrap();
    assert!(s.wait_idle(LONG));
    assert_eq!(
        h.status(),
        TaskStatus::Done,
        "only the worker's own call counts"
    );
    assert_eq!(h.result(), Some(5));
}

#[test]
fn a_fallible_task_ends_cancelled_on_err_after_a_request_and_error_otherwise() {
    let s = Session::new();
    let (started_tx, started) = channel();
    let stopped = s.enter(|| {
        submit_fallible_with("stopped", move |ctx: &TaskContext| {
            started_tx.send(()).unwrap();
            assert!(
                ctx.wait_cancelled(LONG),
                "woken by the cancel, not the timeout"
            );
            ctx.check_cancelled()?;
            Ok::<u32, Cancelled>(1)
        })
    });
    let failed = s.enter(|| {
        submit_fallible_with("failed", |ctx: &TaskContext| {
            ctx.check_cancelled()?;
            Err::<u32, String>("no disk".to_owned())
        })
    });
    let timed_out = s.enter(|| {
        submit_with("timed out", |ctx: &TaskContext| {
            ctx.wait_cancelled(Duration::from_millis(1))
        })
    });
    started.recv_timeout(LONG).expect("the task starts");
    stopped.cancel();
    assert!(s.wait_idle(LONG));
    assert_eq!(stopped.status(), TaskStatus::Cancelled);
    assert_eq!((stopped.result(), stopped.error()), (None, None));
    assert_eq!(failed.status(), TaskStatus::Error);
    assert_eq!(failed.error().as_deref(), Some("no disk"));
    assert_eq!(
        timed_out.result(),
        Some(false),
        "no request: the timeout passes"
    );
}

#[test]
fn complete_cancelled_without_a_request_is_a_noop() {
    let s = Session::new();
    let h = s.enter(|| {
        submit("k", || {
            complete_cancelled("k");
            3
        })
    });
    assert!(s.wait_idle(LONG));
    assert_eq!(h.status(), TaskStatus::Done);
    assert_eq!(h.result(), Some(3));
    s.enter(|| complete_cancelled("k"));
    assert_eq!(h.status(), TaskStatus::Done);
}

#[test]
fn dropping_the_session_cancels_pending_and_asks_running_to_stop() {
    let rt = Runtime::builder().max_workers(1).build();
    let s = Session::builder().runtime(rt.clone()).build();
    let (started_tx, started) = channel();
    let (go, go_rx) = channel::<()>();
    let (saw_tx, saw) = channel();
    let running = s.enter(|| {
        submit("running", move || {
            started_tx.send(()).unwrap();
            go_rx.recv_timeout(LONG).expect("the test lets the task go");
            saw_tx.send(is_task_cancel_requested("running")).unwrap();
            complete_cancelled("running");
        })
    });
    let pending = s.enter(|| submit("pending", || ()));
    let sub = s.subscribe();
    started.recv_timeout(LONG).expect("the task starts");
    drop(s);
    assert_eq!(pending.status(), TaskStatus::Cancelled);
    assert!(running.is_cancel_requested());
    go.send(()).unwrap();
    assert!(
        saw.recv_timeout(LONG).expect("the worker reports"),
        "the worker sees the request"
    );
    // The subscription ends when the worker lets go of the session's tasks: nothing leaks.
    wait_disconnected(&sub);
    assert_eq!(running.status(), TaskStatus::Cancelled);
    drop(rt);
}
