//! The deferred-attempt seam with the task life cycle (issue 10): a `StartedRun` still
//! out after its attempt timed out holds the task's one closure (I8), so a retry or a
//! restart starts only once it ends; a supersede asks it to stop. The test backend
//! (`jobs_start/backend.rs`) hands every run to the test; nothing sleeps.

use std::sync::mpsc::{TryRecvError, channel};
use std::time::Duration;

use streamtree::jobs::job;
use streamtree::prelude::*;
use streamtree_tests::{LONG, idle};

#[path = "jobs_start/backend.rs"]
mod backend;
use backend::*;

#[test]
fn a_timeout_ends_the_run_in_error_tells_the_backend_and_discards_the_late_finish() {
    let (b, rx) = handing(false);
    let s = session(&runtime(&b));
    let h = s.enter(|| job::<Echo>(&1).timeout(Duration::from_millis(20)).submit());
    let taken = recv(&rx, "the run is started");
    let (tx, calls) = channel();
    // Before or after the deadline: either way it is called (at once, if after).
    taken.run.on_cancel(report(&tx, "timed out"));
    assert_eq!(recv(&calls, "the timeout calls on_cancel"), "timed out");
    idle(&s);
    assert_eq!(
        (h.status(), h.error().as_deref()),
        (TaskStatus::Error, Some("timed out after 20ms"))
    );
    assert!(taken.run.is_cancel_requested(), "the run is asked to stop");
    taken.run.finish(Ok(b"1".to_vec()));
    assert_eq!(
        (h.status(), h.result(), h.error().as_deref()),
        (TaskStatus::Error, None, Some("timed out after 20ms")),
        "the late finish is discarded"
    );
    // The task is whole again: a refresh starts a new run.
    h.refresh();
    let h = s.enter(|| job::<Echo>(&1).timeout(LONG).submit());
    let again = recv(&rx, "the refresh starts a new run");
    assert!(again.fresh);
    again.run.finish(Ok(b"2".to_vec()));
    idle(&s);
    assert_eq!(h.result(), Some(2));
}

// Checked by breaking the seam: with `run_task` clearing `closure_running` after
// `Ran::Deferred` (the run out no longer counts as the running closure), every test in
// this file fails (no timeout or supersede reaches the run).
#[test]
fn a_timed_out_run_still_out_holds_back_the_retry_until_it_ends() {
    let (b, rx) = handing(false);
    let s = session(&runtime(&b));
    let h = s.enter(|| {
        job::<Echo>(&1)
            .timeout(Duration::from_millis(20))
            .retry(Retry::times(1).backoff(Duration::ZERO))
            .submit()
    });
    let first = recv(&rx, "attempt 1 is started");
    let (tx, calls) = channel();
    first.run.on_cancel(report(&tx, "timed out"));
    recv(&calls, "the timeout calls on_cancel");
    assert_eq!((h.status(), h.attempt()), (TaskStatus::Running, 2));
    assert!(
        matches!(rx.try_recv(), Err(TryRecvError::Empty)),
        "attempt 2 waits for attempt 1's run to end"
    );
    first.run.finish(Ok(b"1".to_vec()));
    let second = recv(&rx, "attempt 2 is started once attempt 1 ended");
    assert!(
        !second.run.is_cancel_requested(),
        "a new attempt, no request"
    );
    second.run.finish(Ok(b"2".to_vec()));
    idle(&s);
    assert_eq!(
        (h.status(), h.result(), h.attempt()),
        (TaskStatus::Done, Some(2), 2),
        "attempt 1's late value was discarded"
    );
}

#[test]
fn a_refresh_while_a_timed_out_run_is_out_starts_once_it_ends() {
    let (b, rx) = handing(false);
    let s = session(&runtime(&b));
    let load = || job::<Echo>(&1).timeout(Duration::from_millis(20)).submit();
    let h = s.enter(load);
    let first = recv(&rx, "the run is started");
    idle(&s);
    assert_eq!(h.error().as_deref(), Some("timed out after 20ms"));
    h.refresh();
    let h = s.enter(|| job::<Echo>(&1).timeout(LONG).submit());
    assert_eq!(
        h.status(),
        TaskStatus::Pending,
        "restarted, waiting for the old run"
    );
    assert!(
        matches!(rx.try_recv(), Err(TryRecvError::Empty)),
        "no second run beside the one out"
    );
    // The timed-out run's last words land nowhere: not on the restarted run.
    first.run.set_progress("late");
    assert_eq!(
        h.progress(),
        None,
        "a timed-out run's progress shows on the next run"
    );
    first.run.finish(Ok(b"1".to_vec()));
    let second = recv(&rx, "the restart starts once the old run ended");
    assert!(second.fresh);
    second.run.finish(Ok(b"2".to_vec()));
    idle(&s);
    assert_eq!((h.status(), h.result()), (TaskStatus::Done, Some(2)));
}

#[test]
fn another_input_supersedes_a_run_out_and_switching_back_restarts_it() {
    let (b, rx) = handing(false);
    let s = session(&runtime(&b));
    let one = s.enter(|| job::<Echo>(&1).submit());
    let first = recv(&rx, "input 1 is started");
    assert_eq!(first.input, b"1");
    let (tx, calls) = channel();
    first.run.on_cancel(report(&tx, "superseded"));
    let two = s.enter(|| job::<Echo>(&2).submit());
    assert_eq!(
        recv(&calls, "the supersede asks the run to stop"),
        "superseded"
    );
    first.run.finish(Err("stopped".to_owned()));
    recv(&rx, "input 2 is started")
        .run
        .finish(Ok(b"2".to_vec()));
    idle(&s);
    assert_eq!(
        (one.status(), two.result()),
        (TaskStatus::Cancelled, Some(2))
    );
    let one = s.enter(|| job::<Echo>(&1).submit());
    let again = recv(&rx, "switching back restarts input 1");
    assert!(again.fresh);
    again.run.finish(Ok(b"1".to_vec()));
    idle(&s);
    assert_eq!(one.result(), Some(1));
}
