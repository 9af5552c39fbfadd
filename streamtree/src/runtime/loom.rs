//! Loom model checks of the task state machine: every interleaving of cancel, start,
//! finish, honouring a cancel, dismiss and progress keeps the invariants of `README.md`.
//!
//! The set-level models (`close` racing `submit`, the active count) run the real `TaskSet`
//! and `run_task`; the model threads play the workers (no pool thread starts). The pool's
//! own lock-free counts are modelled beside `pool.rs`.
//!
//! Run: `RUSTFLAGS="--cfg streamtree_loom" CARGO_TARGET_DIR=target/loom cargo test -p streamtree --release --lib runtime::loom`

use std::sync::Arc;
use std::time::Duration;

use loom::thread;

use super::slot::{Change, SetLink, Slot};
use super::status::{Progress, TaskStatus};
use super::sync::Mutex;
use super::table::{TaskTable, dismiss};
use super::{Runtime, TaskSet};

fn slot() -> Arc<Slot> {
    Slot::new::<u32>("k", SetLink::detached(), false)
}

fn running() -> Arc<Slot> {
    let s = slot();
    assert!(s.start());
    s
}

fn terminal(changes: &[Change]) -> usize {
    changes.iter().filter(|c| **c == Change::Terminal).count()
}

/// The worker as `run_task` drives it: start unless cancelled, then finish.
fn worker(s: &Slot, value: u32) -> (bool, Vec<Change>) {
    if !s.start() {
        return (false, vec![]);
    }
    let (change, discarded) = s.finish(Ok(Arc::new(value)));
    assert!(discarded.is_none() || change == Change::None);
    (true, vec![change])
}

/// I1, I2, I4: cancel racing a worker that starts and finishes. Exactly one terminal
/// transition; a task cancelled while Pending never runs; a normal finish wins over a
/// cancel request and clears it.
#[test]
fn cancel_races_start_and_finish() {
    loom::model(|| {
        let s = slot();
        let w = {
            let s = s.clone();
            thread::spawn(move || worker(&s, 7))
        };
        let cancel = s.cancel();
        let (ran, mut changes) = w.join().unwrap();
        changes.push(cancel);
        assert_eq!(terminal(&changes), 1, "exactly one terminal transition");
        if ran {
            assert_eq!(s.status(), TaskStatus::Done);
        } else {
            assert_eq!(s.status(), TaskStatus::Cancelled);
            assert_eq!(
                cancel,
                Change::Terminal,
                "only a Pending cancel stops a start"
            );
        }
        assert!(!s.is_cancel_requested(), "no request survives the end");
        s.with_state(|st| assert_eq!(st.value().is_some(), ran));
    });
}

/// I3, I4: a running worker that honours a cancel request races the request. Either it saw
/// the request and ends Cancelled (its value discarded), or it did not and ends Done. The
/// end comes only from `finish`, after the closure returned.
#[test]
fn cooperative_cancel_races_finish() {
    loom::model(|| {
        let s = running();
        let w = {
            let s = s.clone();
            thread::spawn(move || {
                let honoured = s.is_cancel_requested() && s.honour_cancel();
                assert_eq!(
                    s.status(),
                    TaskStatus::Running,
                    "honouring a request does not end the task before its closure returns"
                );
                let (change, discarded) = s.finish(Ok(Arc::new(1u32)));
                assert_eq!(
                    discarded.is_some(),
                    honoured,
                    "a finish after an honoured request discards its value"
                );
                (honoured, change)
            })
        };
        let cancel = s.cancel();
        let (honoured, fin) = w.join().unwrap();
        assert_eq!(fin, Change::Terminal, "the closure's return is the one end");
        assert_ne!(cancel, Change::Terminal, "cancel on Running only requests");
        match s.status() {
            TaskStatus::Done => {
                assert!(!honoured);
                s.with_state(|st| assert!(st.value().is_some()));
            }
            TaskStatus::Cancelled => {
                assert!(honoured);
                s.with_state(|st| assert!(st.value().is_none()));
            }
            other => panic!("unexpected end state {other}"),
        }
        assert!(!s.is_cancel_requested(), "no request survives the end");
    });
}

/// I3: a request and its honouring race the finish: honouring acts only on a request made
/// before it, the request stays visible until the finish, and the finish is the only end.
#[test]
fn honour_without_request_is_noop() {
    loom::model(|| {
        let s = running();
        let b = {
            let s = s.clone();
            thread::spawn(move || s.cancel())
        };
        let honoured = s.honour_cancel();
        let seen = s.is_cancel_requested();
        let (fin, _) = s.finish(Err("boom".into()));
        let b = b.join().unwrap();
        assert_eq!(fin, Change::Terminal);
        assert_ne!(b, Change::Terminal, "a cancel on Running only requests");
        assert!(
            !honoured || b == Change::Changed,
            "honouring needs a request first"
        );
        assert!(
            !honoured || seen,
            "an honoured request stays visible until the end"
        );
        let expected = if honoured {
            TaskStatus::Cancelled
        } else {
            TaskStatus::Error
        };
        assert_eq!(s.status(), expected);
    });
}

