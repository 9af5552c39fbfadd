//! The deferred-attempt seam (issue 10): `JobBackend::start` takes a run and returns at
//! once; the task stays Running, holding no runtime worker, until its `StartedRun` is
//! finished (or dropped) from any thread. The test backend hands every `StartedRun` to
//! the test through a channel, so the test decides when and how each run ends; every
//! wait has a timeout and says what it waited for, and nothing sleeps.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{TryRecvError, channel};
use std::sync::{Arc, Barrier, Mutex};
use std::time::Duration;

use streamtree::Runtime;
use streamtree::jobs::{StartedRun, job};
use streamtree::prelude::*;
use streamtree_tests::idle;

#[path = "jobs_start/backend.rs"]
mod backend;
use backend::*;

// Checked by breaking the runtime: with `run_task` ending the attempt on its worker after
// `Ran::Deferred` (`end_attempt(.., Err(..))` instead of `drop(set)`), the jobs end in
// Error before the test finishes them, and this test fails on their status.
#[test]
fn a_finished_run_is_done_and_no_worker_is_held_while_runs_are_out() {
    let (b, rx) = handing(false);
    let rt = Runtime::builder().backend(b.clone()).max_workers(1).build();
    // Two sessions: in one, another input of the same job would supersede the first.
    let (s, t) = (session(&rt), session(&rt));
    let h1 = s.enter(|| job::<Echo>(&1).submit());
    let h2 = t.enter(|| job::<Echo>(&2).submit());
    // With one worker, the second start is reached only if the first freed it.
    let first = recv(&rx, "the first run is started");
    let second = recv(&rx, "the second run is started, the first still out");
    assert_eq!((first.input.as_slice(), first.fresh), (&b"1"[..], false));
    assert_eq!(second.input, b"2");
    let (tx, plain) = channel();
    let p = s.enter(|| submit("plain", move || tx.send(()).expect("the test listens")));
    recv(
        &plain,
        "a plain task runs on the one worker while both runs are out",
    );
    assert_eq!(
        (h1.status(), h2.status()),
        (TaskStatus::Running, TaskStatus::Running)
    );
    assert!(!s.wait_idle(Duration::ZERO), "a run out is not idle");
    // Finished from this thread, in the other order.
    second.run.finish(Ok(b"20".to_vec()));
    first.run.finish(Ok(b"10".to_vec()));
    idle(&s);
    idle(&t);
    assert_eq!(
        (h1.status(), h1.result(), h2.result(), p.status()),
        (TaskStatus::Done, Some(10), Some(20), TaskStatus::Done)
    );
    assert_eq!(rt.peak_workers(), 1);
    assert_eq!(
        b.executed.load(Ordering::SeqCst),
        0,
        "no run went to execute"
    );
}

