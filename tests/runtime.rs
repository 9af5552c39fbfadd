//! The task runtime through its public API (`streamtree::asyncio`): keyed dedupe, the
//! state machine, worker-side resolution, panics, dismissal, summaries, notifications and
//! the pool bound (cancelling is in `runtime_cancel.rs`). Workers are gated with
//! channels; nothing sleeps to order events.

use std::collections::HashSet;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use streamtree::asyncio::TaskSummary;
use streamtree::prelude::*;
use streamtree::{Runtime, Subscription};

use streamtree_tests::{LONG, wait_until};

fn panic_text(f: impl FnOnce()) -> String {
    let err = catch_unwind(AssertUnwindSafe(f)).expect_err("should panic");
    if let Some(s) = err.downcast_ref::<String>() {
        s.clone()
    } else {
        (*err.downcast_ref::<&str>().unwrap()).to_owned()
    }
}

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
fn submit_is_idempotent_per_key() {
    let s = Session::new();
    let runs = Arc::new(AtomicUsize::new(0));
    let submit_counting = |runs: Arc<AtomicUsize>| {
        s.enter(|| {
            submit("load", move || {
                runs.fetch_add(1, Ordering::SeqCst);
                5
            })
        })
    };
    let a = submit_counting(runs.clone());
    assert!(s.wait_idle(LONG));
    let b = submit_counting(runs.clone());
    assert_eq!(
        runs.load(Ordering::SeqCst),
        1,
        "the second closure never runs"
    );
    assert_eq!((a.result(), b.result()), (Some(5), Some(5)));
    // Keys are exact strings.
    let c = s.enter(|| submit("load ", || 6));
    assert!(s.wait_idle(LONG));
    assert_eq!(c.result(), Some(6));
}

#[test]
fn blank_keys_panic() {
    let s = Session::new();
    for key in ["", "  ", "\t\n"] {
        let msg = panic_text(|| {
            s.enter(|| submit(key, || ()));
        });
        assert!(msg.contains("blank"), "{msg}");
    }
}

#[test]
fn reusing_a_key_with_another_type_panics_naming_both() {
    let s = Session::new();
    s.enter(|| submit("k", || 1u32));
    let msg = panic_text(|| {
        s.enter(|| submit("k", String::new));
    });
    assert!(msg.contains("`k`"), "{msg}");
    assert!(msg.contains("`u32`") && msg.contains("`String`"), "{msg}");
    assert!(!msg.contains("alloc::"), "type names are short: {msg}");
    // The session still works afterwards.
    assert!(s.wait_idle(LONG));
}

#[test]
fn submit_many_returns_handles_in_order_and_rejects_bad_keys_first() {
    let s = Session::new();
    let hs = s.enter(|| submit_many(["c", "a", "b"].map(|k| (k, move || k.to_owned()))));
    assert!(s.wait_idle(LONG));
    let keys: Vec<_> = hs.iter().map(|h| h.result().unwrap()).collect();
    assert_eq!(keys, ["c", "a", "b"]);

    let runs = Arc::new(AtomicUsize::new(0));
    let job = |runs: &Arc<AtomicUsize>| {
        let runs = runs.clone();
        move || {
            runs.fetch_add(1, Ordering::SeqCst);
        }
    };
    let msg = panic_text(|| {
        s.enter(|| submit_many([("x", job(&runs)), ("y", job(&runs)), ("x", job(&runs))]));
    });
    assert!(msg.contains("duplicate") && msg.contains("`x`"), "{msg}");
    let msg = panic_text(|| {
        s.enter(|| submit_many([("x", job(&runs)), (" ", job(&runs))]));
    });
    assert!(msg.contains("blank"), "{msg}");
    assert!(s.wait_idle(LONG));
    assert_eq!(runs.load(Ordering::SeqCst), 0, "nothing started");
    assert_eq!(s.enter(summarize_async_tasks).len(), 3);
}

#[test]
fn an_on_change_hook_may_enter_another_session() {
    // Before the fix, `submit` held the current-session borrow while it notified, so a hook
    // entering a session panicked with "already borrowed".
    let s = Session::new();
    let other = Session::new();
    other.enter(|| submit("other's", || ()));
    let o = other.clone();
    let (seen_tx, seen) = channel();
    let seen_tx = Mutex::new(seen_tx);
    let _guard = s.on_change(move || {
        let keys: Vec<String> = o
            .enter(summarize_async_tasks)
            .into_iter()
            .map(|r| r.key)
            .collect();
        let _ = seen_tx.lock().unwrap().send(keys);
    });
    let h = s.enter(|| submit("mine", || 1));
    let keys = seen
        .recv_timeout(LONG)
        .expect("the hook ran within the timeout");
    assert_eq!(
        keys,
        ["other's"],
        "inside the hook, the entered session is current"
    );
    assert!(s.wait_idle(LONG));
    assert_eq!(h.result(), Some(1));
}

