//! Unit tests of the loading builders against real tasks in every state.

use super::*;
use crate::asyncio::{
    complete_cancelled, dismiss_task, is_task_cancel_requested, set_task_progress, submit,
    submit_fallible,
};
use crate::render::text::render;
use crate::session::Session;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(10);

fn show<T: Clone + Send + 'static + std::fmt::Debug>(h: &TaskHandle<T>) -> String {
    let el: Element = match_task(h)
        .loading_with(|p| {
            Text(format!(
                "loading {}",
                p.map(|p| p.to_string()).unwrap_or_default()
            ))
        })
        .ready(|v| Text(format!("ready {v:?}")))
        .error(|e| Text(format!("error {e}")))
        .into();
    render(&el)
}

/// A task that waits for the gate, then returns `value`.
fn gated(
    value: i32,
) -> (
    std::sync::mpsc::Sender<()>,
    impl FnOnce() -> i32 + Send + 'static,
) {
    let (tx, rx): (_, Receiver<()>) = channel();
    (tx, move || {
        // The test opens the gate, or drops it to let the task end early.
        let _ = rx.recv_timeout(WAIT);
        value
    })
}

/// A task that reports its start, then runs until a cancel request and honours it: the
/// cooperative path. The test waits on the receiver before cancelling, so the task is
/// Running for sure (a cancel right after `submit` may find it still Pending).
fn cooperative(key: &'static str) -> (Receiver<()>, impl FnOnce() -> i32 + Send + 'static) {
    let (started_tx, started) = channel();
    (started, move || {
        started_tx.send(()).unwrap();
        let deadline = Instant::now() + WAIT;
        while !is_task_cancel_requested(key) {
            assert!(
                Instant::now() < deadline,
                "no cancel request within {WAIT:?}"
            );
            std::thread::yield_now();
        }
        complete_cancelled(key);
        0
    })
}

/// Submits `key` with the cooperative task above and cancels it once it runs.
fn cancel_while_running(s: &Session, key: &'static str) -> TaskHandle<i32> {
    let (started, job) = cooperative(key);
    let h = s.enter(|| submit(key, job));
    started.recv_timeout(WAIT).expect("the task started");
    // It spins until the request: Running for sure until `cancel` (which may end it
    // before the next line, so the request flag itself is not checked here).
    assert_eq!(h.status(), TaskStatus::Running);
    h.cancel();
    assert!(s.wait_idle(WAIT));
    assert_eq!(h.status(), TaskStatus::Cancelled);
    h
}

#[test]
fn one_task_through_every_status() {
    let s = Session::builder().max_workers(1).build();
    let (go, job) = gated(7);
    let (go2, job2) = gated(8);
    let (h, h2) = s.enter(|| (submit("a", job), submit("b", job2)));
    // "b" waits behind "a" on the one worker: Pending shows loading, cancel ends it.
    assert_eq!(show(&h2), "loading\n");
    h2.cancel();
    assert_eq!(show(&h2), "error cancelled\n");
    drop(go2);
    s.enter(|| set_task_progress("a", (0.5, "half")));
    assert_eq!(show(&h), "loading 50% half\n");
    go.send(()).unwrap();
    assert!(s.wait_idle(WAIT));
    assert_eq!(show(&h), "ready 7\n");
    // Missing: dismissed, the handle reads as loading (a rerun would submit it again).
    assert!(s.enter(|| dismiss_task("a")));
    assert_eq!(h.status(), TaskStatus::Missing);
    assert_eq!(show(&h), "loading\n");
}

#[test]
fn cancel_of_a_pending_task_never_runs_it() {
    // One worker, held by a gated task: the cancelled task is Pending for sure.
    let s = Session::builder().max_workers(1).build();
    let (go, blocker) = gated(1);
    let ran = Arc::new(AtomicBool::new(false));
    let flag = ran.clone();
    let (blocker, queued) = s.enter(|| {
        (
            submit("blocker", blocker),
            submit("queued", move || flag.store(true, Ordering::SeqCst)),
        )
    });
    assert_eq!(queued.status(), TaskStatus::Pending);
    queued.cancel();
    assert_eq!(queued.status(), TaskStatus::Cancelled, "cancelled at once");
    assert!(!queued.is_cancel_requested(), "no request: it never ran");
    let el: Element = match_task(&queued).cancelled("Stopped.").into();
    assert_eq!(render(&el), "Stopped.\n");
    go.send(()).unwrap();
    assert!(s.wait_idle(WAIT));
    assert_eq!(blocker.status(), TaskStatus::Done);
    assert!(
        !ran.load(Ordering::SeqCst),
        "a task cancelled while Pending never runs"
    );
}

/// Bug 9: `read` looked at the task two or three times (status, then result, error or
/// progress); a dismissal in between gave an empty error box, or a finished task shown as
/// loading. It now reads one snapshot: a dismissal lands wholly before it (Missing:
/// loading) or wholly after it (the snapshot's result or error).
#[test]
fn a_read_is_one_snapshot_around_a_dismissal() {
    let s = Session::new();
    let (ok, bad) = s.enter(|| {
        (
            submit("ok", || 5),
            submit_fallible::<i32, _>("bad", || Err("disk full")),
        )
    });
    assert!(s.wait_idle(WAIT));
    // Read first, dismiss after: the element shows what the snapshot held.
    let (ready, failed) = (show(&ok), show(&bad));
    let snap = snapshot(&bad);
    assert!(s.enter(|| dismiss_task("ok") && dismiss_task("bad")));
    assert_eq!(
        (ready.as_str(), failed.as_str()),
        ("ready 5\n", "error disk full\n")
    );
    assert_eq!(
        (snap.status, snap.error.as_deref(), snap.result),
        (TaskStatus::Error, Some("disk full"), None)
    );
    // Dismissed first: Missing throughout, never an empty error or a result-less Done.
    for h in [&ok, &bad] {
        let snap = snapshot(h);
        assert_eq!(snap.status, TaskStatus::Missing);
        assert_eq!((snap.result, snap.error), (None, None));
        assert_eq!(show(h), "loading\n");
    }
}

