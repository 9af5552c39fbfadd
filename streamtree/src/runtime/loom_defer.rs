//! Loom model checks of deferred attempts (`defer.rs`): a job's closure hands its attempt
//! to a backend thread and returns; that thread ends it (or drops it) while a cancel
//! request or the attempt's timeout races it. The models run the real `run_task`,
//! `Deferred` and `StartedRun` on a real `TaskSet` (the model threads play the worker and
//! the backend's thread; no pool thread starts).
//!
//! Run: `RUSTFLAGS="--cfg streamtree_loom" CARGO_TARGET_DIR=target/loom cargo test -p streamtree --release --lib runtime::loom_defer`

use std::sync::{Arc, Mutex as StdMutex};
use std::time::{Duration, Instant};

use loom::thread;

use super::life::{Life, Options, Work};
use super::loom::{model, set};
use super::slot::{Change, Slot};
use super::status::TaskStatus;
use super::sync::{AtomicUsize, Ordering};
use super::{Deferred, Ran, TaskSet, TaskValue};
use crate::jobs::StartedRun;

/// How the backend's thread ends the run it was handed.
#[derive(Clone, Copy)]
enum End {
    /// `StartedRun::finish` with this output (`Ok`: the number's digits) or error.
    Finish(Result<u32, &'static str>),
    /// Drops the `StartedRun` unfinished.
    Drop,
}

/// A job-like task, counted in its set and Pending, whose closure (on the model's worker)
/// makes a `StartedRun` of its attempt, registers an `on_cancel` that counts its calls,
/// hands the run to a thread it spawns (the backend's, which ends it by `end`) and
/// returns `Ran::Deferred`.
struct Deferring {
    set: Arc<TaskSet>,
    slot: Arc<Slot>,
    /// Calls of the run's `on_cancel` callback.
    calls: Arc<AtomicUsize>,
    /// The backend's thread, once the closure ran.
    backend: Arc<StdMutex<Option<thread::JoinHandle<()>>>>,
}

fn decode(output: &[u8]) -> Result<TaskValue, String> {
    let n: u32 = std::str::from_utf8(output)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| "not a number".to_owned())?;
    Ok(super::value_of(n))
}

fn deferring(end: End) -> Deferring {
    let set = set();
    let life = Life::new(Options::default(), None, Instant::now());
    let slot = Slot::with_life::<u32>("job", None, set.link.clone(), life);
    // As `run` counts a new task, before anyone sees it.
    set.active.started();
    let calls = Arc::new(AtomicUsize::new(0));
    let backend = Arc::new(StdMutex::new(None));
    let work = {
        let (calls, backend, weak) = (calls.clone(), backend.clone(), Arc::downgrade(&slot));
        Work::deferring(move |s: &Slot| {
            let deferred = Deferred::of_current(s).expect("the closure runs on its worker");
            let run = StartedRun::new(deferred, "job", decode, false);
            let (calls, weak) = (calls.clone(), weak.clone());
            run.on_cancel(move || {
                // Takes the slot's lock: called under it, this would deadlock the model.
                if let Some(s) = weak.upgrade() {
                    s.with_state(|_| ());
                }
                calls.fetch_add(1, Ordering::SeqCst);
            });
            let t = thread::spawn(move || match end {
                End::Finish(r) => {
                    run.finish(r.map(|n| n.to_string().into_bytes()).map_err(str::to_owned))
                }
                End::Drop => drop(run),
            });
            *backend.lock().unwrap() = Some(t);
            Ran::Deferred
        })
    };
    slot.lock().life.as_mut().expect("made with a life").work = Some(work);
    Deferring {
        set,
        slot,
        calls,
        backend,
    }
}

impl Deferring {
    /// Runs the task's job on a model thread (its worker), as the pool would.
    fn spawn_worker(&self) -> thread::JoinHandle<()> {
        let slot = self.slot.clone();
        thread::spawn(move || super::run_task(slot))
    }

    /// Joins the worker and then the backend's thread; whether the closure ran.
    fn join(&self, worker: thread::JoinHandle<()>) -> bool {
        worker.join().unwrap();
        let backend = self.backend.lock().unwrap().take();
        backend.map(|t| t.join().unwrap()).is_some()
    }

