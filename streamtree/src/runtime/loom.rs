//! Loom model checks of the task state machine: every interleaving of cancel, start,
//! finish, honouring a cancel, dismiss and progress keeps the invariants of `README.md`.
//!
//! Run: `RUSTFLAGS="--cfg streamtree_loom" cargo test -p streamtree --release --lib runtime::loom`

use std::sync::Arc;

use loom::thread;

use super::slot::{Change, SetLink, Slot};
use super::status::{Progress, TaskStatus};
use super::sync::Mutex;
use super::table::{TaskTable, dismiss};

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