/// A value whose `Drop` re-enters the runtime: it reads its own session's tasks (which
/// takes the session's table lock) and enters another session. Dropped under any runtime
/// lock or borrow, it would deadlock or panic.
struct Reenters {
    own: Session,
    other: Session,
    dropped: Sender<&'static str>,
    what: &'static str,
}

impl Drop for Reenters {
    fn drop(&mut self) {
        let rows = self.own.enter(summarize_async_tasks).len();
        self.other.enter(|| submit(self.what, || ()));
        let _ = self.dropped.send(self.what);
        assert!(rows < 100);
    }
}

#[test]
fn user_values_are_dropped_outside_every_runtime_lock() {
    let s = Session::builder().max_workers(1).build();
    let other = Session::new();
    let (dropped_tx, dropped) = channel();
    let value = |what| Reenters {
        own: s.clone(),
        other: other.clone(),
        dropped: dropped_tx.clone(),
        what,
    };
    let expect = |what: &str| {
        let got = dropped.recv_timeout(LONG).expect("the value is dropped");
        assert_eq!(got, what);
    };
    // A result, dropped when its task is dismissed.
    let result = value("result");
    s.enter(|| submit("result", move || result));
    assert!(s.wait_idle(LONG));
    assert!(s.enter(|| dismiss_task("result")));
    expect("result");
    // A closure's capture, dropped unrun on the every-rerun path (the key is taken).
    let unused = value("unused");
    s.enter(|| submit("taken", || ()));
    s.enter(|| submit("taken", move || drop(unused)));
    expect("unused");
    // A capture dropped unrun because its task was cancelled in the queue.
    let (started_tx, started) = channel();
    let (go, go_rx) = channel::<()>();
    s.enter(|| submit("block", gated(started_tx, go_rx)));
    started.recv_timeout(LONG).expect("the task starts");
    let queued = value("queued");
    let h = s.enter(|| submit("queued", move || drop(queued)));
    h.cancel();
    go.send(()).unwrap();
    expect("queued");
    // A value discarded because its task honoured a cancel.
    let (started_tx, started) = channel();
    let (go, go_rx) = channel::<()>();
    let discarded = value("discarded");
    let h = s.enter(|| {
        submit("discarded", move || {
            started_tx.send(()).unwrap();
            go_rx.recv_timeout(LONG).expect("the test lets the task go");
            complete_cancelled("discarded");
            discarded
        })
    });
    started.recv_timeout(LONG).expect("the task starts");
    h.cancel();
    go.send(()).unwrap();
    expect("discarded");
    assert!(s.wait_idle(LONG));
    assert_eq!(h.status(), TaskStatus::Cancelled);
}

#[test]
fn pending_running_done_with_a_bounded_pool() {
    let s = Session::builder().max_workers(1).build();
    let sub = s.subscribe();
    let (started_tx, started) = channel();
    let (go, go_rx) = channel();
    let first = s.enter(|| submit("first", gated(started_tx, go_rx)));
    let second = s.enter(|| submit("second", || 2));
    started.recv_timeout(LONG).expect("the task starts");
    assert_eq!(first.status(), TaskStatus::Running);
    assert_eq!(second.status(), TaskStatus::Pending);
    assert!(!s.wait_idle(Duration::ZERO));
    go.send(()).unwrap();
    wait_until(&sub, || second.status() == TaskStatus::Done);
    assert_eq!(first.status(), TaskStatus::Done);
    assert_eq!((first.result(), second.result()), (Some(1), Some(2)));
    assert!(s.wait_idle(LONG));
}

#[test]
fn handles_of_non_clone_results_work_without_clone() {
    // Only `result()` needs `Clone`.
    struct Report {
        _lines: Vec<String>,
    }
    let s = Session::new();
    let h: TaskHandle<Report> = s.enter(|| {
        submit("report", || Report {
            _lines: vec!["a".to_owned()],
        })
    });
    assert_eq!(h.key(), "report");
    assert!(s.wait_idle(LONG));
    assert_eq!(h.status(), TaskStatus::Done);
    assert_eq!(h.error(), None);
    assert_eq!(h.progress(), None);
    assert!(!h.is_cancel_requested());
    h.cancel();
    assert_eq!(h.status(), TaskStatus::Done);
}