    /// What holds however the race went: one terminal transition (the active count is
    /// back to exactly zero: a missed end leaves it at one, a second end wraps it), no
    /// closure counted running, no request left, no callback kept.
    fn assert_ended_once(&self) {
        assert!(
            self.set.wait_idle(Duration::ZERO),
            "the active count is back to zero: exactly one terminal transition"
        );
        assert!(
            self.slot.status().is_terminal(),
            "ended: {}",
            self.slot.status()
        );
        assert!(
            !self.slot.is_cancel_requested(),
            "no request outlives the run"
        );
        self.slot.with_state(|st| {
            let life = st.life.as_ref().unwrap();
            assert!(!life.closure_running, "the deferred attempt ended");
            assert!(!life.timed_out);
            assert!(
                life.on_cancel.is_none(),
                "the callback goes with the attempt"
            );
        });
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

/// A cancel request (a handle's `cancel`) racing the worker and a backend thread that
/// ends the deferred run with `Err` (honouring a request it sees, as `StartedRun::finish`
/// does). Exactly one end; Cancelled only when the request came (before the start: the
/// closure never ran; or while the attempt was out, and seen by the finish); otherwise
/// Error with the backend's message. `on_cancel` is called exactly once when the request
/// reached the running attempt (whether registered before or after it), never otherwise.
#[test]
fn deferred_err_races_cancel() {
    model(|| {
        let t = deferring(End::Finish(Err("stopped")));
        let worker = t.spawn_worker();
        let cancel = t.slot.cancel();
        t.slot.publish(cancel);
        let ran = t.join(worker);
        t.assert_ended_once();
        assert_eq!(
            t.calls(),
            usize::from(cancel == Change::Changed),
            "on_cancel is called once exactly when the request reached the running attempt"
        );
        match t.slot.status() {
            TaskStatus::Cancelled if !ran => assert_eq!(cancel, Change::Terminal),
            TaskStatus::Cancelled => assert_eq!(
                cancel,
                Change::Changed,
                "Cancelled only when the request reached the attempt"
            ),
            TaskStatus::Error => {
                assert!(ran);
                assert_ne!(
                    cancel,
                    Change::Terminal,
                    "a cancel on Running only requests"
                );
                t.slot
                    .with_state(|st| assert_eq!(st.error(), Some("stopped")));
            }
            other => panic!("ended {other}"),
        }
    });
}

/// A cancel request racing a deferred run that ends `Ok`: the normal finish wins (I4),
/// so the run is Done unless the cancel came before it started; `on_cancel` as above.
#[test]
fn deferred_ok_races_cancel() {
    model(|| {
        let t = deferring(End::Finish(Ok(7)));
        let worker = t.spawn_worker();
        let cancel = t.slot.cancel();
        t.slot.publish(cancel);
        let ran = t.join(worker);
        t.assert_ended_once();
        assert_eq!(t.calls(), usize::from(cancel == Change::Changed));
        if ran {
            assert_eq!(t.slot.status(), TaskStatus::Done);
            t.slot.with_state(|st| assert!(st.value().is_some()));
        } else {
            assert_eq!(
                (cancel, t.slot.status()),
                (Change::Terminal, TaskStatus::Cancelled)
            );
        }
    });
}

/// A deferred run dropped unfinished (its backend stopped) racing a cancel request: it
/// ends in Error saying so, never Cancelled once it started (dropping honours nothing).
#[test]
fn deferred_drop_races_cancel() {
    model(|| {
        let t = deferring(End::Drop);
        let worker = t.spawn_worker();
        let cancel = t.slot.cancel();
        t.slot.publish(cancel);
        let ran = t.join(worker);
        t.assert_ended_once();
        assert_eq!(t.calls(), usize::from(cancel == Change::Changed));
        if ran {
            assert_eq!(t.slot.status(), TaskStatus::Error);
            t.slot.with_state(|st| {
                assert!(
                    st.error()
                        .is_some_and(|e| e.contains("dropped before it ended"))
                );
            });
        } else {
            assert_eq!(t.slot.status(), TaskStatus::Cancelled);
        }
    });
}

/// The attempt's timeout (`Slot::time_out`, as its timer calls it) racing the worker and
/// a backend thread that ends the deferred run `Ok`. Exactly one end: Done when the
/// finish came first (or the timeout found the task not yet started), with no callback
/// call; else Error "timed out", the late value discarded, `on_cancel` called once.
#[test]
fn deferred_finish_races_timeout() {
    model(|| {
        let t = deferring(End::Finish(Ok(7)));
        let worker = t.spawn_worker();
        t.slot.time_out(1, Duration::from_millis(1));
        assert!(t.join(worker), "a timeout does not stop a start");
        t.assert_ended_once();
        match t.slot.status() {
            TaskStatus::Done => {
                assert_eq!(t.calls(), 0, "no request reached the attempt");
                t.slot.with_state(|st| assert!(st.value().is_some()));
            }
            TaskStatus::Error => {
                assert_eq!(t.calls(), 1, "the timeout asked the run to stop, once");
                t.slot.with_state(|st| {
                    assert_eq!(st.error(), Some("timed out after 1ms"));
                    assert!(st.value().is_none(), "the late value is discarded");
                });
            }
            other => panic!("ended {other}"),
        }
    });
}

/// A cancel request and the attempt's timeout both racing a deferred run that ends `Err`
/// (honouring a request it sees). Two requesters, one callback: `on_cancel` is called
/// at most once, and exactly once when either request reached the running attempt.
/// Exactly one end: Cancelled when the finish honoured the cancel before the timeout
/// counted the attempt failed, Error "timed out" when the timeout came first, else
/// Error with the backend's message.
#[test]
fn deferred_err_races_cancel_and_timeout() {
    model(|| {
        let t = deferring(End::Finish(Err("stopped")));
        let worker = t.spawn_worker();
        let timer = {
            let slot = t.slot.clone();
            thread::spawn(move || slot.time_out(1, Duration::from_millis(1)))
        };
        let cancel = t.slot.cancel();
        t.slot.publish(cancel);
        let ran = t.join(worker);
        timer.join().unwrap();
        t.assert_ended_once();
        assert!(t.calls() <= 1, "on_cancel is called at most once");
        let error = t.slot.with_state(|st| st.error().map(str::to_owned));
        match (t.slot.status(), error.as_deref()) {
            (TaskStatus::Cancelled, _) if !ran => assert_eq!(cancel, Change::Terminal),
            (TaskStatus::Cancelled, _) => {
                assert_eq!(cancel, Change::Changed, "Cancelled only when requested");
                assert_eq!(t.calls(), 1);
            }
            (TaskStatus::Error, Some("timed out after 1ms")) => {
                assert!(ran);
                assert_eq!(t.calls(), 1, "the timeout or the cancel asked, once");
            }
            (TaskStatus::Error, Some("stopped")) => {
                assert!(ran);
                assert_eq!(t.calls(), usize::from(cancel == Change::Changed));
            }
            other => panic!("ended {other:?}"),
        }
    });
}