#[test]
fn cancel_of_a_running_task_is_cooperative() {
    let s = Session::new();
    let h = cancel_while_running(&s, "coop");
    assert_eq!(show(&h), "error cancelled\n");
}

#[test]
fn error_and_cancelled_branches_and_defaults() {
    let s = Session::new();
    let err = s.enter(|| submit_fallible::<i32, _>("bad", || Err("disk full")));
    let coop = cancel_while_running(&s, "coop");
    assert_eq!(show(&err), "error disk full\n");
    let el: Element = match_task(&coop).cancelled(Text("Cancelled.")).into();
    assert_eq!(render(&el), "Cancelled.\n");
    // Defaults: the error box, and "cancelled" through it.
    assert_eq!(render(&match_task(&err).into()), "! error: disk full\n");
    assert_eq!(render(&match_task(&coop).into()), "! error: cancelled\n");
}

#[test]
fn default_loading_shows_progress() {
    let s = Session::builder().max_workers(1).build();
    let (go, job) = gated(1);
    let h = s.enter(|| submit("p", job));
    assert_eq!(render(&match_task(&h).into()), "Loading…\n");
    s.enter(|| set_task_progress("p", 0.25));
    assert_eq!(
        render(&match_task(&h).into()),
        "[#####...............] 25% Loading…\n"
    );
    s.enter(|| set_task_progress("p", "warming up"));
    assert_eq!(
        render(&match_task(&h).into()),
        "[<=>.................] working warming up\n"
    );
    go.send(()).unwrap();
    assert!(s.wait_idle(WAIT));
}

#[test]
fn many_follows_the_precedence_rule() {
    let s = Session::builder().max_workers(4).build();
    let (go, job) = gated(1);
    let sub = s.subscribe();
    let (ok, running, bad) = s.enter(|| {
        (
            submit("ok", || 1),
            submit("running", job),
            submit_fallible::<i32, _>("bad", || Err("boom")),
        )
    });
    // Wait for the two quick ones to settle, with the gated one still running.
    while !(ok.status().is_terminal() && bad.status().is_terminal()) {
        assert!(sub.wait_timeout(WAIT), "no task change within {WAIT:?}");
    }
    let many = |hs: &[TaskHandle<i32>]| -> String {
        let el: Element = match_task_many(hs)
            .loading_with(|p| Text(format!("loading {}", p.unwrap())))
            .ready(|v| Text(format!("{v:?}")))
            .error(|e| Text(format!("error {e}")))
            .cancelled(Text("cancelled"))
            .into();
        render(&el)
    };
    assert_eq!(
        many(&[ok.clone(), running.clone()]),
        "loading 50% 1 of 2 done\n"
    );
    assert_eq!(
        many(&[ok.clone(), running.clone(), bad.clone()]),
        "error boom\n"
    );
    assert_eq!(many(&[]), "[]\n");
    go.send(()).unwrap();
    assert!(s.wait_idle(WAIT));
    assert_eq!(many(&[running.clone(), ok.clone()]), "[1, 1]\n");
    let c = cancel_while_running(&s, "c");
    assert_eq!(many(&[ok.clone(), c.clone()]), "cancelled\n");
    assert_eq!(many(&[c, bad]), "error boom\n", "error wins over cancelled");
}

#[test]
fn tuples_mix_result_types() {
    let s = Session::new();
    let (a, b, c) = s.enter(|| {
        (
            submit("n", || 10),
            submit("s", || "x".to_string()),
            submit("f", || 1.5),
        )
    });
    assert!(s.wait_idle(WAIT));
    let el: Element = match_task_many((&a, &b, &c))
        .ready(|(n, s, f)| Text(format!("{n} {s} {f}")))
        .into();
    assert_eq!(render(&el), "10 x 1.5\n");
}

#[test]
fn ordered_submission_sorts_and_checks_keys() {
    let s = Session::new();
    let hs = s.enter(|| submit_many_ordered(["c", "a", "b"].map(|k| (k, move || k))));
    assert_eq!(
        hs.iter().map(|h| h.key()).collect::<Vec<_>>(),
        ["a", "b", "c"]
    );
    let dup = std::panic::catch_unwind(|| {
        Session::new().enter(|| submit_many_ordered(["z", "y", "z"].map(|k| (k, move || k))))
    });
    let msg = crate::session::panic_message(&*dup.unwrap_err());
    assert!(msg.contains("`z`"), "{msg}");
}

#[test]
fn reruns_inside_the_delay_keep_one_wake_up_at_the_deadline() {
    let s = Session::builder().max_workers(1).build();
    let (gate, job) = gated(1);
    let h = s.enter(|| submit("slow", job));
    let delay = Duration::from_secs(60);
    let deadline = h.slot().with_state(|st| st.submitted()) + delay;
    for _ in 0..50 {
        let el: Element = s.enter(|| match_task(&h).delay(delay).into());
        assert_eq!(render(&el), "");
    }
    let set = s
        .enter(crate::runtime::current_set)
        .expect("a session is current");
    assert_eq!(
        set.pending_wake(),
        Some(deadline),
        "one wake-up, at the deadline"
    );
    drop(gate);
}