#[test]
fn worker_side_functions_resolve_to_the_tasks_own_session() {
    let s = Session::new();
    let other = Session::new();
    let sub = s.subscribe();
    let (go, go_rx) = channel::<()>();
    let h = s.enter(|| {
        submit("parent", move || {
            assert!(
                Session::try_current().is_none(),
                "no session is entered on a worker"
            );
            set_task_progress("parent", (0.5, "half"));
            go_rx.recv_timeout(LONG).expect("the test lets the task go");
            // Follow-up work lands in the same session.
            submit("child", || "from the worker").key().to_owned()
        })
    });
    wait_until(&sub, || h.progress().is_some());
    assert_eq!(h.progress().unwrap().to_string(), "50% half");
    go.send(()).unwrap();
    assert!(s.wait_idle(LONG));
    assert_eq!(h.result().as_deref(), Some("child"));
    let rows = s.enter(summarize_async_tasks);
    let keys: Vec<_> = rows.iter().map(|r| r.key.as_str()).collect();
    assert_eq!(keys, ["child", "parent"]);
    assert!(other.enter(summarize_async_tasks).is_empty());
}

#[test]
fn session_thread_functions_work_and_missing_keys_are_noops() {
    let s = Session::builder().max_workers(1).build();
    let (started_tx, started) = channel();
    let (go, go_rx) = channel();
    s.enter(|| submit("block", gated(started_tx, go_rx)));
    let queued = s.enter(|| submit("queued", || ()));
    started.recv_timeout(LONG).expect("the task starts");
    s.enter(|| set_task_progress("queued", "waiting for a worker"));
    assert_eq!(
        queued.progress().unwrap().message(),
        Some("waiting for a worker")
    );
    s.enter(|| {
        set_task_progress("nope", 0.5);
        complete_cancelled("nope");
        assert!(!is_task_cancel_requested("nope"));
        assert!(!dismiss_task("nope"));
    });
    go.send(()).unwrap();
    assert!(s.wait_idle(LONG));
    // Without any session: no-ops, and submit explains.
    set_task_progress("queued", 1.0);
    assert!(!is_task_cancel_requested("queued"));
    assert!(!dismiss_task("queued"));
    assert_eq!(dismiss_tasks(["queued"]), 0);
    assert!(summarize_async_tasks().is_empty());
    let msg = panic_text(|| {
        submit("x", || ());
    });
    assert!(msg.contains("no streamtree Session"), "{msg}");
}

#[test]
fn progress_after_the_end_is_ignored_and_the_last_survives() {
    let s = Session::new();
    let done = s.enter(|| {
        submit("done", || {
            set_task_progress("done", 0.25);
            set_task_progress("done", (0.9, "almost"));
        })
    });
    let failed = s.enter(|| {
        submit_fallible("failed", || {
            set_task_progress("failed", "step 1");
            Err::<(), _>("broken")
        })
    });
    assert!(s.wait_idle(LONG));
    assert_eq!(done.progress().unwrap().to_string(), "90% almost");
    assert_eq!(failed.progress().unwrap().to_string(), "step 1");
    s.enter(|| set_task_progress("done", 1.0));
    assert_eq!(done.progress().unwrap().fraction(), Some(0.9));
}

#[test]
fn errors_and_panics_become_error_and_the_worker_survives() {
    let s = Session::builder().max_workers(1).build();
    let err = s.enter(|| submit_fallible("err", || Err::<u8, _>(format!("code {}", 42))));
    let ok = s.enter(|| submit_fallible("ok", || Ok::<u8, String>(1)));
    let boom = s.enter(|| submit("boom", || -> u8 { panic!("worker exploded") }));
    let after = s.enter(|| submit("after", || std::thread::current().name().map(str::to_owned)));
    assert!(s.wait_idle(LONG));
    assert_eq!(err.status(), TaskStatus::Error);
    assert_eq!(err.error().as_deref(), Some("code 42"));
    assert_eq!(err.result(), None);
    assert_eq!(ok.result(), Some(1));
    assert_eq!(ok.error(), None);
    assert_eq!(boom.status(), TaskStatus::Error);
    assert_eq!(boom.error().as_deref(), Some("worker exploded"));
    let name = after.result().flatten().unwrap();
    assert!(
        name.starts_with("streamtree-rt") && name.ends_with("-w1"),
        "{name}"
    );
}

