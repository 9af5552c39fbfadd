//! Retries and timeouts (issue 9) through the public API. Attempts are gated with
//! channels; the waits between attempts use zero or huge backoffs, so no test depends on
//! timing, and every wait has a timeout.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use streamtree::prelude::*;

use streamtree_tests::{LONG, idle, wait_until};

fn recv<T>(rx: &Receiver<T>, what: &str) -> T {
    rx.recv_timeout(LONG)
        .unwrap_or_else(|_| panic!("{what} within {LONG:?}"))
}

#[test]
fn failed_attempts_are_retried_without_a_rerun_and_report_running_meanwhile() {
    let s = Session::new();
    let (attempt_tx, attempts) = channel();
    let (go_tx, go) = channel::<Result<u32, String>>();
    let go = Arc::new(Mutex::new(go));
    let h = s.enter(|| {
        task("flaky")
            .retry(Retry::times(3).backoff(Duration::ZERO))
            .run(move |_| {
                attempt_tx.send(()).unwrap();
                go.lock()
                    .unwrap()
                    .recv_timeout(LONG)
                    .expect("the test decides the attempt")
            })
    });
    recv(&attempts, "attempt 1 starts");
    assert_eq!((h.attempt(), h.status()), (1, TaskStatus::Running));
    go_tx.send(Err("flaky 1".into())).unwrap();
    recv(&attempts, "attempt 2 starts");
    assert_eq!(
        (h.attempt(), h.status(), h.error()),
        (2, TaskStatus::Running, None)
    );
    go_tx.send(Err("flaky 2".into())).unwrap();
    recv(&attempts, "attempt 3 starts");
    assert_eq!((h.attempt(), h.error()), (3, None));
    go_tx.send(Ok(9)).unwrap();
    idle(&s);
    assert_eq!(
        (h.status(), h.result(), h.attempt()),
        (TaskStatus::Done, Some(9), 3)
    );
}

#[test]
fn the_last_failure_is_the_error_and_panics_count_as_failures() {
    let s = Session::new();
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let h = s.enter(|| {
        task("bad")
            .retry(Retry::times(2).backoff(Duration::ZERO))
            .run(move |_| {
                let n = c.fetch_add(1, Ordering::SeqCst) + 1;
                if n == 1 {
                    panic!("boom {n}");
                }
                Err::<u8, _>(format!("failure {n}"))
            })
    });
    idle(&s);
    assert_eq!(calls.load(Ordering::SeqCst), 3, "1 attempt + 2 retries");
    assert_eq!((h.status(), h.attempt()), (TaskStatus::Error, 3));
    assert_eq!(h.error().as_deref(), Some("failure 3"));
}

#[test]
fn a_cancelled_attempt_is_never_retried() {
    let s = Session::new();
    let sub = s.subscribe();
    let (started_tx, started) = channel();
    let h = s.enter(|| {
        task("c")
            .retry(Retry::times(5).backoff(Duration::ZERO))
            .run(move |ctx: &TaskContext| {
                started_tx.send(()).unwrap();
                while !ctx.wait_cancelled(LONG) {}
                ctx.check_cancelled()?;
                Ok::<u8, Cancelled>(1)
            })
    });
    recv(&started, "attempt 1 starts");
    h.cancel();
    wait_until(&sub, || h.status().is_terminal());
    idle(&s);
    assert_eq!((h.status(), h.attempt()), (TaskStatus::Cancelled, 1));
    assert!(started.try_recv().is_err(), "no second attempt");
}

#[test]
fn the_backoff_holds_no_worker_and_a_cancel_ends_it_at_once() {
    let s = Session::builder().max_workers(1).build();
    let sub = s.subscribe();
    let h = s.enter(|| {
        task("wait")
            .retry(Retry::times(1).backoff(Duration::from_secs(3600)))
            .run(|_| Err::<u8, _>("down"))
    });
    wait_until(&sub, || h.attempt() == 2);
    assert_eq!((h.status(), h.error()), (TaskStatus::Running, None));
    // The only worker is free while the retry waits.
    let other = s.enter(|| submit("other", || 5));
    wait_until(&sub, || other.status() == TaskStatus::Done);
    h.cancel();
    assert_eq!(
        h.status(),
        TaskStatus::Cancelled,
        "a waiting retry is cancelled at once"
    );
    idle(&s);
}