/// I5, I6: dismiss racing the finish. Dismiss succeeds only on a terminal task; a slot is
/// in the map exactly when it is not dismissed, and dismissed slots report Missing.
#[test]
fn dismiss_races_finish() {
    loom::model(|| {
        let s = running();
        let map = Arc::new(Mutex::new(TaskTable::default()));
        map.lock().unwrap().insert_new(s.clone());
        let d = {
            let map = map.clone();
            thread::spawn(move || dismiss(&map, "k").is_some())
        };
        let (fin, _) = s.finish(Ok(Arc::new(3u32)));
        assert_eq!(fin, Change::Terminal);
        let dismissed = d.join().unwrap();
        let in_map = map.lock().unwrap().contains("k");
        assert_eq!(in_map, !dismissed, "in the map iff not dismissed");
        if dismissed {
            assert_eq!(s.status(), TaskStatus::Missing);
            s.with_state(|st| assert!(st.value().is_none(), "a dismissed task shows no result"));
        } else {
            assert_eq!(s.status(), TaskStatus::Done);
        }
    });
}

/// I7: progress racing the finish is kept if it came first and ignored after; the last
/// accepted progress survives the end.
#[test]
fn progress_races_finish() {
    loom::model(|| {
        let s = running();
        let p = {
            let s = s.clone();
            thread::spawn(move || s.set_progress(Progress::from((0.5, "half"))))
        };
        let (fin, _) = s.finish(Ok(Arc::new(0u32)));
        let accepted = p.join().unwrap() == Change::Changed;
        assert_eq!(fin, Change::Terminal);
        assert_eq!(s.status(), TaskStatus::Done);
        s.with_state(|st| assert_eq!(st.progress().is_some(), accepted));
    });
}

/// I1, I6: two cancels and a dismiss on a Pending task: one terminal transition, and the
/// dismiss only succeeds after it.
#[test]
fn cancels_and_dismiss_on_pending() {
    loom::model(|| {
        let s = slot();
        let map = Arc::new(Mutex::new(TaskTable::default()));
        map.lock().unwrap().insert_new(s.clone());
        let c = {
            let s = s.clone();
            thread::spawn(move || s.cancel())
        };
        let d = {
            let map = map.clone();
            thread::spawn(move || dismiss(&map, "k").is_some())
        };
        let c0 = s.cancel();
        let (c1, dismissed) = (c.join().unwrap(), d.join().unwrap());
        assert_eq!(terminal(&[c0, c1]), 1);
        assert!(!s.start(), "a cancelled task never starts");
        let expected = if dismissed {
            TaskStatus::Missing
        } else {
            TaskStatus::Cancelled
        };
        assert_eq!(s.status(), expected);
    });
}

/// `wait_cancelled` racing `cancel`: the waiter checks the request under the slot's lock
/// and `cancel` signals under it, so the wake-up cannot be missed (under loom a wait has no
/// timeout: a missed one would deadlock the model).
#[test]
fn wait_cancelled_wakes_on_a_request() {
    loom::model(|| {
        let s = running();
        let c = {
            let s = s.clone();
            thread::spawn(move || s.cancel())
        };
        assert!(
            s.wait_cancelled(Duration::from_secs(3600)),
            "woken by the request"
        );
        assert_eq!(c.join().unwrap(), Change::Changed);
        assert_eq!(
            s.status(),
            TaskStatus::Running,
            "a request does not end the task"
        );
    });
}

/// A set on a runtime whose pool never starts a thread: the models play the workers.
pub(super) fn set() -> Arc<TaskSet> {
    TaskSet::new(Runtime::builder().max_workers(1).build())
}

/// Two-thread set models take a bounded number of preemptions (loom's advice for models
/// this size); every interleaving within the bound is explored.
pub(super) fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(3);
    builder.check(f);
}