#[test]
fn dismiss_frees_finished_keys_only() {
    let s = Session::builder().max_workers(1).build();
    let (started_tx, started) = channel();
    let (go, go_rx) = channel();
    let running = s.enter(|| submit("running", gated(started_tx, go_rx)));
    let pending = s.enter(|| submit("pending", || 0u32));
    started.recv_timeout(LONG).expect("the task starts");
    s.enter(|| {
        assert!(!dismiss_task("running"));
        assert!(!dismiss_task("pending"));
        assert!(!dismiss_task("absent"));
    });
    go.send(()).unwrap();
    assert!(s.wait_idle(LONG));
    assert_eq!(
        s.enter(|| dismiss_tasks(["running", "pending", "absent"])),
        2
    );
    assert_eq!(running.status(), TaskStatus::Missing);
    assert_eq!(pending.status(), TaskStatus::Missing);
    assert_eq!(running.result(), None);
    // The key is free for new work, even of another type.
    let again = s.enter(|| submit("running", || "new"));
    assert!(s.wait_idle(LONG));
    assert_eq!(again.result(), Some("new"));
    assert_eq!(
        running.status(),
        TaskStatus::Missing,
        "old handles stay Missing"
    );
}

#[test]
fn summaries_are_sorted_previewed_and_serialisable() {
    let s = Session::new();
    let long = "x".repeat(300);
    let l = long.clone();
    let (reported_tx, reported) = channel();
    let (go, go_rx) = channel::<()>();
    s.enter(|| {
        submit("b", move || {
            set_task_progress("b", (0.5, l));
            reported_tx.send(()).unwrap();
            go_rx.recv_timeout(LONG).expect("the test lets the task go");
        });
        submit_fallible("a", || Err::<(), _>("y".repeat(500)));
        submit("c", || 1u8);
        submit("d", || vec![String::new()]);
    });
    reported.recv_timeout(LONG).expect("b reports progress");
    let running = s.enter(summarize_async_tasks);
    let b = &running[1];
    assert_eq!(b.status, TaskStatus::Running);
    assert_eq!(b.progress.chars().count(), 120);
    assert!(b.progress.starts_with("50% xxx") && b.progress.ends_with("..."));
    assert_eq!(b.progress_fraction, Some(0.5));
    go.send(()).unwrap();
    assert!(s.wait_idle(LONG));
    let rows: Vec<TaskSummary> = s.enter(summarize_async_tasks);
    let keys: Vec<_> = rows.iter().map(|r| r.key.as_str()).collect();
    assert_eq!(keys, ["a", "b", "c", "d"]);
    let (a, b, c, d) = (&rows[0], &rows[1], &rows[2], &rows[3]);
    assert!(a.has_error && !a.has_result && a.status == TaskStatus::Error);
    let preview = a.error_preview.as_deref().unwrap();
    assert_eq!(preview.chars().count(), 120);
    assert!(preview.ends_with("..."));
    assert_eq!(b.status, TaskStatus::Done);
    assert_eq!(
        (b.progress.as_str(), b.progress_fraction),
        ("", None),
        "a finished task shows no progress"
    );
    assert!(c.has_result && c.progress.is_empty() && c.result_type == "u8");
    assert!(c.running_ms.is_some() && c.queued_ms >= 0.0);
    assert_eq!(
        d.result_type, "Vec<String>",
        "type names without module paths"
    );
    let json = serde_json::to_value(&rows).unwrap();
    assert_eq!(json[2]["status"], "done");
    assert_eq!(json[0]["has_error"], true);
    assert_eq!(json[1]["cancel_requested"], false);
}