#[test]
fn a_timed_out_attempt_is_an_error_at_once_and_its_late_return_is_discarded() {
    let s = Session::new();
    let sub = s.subscribe();
    let (saw_tx, saw) = channel();
    let (go_tx, go) = channel::<()>();
    let go = Mutex::new(go);
    let h = s.enter(|| {
        task("hang")
            .timeout(Duration::from_millis(20))
            .run(move |ctx: &TaskContext| {
                // A hung call that ignores the cancel until the test lets it go.
                go.lock()
                    .unwrap()
                    .recv_timeout(LONG)
                    .expect("the test lets it go");
                saw_tx.send(ctx.is_cancel_requested()).unwrap();
                Ok::<u8, String>(1)
            })
    });
    wait_until(&sub, || h.status() == TaskStatus::Error);
    assert_eq!(h.error().as_deref(), Some("timed out after 20ms"));
    go_tx.send(()).unwrap();
    assert!(recv(&saw, "the closure returns"), "it was asked to cancel");
    idle(&s);
    assert_eq!(
        (h.status(), h.result()),
        (TaskStatus::Error, None),
        "late return discarded"
    );
}

#[test]
fn a_timeout_with_retries_left_reports_the_next_attempt_which_waits_for_the_old_closure() {
    let s = Session::new();
    let sub = s.subscribe();
    let (events_tx, events) = channel();
    let (go_tx, go) = channel::<()>();
    let go = Mutex::new(go);
    let running = Arc::new(AtomicUsize::new(0));
    let calls = AtomicUsize::new(0);
    let h = s.enter(|| {
        task("slow")
            .timeout(Duration::from_millis(20))
            .retry(Retry::times(1).backoff(Duration::ZERO))
            .run(move |ctx: &TaskContext| {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                events_tx.send(format!("start {now}")).unwrap();
                if calls.fetch_add(1, Ordering::SeqCst) == 0 {
                    // Attempt 1 hangs until the test lets it go (past its timeout).
                    events_tx.send("first".into()).unwrap();
                    go.lock().unwrap().recv_timeout(LONG).ok();
                    events_tx
                        .send(format!("asked {}", ctx.is_cancel_requested()))
                        .unwrap();
                }
                running.fetch_sub(1, Ordering::SeqCst);
                events_tx.send("end".into()).unwrap();
                Ok::<u8, String>(2)
            })
    });
    assert_eq!(recv(&events, "attempt 1 starts"), "start 1");
    assert_eq!(recv(&events, "attempt 1 blocks"), "first");
    wait_until(&sub, || h.attempt() == 2);
    assert_eq!(
        (h.status(), h.error()),
        (TaskStatus::Running, None),
        "next attempt at once"
    );
    go_tx.send(()).unwrap();
    assert_eq!(
        recv(&events, "attempt 1 resumes"),
        "asked true",
        "the timeout asked it to cancel"
    );
    assert_eq!(recv(&events, "attempt 1 returns"), "end");
    // The second closure starts only now, alone ("start 1": nobody else runs).
    assert_eq!(recv(&events, "attempt 2 starts"), "start 1");
    idle(&s);
    assert_eq!(
        (h.status(), h.result(), h.attempt()),
        (TaskStatus::Done, Some(2), 2)
    );
}

#[test]
fn a_refresh_of_a_timed_out_task_waits_for_its_closure() {
    let s = Session::new();
    let sub = s.subscribe();
    let (events_tx, events) = channel();
    let (go_tx, go) = channel::<()>();
    let go = Arc::new(Mutex::new(go));
    let hang = {
        let (events_tx, go) = (events_tx.clone(), go.clone());
        move |_: &TaskContext| {
            events_tx.send("start old").unwrap();
            go.lock().unwrap().recv_timeout(LONG).ok();
            events_tx.send("end old").unwrap();
            Ok::<u8, String>(1)
        }
    };
    let h = s.enter(|| task("t").timeout(Duration::from_millis(20)).run(hang));
    assert_eq!(recv(&events, "the old closure starts"), "start old");
    wait_until(&sub, || h.status() == TaskStatus::Error);
    h.refresh();
    let h = s.enter(|| {
        task("t").run(move |_| {
            events_tx.send("start new").unwrap();
            Ok::<u8, String>(2)
        })
    });
    assert_eq!(
        h.status(),
        TaskStatus::Pending,
        "restarted, waiting for the old closure"
    );
    go_tx.send(()).unwrap();
    assert_eq!(recv(&events, "the old closure ends"), "end old");
    assert_eq!(recv(&events, "the new closure starts"), "start new");
    idle(&s);
    assert_eq!(h.result(), Some(2));
}
