//! Shared tasks (issue 9): one task per (key, input) for every session of a runtime.
//! Workers are gated with channels; every wait has a timeout.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::channel;
use std::sync::{Arc, Mutex};

use streamtree::Runtime;
use streamtree::prelude::*;

use streamtree_tests::{LONG, wait_until};

fn two_sessions() -> (Session, Session) {
    let rt = Runtime::builder().build();
    (
        Session::builder().runtime(rt.clone()).build(),
        Session::builder().runtime(rt).build(),
    )
}

#[test]
fn sessions_running_the_same_shared_key_and_input_share_one_task() {
    let (a, b) = two_sessions();
    let (sub_a, sub_b) = (a.subscribe(), b.subscribe());
    let runs = Arc::new(AtomicUsize::new(0));
    let (go_tx, go) = channel::<()>();
    let go = Mutex::new(go);
    let (half_tx, half) = channel();
    let r = runs.clone();
    let ha = a.enter(|| {
        task("rates")
            .input("eur")
            .shared()
            .run(move |ctx: &TaskContext| {
                r.fetch_add(1, Ordering::SeqCst);
                ctx.set_progress(0.5);
                half_tx.send(()).unwrap();
                go.lock().unwrap().recv_timeout(LONG).ok();
                Ok::<_, String>(1.08)
            })
    });
    let hb = b.enter(|| {
        task("rates")
            .input("eur")
            .shared()
            .run(|_| -> Result<f64, String> { unreachable!() })
    });
    half.recv_timeout(LONG).expect("the task reports progress");
    assert_eq!(
        hb.progress().and_then(|p| p.fraction()),
        Some(0.5),
        "same progress"
    );
    while sub_b.try_recv() {}
    go_tx.send(()).unwrap();
    wait_until(&sub_b, || hb.status() == TaskStatus::Done);
    wait_until(&sub_a, || ha.status() == TaskStatus::Done);
    assert_eq!((ha.result(), hb.result()), (Some(1.08), Some(1.08)));
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    let rows = b.enter(summarize_async_tasks);
    assert!(
        rows.iter().any(|r| r.key == "rates" && r.shared),
        "{rows:?}"
    );
    assert!(a.wait_idle(LONG) && b.wait_idle(LONG));
}

#[test]
fn cancel_in_one_session_cancels_for_all_and_closing_a_session_does_not() {
    let (a, b) = two_sessions();
    let sub_b = b.subscribe();
    let (started_tx, started) = channel();
    let started_tx = Mutex::new(started_tx);
    let body = move |ctx: &TaskContext| {
        started_tx.lock().unwrap().send(()).unwrap();
        while !ctx.wait_cancelled(LONG) {}
        ctx.check_cancelled()?;
        Ok::<u8, Cancelled>(1)
    };
    let body = Arc::new(body);
    let (b1, b2) = (body.clone(), body.clone());
    let ha = a.enter(|| task("s").shared().run(move |c: &TaskContext| b1(c)));
    let hb = b.enter(|| task("s").shared().run(move |c: &TaskContext| b2(c)));
    started.recv_timeout(LONG).expect("the shared task starts");
    drop(a); // closing a session leaves the shared task running
    assert_eq!(hb.status(), TaskStatus::Running);
    assert!(!hb.is_cancel_requested(), "closing A did not cancel it");
    hb.cancel();
    wait_until(&sub_b, || hb.status() == TaskStatus::Cancelled);
    assert_eq!(
        ha.status(),
        TaskStatus::Cancelled,
        "the same task for everyone"
    );
}

#[test]
fn dismiss_task_in_any_session_removes_a_shared_task_for_all() {
    let (a, b) = two_sessions();
    let ha = a.enter(|| task("d").input(&1).shared().run(|_| Ok::<_, String>(3)));
    let hb = b.enter(|| task("d").input(&1).shared().run(|_| Ok::<_, String>(4)));
    assert!(a.wait_idle(LONG) && b.wait_idle(LONG));
    assert_eq!(hb.result(), Some(3));
    assert!(b.enter(|| dismiss_task("d")));
    assert_eq!(
        (ha.status(), hb.status()),
        (TaskStatus::Missing, TaskStatus::Missing)
    );
    let again = a.enter(|| task("d").input(&1).shared().run(|_| Ok::<_, String>(5)));
    assert!(a.wait_idle(LONG));
    assert_eq!(again.result(), Some(5), "the key is free again");
}

#[test]
fn a_new_input_does_not_cancel_a_shared_task() {
    let (a, _b) = two_sessions();
    let (started_tx, started) = channel();
    let (go_tx, go) = channel::<()>();
    let go = Mutex::new(go);
    let first = a.enter(|| {
        task("k").input(&1).shared().run(move |_| {
            started_tx.send(()).unwrap();
            go.lock().unwrap().recv_timeout(LONG).ok();
            Ok::<_, String>(1)
        })
    });
    started.recv_timeout(LONG).unwrap();
    let second = a.enter(|| task("k").input(&2).shared().run(|_| Ok::<_, String>(2)));
    assert!(
        !first.is_cancel_requested(),
        "shared tasks are not superseded"
    );
    go_tx.send(()).unwrap();
    assert!(a.wait_idle(LONG));
    assert_eq!((first.result(), second.result()), (Some(1), Some(2)));
}