/// I1, shutdown: `close` racing a task's worker and the follow-up `submit` it makes. Every
/// task ends (a Pending one Cancelled, a Running one asked and then finishing), the active
/// count returns to exactly zero, and a task submitted after the close is Cancelled without
/// being counted or queued.
///
/// This model found the cancel path notifying `cancel_signal` while it still held the
/// slot's lock: in about one run in three loom then failed with "expected to be able to
/// acquire lock" in the worker's `finish_attempt`. `cancel_with_trash` now notifies after
/// the unlock (a waiter re-checks the request under the lock, so no wake-up is lost).
#[test]
fn close_races_submit_and_the_worker() {
    model(|| {
        let set = set();
        let (first, job) = set.admit_for_model::<u32, _>("first", |_: &Slot| Ok(1));
        let job = job.expect("an open set queues a new task");
        let worker = {
            let set = set.clone();
            thread::spawn(move || {
                super::run_task(job);
                let (second, job) = set.admit_for_model::<u32, _>("second", |_: &Slot| Ok(2));
                if let Some(job) = job {
                    super::run_task(job);
                }
                second
            })
        };
        set.close();
        let second = worker.join().unwrap();
        assert!(
            set.wait_idle(Duration::ZERO),
            "the active count is back to zero"
        );
        for task in [&first, &second] {
            assert!(
                matches!(task.status(), TaskStatus::Done | TaskStatus::Cancelled),
                "every task ends: {}",
                task.status()
            );
            assert!(!task.is_cancel_requested(), "no request outlives its task");
        }
        let (late, job) = set.admit_for_model::<u32, _>("late", |_: &Slot| Ok(3));
        assert!(job.is_none(), "a closed set queues nothing");
        assert_eq!(late.status(), TaskStatus::Cancelled);
        assert!(set.wait_idle(Duration::ZERO), "and counts nothing");
    });
}

/// The active count: a worker finishing one task and another thread cancelling a pending
/// one race a waiter. Under loom a wait has no timeout, so a missed wake-up would deadlock
/// the model; the waiter returns only once both tasks ended.
#[test]
fn active_count_wakes_the_waiter() {
    model(|| {
        let set = set();
        let (a, job) = set.admit_for_model::<u32, _>("a", |_: &Slot| Ok(1));
        let (b, _never_run) = set.admit_for_model::<u32, _>("b", |_: &Slot| Ok(2));
        let job = job.expect("an open set queues a new task");
        let worker = thread::spawn(move || super::run_task(job));
        let canceller = {
            let (set, b) = (set.clone(), b.clone());
            thread::spawn(move || set.changed(b.cancel()))
        };
        assert!(set.wait_idle(Duration::from_secs(3600)), "woken at zero");
        assert_eq!(
            a.status(),
            TaskStatus::Done,
            "idle only after the closure returned"
        );
        assert_eq!(b.status(), TaskStatus::Cancelled);
        worker.join().unwrap();
        canceller.join().unwrap();
    });
}

/// A running slot with a life: `opts`, its closure started (as a worker's `start`).
fn running_with(opts: super::life::Options) -> Arc<Slot> {
    let life = super::life::Life::new(opts, None, std::time::Instant::now());
    let s = Slot::with_life::<u32>("k", None, SetLink::detached(), life);
    assert!(s.start());
    s
}

/// Life-cycle "one end" and "one closure": a timeout racing the closure's return. Exactly
/// one terminal transition; if the timeout won, the task is Error and the late value is
/// discarded; if the return won, Done and the timeout does nothing. Either way no closure
/// counts as running at the end and no cancel request survives.
#[test]
fn timeout_races_finish() {
    loom::model(|| {
        let opts = super::life::Options {
            timeout: Some(Duration::from_millis(1)),
            ..Default::default()
        };
        let s = running_with(opts);
        let t = {
            let s = s.clone();
            thread::spawn(move || s.time_out(1, Duration::from_millis(1)))
        };
        let (change, discarded, next, trash) = s.finish_attempt(Ok(Arc::new(7u32)));
        drop(trash);
        t.join().unwrap();
        assert_eq!(next, super::life::Next::None);
        match s.status() {
            TaskStatus::Done => {
                assert_eq!(change, Change::Terminal);
                assert!(discarded.is_none());
            }
            TaskStatus::Error => {
                assert_eq!(
                    change,
                    Change::Changed,
                    "the timeout made the terminal transition"
                );
                assert!(discarded.is_some(), "the late return is discarded");
                s.with_state(|st| assert!(st.value().is_none()));
            }
            other => panic!("ended {other:?}"),
        }
        assert!(
            !s.is_cancel_requested(),
            "no request survives the closure's return"
        );
        s.with_state(|st| assert!(!st.life.as_ref().unwrap().closure_running));
    });
}