#[test]
fn an_output_that_does_not_decode_ends_in_error_naming_the_type() {
    let (b, rx) = handing(false);
    let s = session(&runtime(&b));
    let h = s.enter(|| job::<Echo>(&1).submit());
    recv(&rx, "the run is started")
        .run
        .finish(Ok(br#""one""#.to_vec()));
    idle(&s);
    assert_eq!(h.status(), TaskStatus::Error);
    assert_eq!(
        h.error().as_deref(),
        Some(
            "job `echo`: its output does not decode as `u32`: invalid type: string \"one\", \
             expected u32 at line 1 column 5"
        )
    );
}

#[test]
fn an_error_without_a_cancel_ends_in_error_and_the_runtime_retries_it() {
    let (b, rx) = handing(false);
    let s = session(&runtime(&b));
    let h = s.enter(|| {
        job::<Echo>(&1)
            .retry(Retry::times(1).backoff(Duration::ZERO))
            .submit()
    });
    recv(&rx, "attempt 1 is started")
        .run
        .finish(Err("lost".to_owned()));
    let second = recv(&rx, "attempt 2 is started by the runtime's retry");
    assert_eq!((h.attempt(), h.status()), (2, TaskStatus::Running));
    second.run.finish(Err("lost again".to_owned()));
    idle(&s);
    assert_eq!(
        (h.status(), h.error().as_deref(), h.attempt()),
        (TaskStatus::Error, Some("lost again"), 2)
    );
}

#[test]
fn progress_and_the_backends_attempt_show_on_the_handle() {
    let (b, rx) = handing(true);
    let s = session(&runtime(&b));
    let sub = s.subscribe();
    let h = s.enter(|| job::<Echo>(&1).submit());
    let taken = recv(&rx, "the run is started");
    assert_eq!(taken.run.job(), "echo");
    taken.run.set_progress((0.5, "halfway"));
    taken.run.set_attempt(3);
    streamtree_tests::wait_until(&sub, || h.attempt() == 3);
    assert_eq!(h.progress().unwrap().to_string(), "50% halfway");
    assert_eq!(h.status(), TaskStatus::Running);
    taken.run.finish(Ok(b"1".to_vec()));
    idle(&s);
    assert_eq!(
        (h.result(), h.attempt(), h.progress().unwrap().to_string()),
        (Some(1), 3, "50% halfway".to_owned()),
        "the end keeps the last progress and attempt"
    );
}

#[test]
fn a_backend_that_does_not_own_retries_shows_no_attempt_of_its_own() {
    let (b, rx) = handing(false);
    let s = session(&runtime(&b));
    let h = s.enter(|| job::<Echo>(&1).submit());
    let taken = recv(&rx, "the run is started");
    taken.run.set_attempt(3);
    taken.run.finish(Ok(b"1".to_vec()));
    idle(&s);
    assert_eq!(
        (h.result(), h.attempt()),
        (Some(1), 1),
        "the runtime counts"
    );
}

// Checked by breaking `StartedRun::finish` (no `honour_cancel` before an `Err`): the task
// ends in Error and this test fails on its status.
#[test]
fn a_cancel_reaches_the_run_and_an_error_then_ends_it_cancelled() {
    let (b, rx) = handing(false);
    let s = session(&runtime(&b));
    let h = s.enter(|| job::<Echo>(&1).submit());
    let taken = recv(&rx, "the run is started");
    let (tx, calls) = channel();
    taken.run.on_cancel(report(&tx, "registered before"));
    assert!(!taken.run.is_cancel_requested());
    assert_eq!(calls.try_recv(), Err(TryRecvError::Empty), "no request yet");
    h.cancel();
    assert_eq!(recv(&calls, "on_cancel is called"), "registered before");
    assert!(taken.run.is_cancel_requested() && h.is_cancel_requested());
    assert_eq!(
        h.status(),
        TaskStatus::Running,
        "a request does not end the run"
    );
    // Registered after the request: called at once, on this thread.
    taken.run.on_cancel(report(&tx, "registered after"));
    assert_eq!(calls.try_recv(), Ok("registered after"));
    taken.run.finish(Err("stopped".to_owned()));
    idle(&s);
    assert_eq!((h.status(), h.error()), (TaskStatus::Cancelled, None));
    assert!(!h.is_cancel_requested(), "no request outlives the run");
    drop(tx);
    assert_eq!(
        calls.try_recv(),
        Err(TryRecvError::Disconnected),
        "each callback was called once"
    );
}

#[test]
fn a_run_finished_ok_despite_a_cancel_is_done_and_an_unused_callback_is_dropped() {
    let (b, rx) = handing(false);
    let rt = runtime(&b);
    let (s, t) = (session(&rt), session(&rt));
    let h = s.enter(|| job::<Echo>(&1).submit());
    let quiet = t.enter(|| job::<Echo>(&2).submit());
    let mut runs = [recv(&rx, "a run is started"), recv(&rx, "a run is started")];
    runs.sort_by(|a, b| a.input.cmp(&b.input));
    let [first, second] = runs;
    let (tx, calls) = channel();
    second.run.on_cancel(report(&tx, "never"));
    h.cancel();
    first.run.finish(Ok(b"1".to_vec()));
    second.run.finish(Ok(b"2".to_vec()));
    idle(&s);
    idle(&t);
    assert_eq!(
        (h.status(), h.result(), quiet.result()),
        (TaskStatus::Done, Some(1), Some(2)),
        "an Ok finish wins over an unhonoured request"
    );
    drop(tx);
    assert_eq!(
        calls.try_recv(),
        Err(TryRecvError::Disconnected),
        "the uncancelled run's callback was dropped uncalled at its end"
    );
}

// Checked by breaking `Deferred`'s drop (ending nothing): this test and the panicking
// `start`'s fail, their tasks Running for ever.
#[test]
fn a_run_dropped_unfinished_ends_in_error_and_the_session_goes_idle() {
    let (b, rx) = handing(false);
    let s = session(&runtime(&b));
    let h = s.enter(|| job::<Echo>(&1).submit());
    drop(recv(&rx, "the run is started").run);
    idle(&s);
    assert_eq!(h.status(), TaskStatus::Error);
    let e = h.error().unwrap();
    assert!(e.contains("dropped before it ended"), "{e}");
}

#[test]
fn a_run_finished_inside_start_is_done() {
    let b = backend(false, |run, started| {
        started.finish(Ok(run.input.to_vec()));
        Ok(())
    });
    let s = session(&runtime(&b));
    let h = s.enter(|| job::<Echo>(&4).submit());
    idle(&s);
    assert_eq!((h.status(), h.result()), (TaskStatus::Done, Some(4)));
}

#[test]
fn a_run_finished_on_another_thread_before_start_returns_is_done() {
    let (tx, threads) = channel();
    let tx = Mutex::new(tx);
    let b = backend(false, move |run, started| {
        let input = run.input.to_vec();
        let finished = Arc::new(Barrier::new(2));
        let f = finished.clone();
        let t = std::thread::spawn(move || {
            started.finish(Ok(input));
            f.wait();
        });
        // `start` returns only once the run has ended on the other thread.
        finished.wait();
        tx.lock().unwrap().send(t).expect("the test listens");
        Ok(())
    });
    let s = session(&runtime(&b));
    let h = s.enter(|| job::<Echo>(&5).submit());
    let t = recv(&threads, "start returns");
    idle(&s);
    assert_eq!((h.status(), h.result()), (TaskStatus::Done, Some(5)));
    t.join().expect("the finishing thread did not panic");
}

#[test]
fn a_start_that_panics_ends_in_error_and_the_runtime_keeps_working() {
    let b = backend(false, |run, started| {
        if run.input == b"13" {
            panic!("the backend broke");
        }
        started.finish(Ok(run.input.to_vec()));
        Ok(())
    });
    let rt = Runtime::builder().backend(b).max_workers(1).build();
    let s = session(&rt);
    let h = s.enter(|| job::<Echo>(&13).submit());
    idle(&s);
    assert_eq!(
        (h.status(), h.error().as_deref()),
        (
            TaskStatus::Error,
            Some("job `echo`: its backend's start panicked: the backend broke")
        )
    );
    let next = s.enter(|| job::<Echo>(&14).submit());
    idle(&s);
    assert_eq!(next.result(), Some(14), "the one worker survived the panic");
}

#[test]
fn a_declined_start_runs_execute_on_the_worker() {
    let starts = Arc::new(AtomicU32::new(0));
    let counted = starts.clone();
    let b = backend(false, move |_, started| {
        counted.fetch_add(1, Ordering::SeqCst);
        Err(started)
    });
    let s = session(&runtime(&b));
    let h = s.enter(|| job::<Echo>(&1).submit());
    idle(&s);
    assert_eq!((h.status(), h.result()), (TaskStatus::Done, Some(100)));
    assert_eq!(
        (
            starts.load(Ordering::SeqCst),
            b.executed.load(Ordering::SeqCst)
        ),
        (1, 1)
    );
}

#[test]
fn a_refresh_of_a_finished_run_starts_a_fresh_one() {
    let (b, rx) = handing(false);
    let s = session(&runtime(&b));
    let h = s.enter(|| job::<Echo>(&1).submit());
    let first = recv(&rx, "the first run is started");
    assert!(!first.fresh);
    first.run.finish(Ok(b"1".to_vec()));
    idle(&s);
    assert_eq!(h.result(), Some(1));
    h.refresh();
    let h = s.enter(|| job::<Echo>(&1).submit());
    let second = recv(&rx, "the refresh starts a new run");
    assert!(second.fresh, "a refresh must not join the finished run");
    assert_eq!(second.input, b"1");
    assert!(
        h.is_refreshing() && h.result() == Some(1),
        "the old value shows meanwhile"
    );
    second.run.finish(Ok(b"11".to_vec()));
    idle(&s);
    assert_eq!((h.result(), h.is_refreshing()), (Some(11), false));
}

#[test]
fn a_shared_job_from_two_sessions_is_started_once() {
    let (b, rx) = handing(false);
    let rt = runtime(&b);
    let (a, c) = (session(&rt), session(&rt));
    let ha = a.enter(|| job::<Echo>(&7).shared().submit());
    let hc = c.enter(|| job::<Echo>(&7).shared().submit());
    recv(&rx, "the shared run is started")
        .run
        .finish(Ok(b"70".to_vec()));
    idle(&a);
    idle(&c);
    assert_eq!((ha.result(), hc.result()), (Some(70), Some(70)));
    assert!(
        matches!(rx.try_recv(), Err(TryRecvError::Empty)),
        "one start for both sessions"
    );
}

#[test]
fn closing_the_session_asks_the_run_to_stop_and_a_finish_after_the_runtime_is_gone_is_harmless() {
    let (b, rx) = handing(false);
    let rt = runtime(&b);
    let s = session(&rt);
    let h = s.enter(|| job::<Echo>(&1).submit());
    let taken = recv(&rx, "the run is started");
    let (tx, calls) = channel();
    taken.run.on_cancel(report(&tx, "closed"));
    drop((s, rt));
    assert_eq!(recv(&calls, "the close calls on_cancel"), "closed");
    assert_eq!(
        h.status(),
        TaskStatus::Running,
        "still out: only asked to stop"
    );
    taken.run.finish(Err("stopped".to_owned()));
    assert_eq!(h.status(), TaskStatus::Cancelled);
}

/// A backend's usual cancel path: its `on_cancel` stops the run and finishes it there, on
/// the requesting thread (the handle's `cancel`, or the timer's timeout).
#[test]
fn a_run_finished_from_its_on_cancel_callback_ends_at_the_request() {
    let (b, rx) = handing(false);
    let s = session(&runtime(&b));
    let (tx, finished) = channel();
    // Finishes the run once, whoever comes first: the callback, or (when the request
    // came before the run was stored) this closure, as a backend would.
    let finish_on_cancel = |taken: Taken| {
        let run = Arc::new(Mutex::new(None::<StartedRun>));
        let finish = {
            let (run, tx) = (run.clone(), tx.clone());
            move || {
                let taken = run.lock().unwrap().take();
                if let Some(run) = taken {
                    run.finish(Err("stopped".to_owned()));
                    tx.send(()).expect("the test listens");
                }
            }
        };
        taken.run.on_cancel(finish.clone());
        *run.lock().unwrap() = Some(taken.run);
        // A request before the store found no run in the callback.
        let requested = run
            .lock()
            .unwrap()
            .as_ref()
            .is_some_and(StartedRun::is_cancel_requested);
        if requested {
            finish();
        }
    };
    let h = s.enter(|| job::<Echo>(&1).submit());
    finish_on_cancel(recv(&rx, "the run is started"));
    h.cancel();
    recv(&finished, "the callback finished the run");
    assert_eq!(h.status(), TaskStatus::Cancelled, "ended inside `cancel`");
    assert!(s.wait_idle(Duration::ZERO));
    let h = s.enter(|| job::<Echo>(&2).timeout(Duration::from_millis(20)).submit());
    finish_on_cancel(recv(&rx, "the second run is started"));
    // The timer thread times the attempt out and, in the callback, finishes the run.
    recv(&finished, "the timeout's callback finished the run");
    idle(&s);
    assert_eq!(h.error().as_deref(), Some("timed out after 20ms"));
}