#[test]
fn subscribers_hear_every_status_and_progress_change() {
    let s = Session::new();
    let sub = s.subscribe();
    let (started_tx, started) = channel();
    let (step, step_rx) = channel::<()>();
    let (stepped_tx, stepped) = channel();
    let h = s.enter(|| {
        submit("k", move || {
            started_tx.send(()).unwrap();
            step_rx
                .recv_timeout(LONG)
                .expect("the test lets the task go");
            set_task_progress("k", 0.5);
            stepped_tx.send(()).unwrap();
            step_rx
                .recv_timeout(LONG)
                .expect("the test lets the task go");
        })
    });
    started.recv_timeout(LONG).expect("the task starts");
    // Drain what submission and start produced (both notified before the task started).
    while sub.try_recv() {}
    assert!(!s.wait_idle(Duration::ZERO));
    step.send(()).unwrap();
    stepped
        .recv_timeout(LONG)
        .expect("the task reports progress");
    // The progress change notified before the task reported it, so it is waiting now.
    assert!(sub.try_recv(), "a progress change notifies");
    assert_eq!(h.progress().and_then(|p| p.fraction()), Some(0.5));
    step.send(()).unwrap();
    assert!(sub.wait_timeout(LONG), "the end notifies");
    assert_eq!(h.status(), TaskStatus::Done, "notified only after the end");
    assert!(s.wait_idle(Duration::ZERO));
    // Dismissal is a change too.
    while sub.try_recv() {}
    assert!(s.enter(|| dismiss_task("k")));
    assert!(sub.try_recv(), "a dismissal notifies");
    assert_eq!(
        h.status(),
        TaskStatus::Missing,
        "the old handle reports Missing"
    );
    assert_eq!((h.result(), h.error()), (None, None));
    // A subscription ends with its session.
    let sub2 = s.subscribe();
    drop(s);
    wait_disconnected(&sub2);
}

#[test]
fn one_runtime_serves_many_sessions_with_separate_keys() {
    let rt = Runtime::builder().max_workers(2).build();
    let sessions: Vec<Session> = (0..50)
        .map(|_| Session::builder().runtime(rt.clone()).build())
        .collect();
    let handles: Vec<_> = sessions
        .iter()
        .enumerate()
        .map(|(i, s)| s.enter(|| submit("same-key", move || i)))
        .collect();
    for s in &sessions {
        assert!(s.wait_idle(LONG));
    }
    for (i, h) in handles.iter().enumerate() {
        assert_eq!(h.result(), Some(i));
    }
    assert!(rt.peak_workers() <= 2);
}

#[test]
fn handles_work_from_other_threads() {
    let s = Session::new();
    let h = s.enter(|| submit("k", || vec![1, 2, 3]));
    let h2 = h.clone();
    let sub = s.subscribe();
    let got = std::thread::spawn(move || {
        wait_until(&sub, || h2.status().is_terminal());
        h2.result()
    })
    .join()
    .unwrap();
    assert_eq!(got, Some(vec![1, 2, 3]));
    assert_eq!(format!("{:?}", h.status()), "Done");
}

#[test]
fn two_thousand_tasks_on_four_workers_use_four_threads_at_most() {
    let rt = Runtime::builder()
        .max_workers(4)
        .keep_alive(Duration::from_secs(60))
        .build();
    let s = Session::builder().runtime(rt.clone()).build();
    let threads = Arc::new(Mutex::new(HashSet::new()));
    let keys: Vec<String> = (0..2000).map(|i| format!("t{i}")).collect();
    let hs = s.enter(|| {
        submit_many(keys.iter().map(|k| {
            let threads = threads.clone();
            (k, move || {
                let t = std::thread::current();
                threads.lock().unwrap().insert(t.name().unwrap().to_owned());
            })
        }))
    });
    assert!(s.wait_idle(LONG));
    assert!(hs.iter().all(|h| h.status() == TaskStatus::Done));
    let threads = threads.lock().unwrap();
    assert!(threads.len() <= 4, "{threads:?}");
    let prefix = format!("streamtree-rt{}-w", rt.id());
    assert!(
        threads.iter().all(|t| t.starts_with(&prefix)),
        "{threads:?}"
    );
    assert!(rt.peak_workers() <= 4 && rt.workers() <= 4);
}

#[test]
fn status_and_progress_formats() {
    let all = [
        TaskStatus::Pending,
        TaskStatus::Running,
        TaskStatus::Done,
        TaskStatus::Error,
        TaskStatus::Cancelled,
        TaskStatus::Missing,
    ];
    let names: Vec<String> = all.iter().map(ToString::to_string).collect();
    assert_eq!(
        names,
        [
            "pending",
            "running",
            "done",
            "error",
            "cancelled",
            "missing"
        ]
    );
    for s in all {
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(json, format!("\"{s}\""));
        assert_eq!(serde_json::from_str::<TaskStatus>(&json).unwrap(), s);
    }
    assert_eq!(Progress::from(0.5f32).to_string(), "50%");
    assert_eq!(Progress::from(f64::NAN).fraction(), None);
    assert_eq!(Progress::from(String::from("m")).to_string(), "m");
    assert_eq!(
        Progress::from((0.1, String::from("a"))).to_string(),
        "10% a"
    );
    assert_eq!(Progress::default().to_string(), "");
}