/// A timeout with a retry left racing the closure's return: the task either ends Done or
/// waits in Backoff for its next attempt, which the return (not the timeout) schedules:
/// so the next closure can only start after this one returned.
#[test]
fn timeout_with_retry_races_finish() {
    loom::model(|| {
        let opts = super::life::Options {
            timeout: Some(Duration::from_millis(1)),
            retry: Some(super::Retry::times(1).backoff(Duration::ZERO)),
            ..Default::default()
        };
        let s = running_with(opts);
        let t = {
            let s = s.clone();
            thread::spawn(move || s.time_out(1, Duration::from_millis(1)))
        };
        let (_, _, next, trash) = s.finish_attempt(Ok(Arc::new(7u32)));
        drop(trash);
        t.join().unwrap();
        match s.status() {
            TaskStatus::Done => assert_eq!(next, super::life::Next::None),
            TaskStatus::Running => {
                assert!(
                    matches!(next, super::life::Next::Retry(_)),
                    "the return requeues"
                );
                s.with_state(|st| assert_eq!(st.attempt, 2));
                assert!(s.claim_requeue(), "the return lets the timer queue it");
                assert!(s.start(), "the next attempt starts after the return");
            }
            other => panic!("ended {other:?}"),
        }
    });
}

/// Refresh racing the finish: a refresh asked while Running does nothing; one asked after
/// the end marks the task. So a marked task is always terminal (and a restart finds it so).
#[test]
fn refresh_races_finish() {
    loom::model(|| {
        let s = running_with(super::life::Options::default());
        let t = {
            let s = s.clone();
            thread::spawn(move || s.request_refresh())
        };
        let (change, _, _, trash) = s.finish_attempt(Ok(Arc::new(1u32)));
        drop(trash);
        let refreshed = t.join().unwrap();
        assert_eq!(change, Change::Terminal);
        assert_eq!(s.wants_run(), refreshed == Change::Changed);
        if s.wants_run() {
            let (queue, trash) = s
                .restart(super::life::Work::once(|_: &Slot| Ok(2u32)), None)
                .expect("a marked task is terminal");
            drop(trash);
            assert!(queue);
            assert_eq!(s.status(), TaskStatus::Pending);
            assert!(!s.wants_run());
        }
    });
}

/// Cancel racing the requeued start of a retry: either the attempt starts (and the cancel
/// becomes a request) or the cancel ends the task and the start is refused.
#[test]
fn cancel_races_retry_start() {
    loom::model(|| {
        let opts = super::life::Options {
            retry: Some(super::Retry::times(1).backoff(Duration::ZERO)),
            ..Default::default()
        };
        let s = running_with(opts);
        let (change, _, next, trash) = s.finish_attempt(Err("flaky".into()));
        drop(trash);
        assert_eq!((change, s.status()), (Change::Changed, TaskStatus::Running));
        assert!(matches!(next, super::life::Next::Retry(_)));
        let w = {
            let s = s.clone();
            thread::spawn(move || s.start())
        };
        let cancel = s.cancel();
        let started = w.join().unwrap();
        if started {
            assert_eq!(cancel, Change::Changed);
            assert!(s.is_cancel_requested());
        } else {
            assert_eq!(
                (cancel, s.status()),
                (Change::Terminal, TaskStatus::Cancelled)
            );
        }
    });
}

/// I11 — one job per task: a refresh restarting a task cancelled while its job was still
/// queued races that job's start. Exactly one of them gets the run: the old job starts
/// it (restart came first, and queued nothing), or the restart queues a new job (the old
/// job found it Cancelled and left).
#[test]
fn restart_races_the_queued_start() {
    loom::model(|| {
        let s = slot(); // Pending, its job queued
        assert_eq!(s.cancel(), Change::Terminal);
        let w = {
            let s = s.clone();
            thread::spawn(move || s.start())
        };
        let (queue, trash) = s
            .restart(super::life::Work::once(|_: &Slot| Ok(2u32)), None)
            .expect("a cancelled task restarts");
        drop(trash);
        let started = w.join().unwrap();
        assert!(started ^ queue, "exactly one job runs the restarted task");
    });
}

/// A job backend's cancel callback (`TaskContext::on_cancel`, `Life::on_cancel`) racing
/// the attempt's end: called exactly once when the request reached the running attempt,
/// never when the attempt ended first, and never under the slot's lock (the callback
/// takes it again here, which would deadlock).
#[test]
fn on_cancel_races_finish() {
    loom::model(|| {
        let s = running_with(super::life::Options::default());
        let calls = Arc::new(super::sync::AtomicUsize::new(0));
        {
            let (calls, slot) = (calls.clone(), s.clone());
            s.on_cancel(Box::new(move || {
                slot.with_state(|_| ());
                calls.fetch_add(1, super::sync::Ordering::SeqCst);
            }));
        }
        let c = {
            let s = s.clone();
            thread::spawn(move || s.cancel())
        };
        let (_, _, _, trash) = s.finish_attempt(Ok(Arc::new(7u32)));
        drop(trash);
        let asked = c.join().unwrap() == Change::Changed;
        assert_eq!(
            calls.load(super::sync::Ordering::SeqCst),
            usize::from(asked),
            "called once exactly when the request reached the running attempt"
        );
        s.with_state(|st| assert!(st.life.as_ref().unwrap().on_cancel.is_none()));
    });
}
