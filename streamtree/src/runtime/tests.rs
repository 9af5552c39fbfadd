//! Unit tests that need the runtime's insides: slot size, pool accounting, worker
//! retirement and shutdown, driven through `TaskSet` (nothing above the runtime).
//! Behaviour through the public API is in `tests/runtime.rs`.

use std::sync::mpsc::channel;
use std::time::Duration;

use super::slot::{SetLink, Slot};
use super::*;
use super::{life, timer};

const LONG: Duration = Duration::from_secs(20);

/// A task set on `rt`, as a session holds one (these tests stay below the session layer).
fn set_on(rt: &Runtime) -> Arc<TaskSet> {
    TaskSet::new(rt.clone())
}

/// Submits `f` under `key` to `set`.
fn submit<T: Send + 'static>(
    set: &Arc<TaskSet>,
    key: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> TaskHandle<T> {
    set.submit(key, move |_: &Slot| Ok(f()))
}

/// Ends a set as its session's last drop does.
fn close(set: Arc<TaskSet>) {
    set.close();
    drop(set);
}

#[test]
fn a_finished_slot_is_small() {
    // The slot without its key's heap text and without the boxed result; its closure's
    // captures are inline up to a bound, boxed beyond it.
    let size = super::MAX_SLOT_BYTES;
    println!("largest slot = {size} bytes");
    assert!(size <= 256, "a task slot takes {size} bytes");
    let small = [7usize; 4];
    let inline = Slot::with_fn("k", SetLink::detached(), move |_: &Slot| Ok(small[0]));
    assert_eq!(std::mem::size_of_val(&*inline), size);
    let big = [7u8; 4096];
    let boxed = Slot::with_fn("k", SetLink::detached(), move |_: &Slot| Ok(big[0]));
    assert!(
        std::mem::size_of_val(&*boxed) < size,
        "large captures are boxed"
    );
    assert!(std::mem::size_of_val(&*Slot::new::<u8>("k", SetLink::detached(), false)) < size);
}

#[test]
fn idle_workers_retire_after_keep_alive() {
    let rt = Runtime::builder()
        .max_workers(3)
        .keep_alive(Duration::from_millis(20))
        .build();
    let s = set_on(&rt);
    for i in 0..10 {
        submit(&s, &format!("t{i}"), || ());
    }
    assert!(s.wait_idle(LONG));
    assert!(rt.inner.pool.wait_exited(LONG), "idle workers exit");
    assert_eq!(rt.workers(), 0);
    // And start again on demand.
    let h = submit(&s, "again", || 1);
    assert!(s.wait_idle(LONG));
    assert_eq!(h.result(), Some(1));
}

#[test]
fn dropping_the_runtime_joins_its_workers() {
    let rt = Runtime::builder().max_workers(2).build();
    let pool = rt.inner.pool.clone();
    let s = set_on(&rt);
    submit(&s, "a", || ());
    submit(&s, "b", || ());
    assert!(s.wait_idle(LONG));
    assert!(pool.workers() > 0);
    // A worker may still hold the set (and through it the runtime) just after the tasks
    // ended; the set's subscription disconnects once the set, its runtime clone first (the
    // first field), is dropped. Then this thread's drop is the runtime's last.
    let sub = s.subscribe();
    close(s);
    let deadline = std::time::Instant::now() + LONG;
    while sub.wait_timeout(deadline.saturating_duration_since(std::time::Instant::now())) {}
    assert!(
        sub.receiver().is_empty() && std::time::Instant::now() < deadline,
        "the set was not freed within {LONG:?}"
    );
    drop(rt);
    assert_eq!(
        pool.workers(),
        0,
        "the last Runtime drop waited for its workers"
    );
}

#[test]
fn last_runtime_dropped_on_its_own_worker_does_not_deadlock() {
    let rt = Runtime::builder().max_workers(1).build();
    let pool = rt.inner.pool.clone();
    let s = set_on(&rt);
    drop(rt);
    let (started_tx, started) = channel();
    let (go, go_rx) = channel::<()>();
    submit(&s, "k", move || {
        started_tx.send(()).unwrap();
        go_rx.recv_timeout(LONG).expect("the test lets the task go");
    });
    started.recv_timeout(LONG).expect("the task starts");
    // The worker now holds the last reference to the set, hence to the runtime.
    close(s);
    go.send(()).unwrap();
    assert!(
        pool.wait_exited(LONG),
        "the worker exits once the queue is closed"
    );
}

#[test]
fn tasks_over_the_bound_wait_in_fifo_order() {
    let s = set_on(&Runtime::builder().max_workers(1).build());
    let (started_tx, started) = channel();
    let (go, go_rx) = channel::<()>();
    let (order_tx, order) = channel();
    submit(&s, "block", move || {
        started_tx.send(()).unwrap();
        go_rx.recv_timeout(LONG).expect("the test lets the task go");
    });
    started.recv_timeout(LONG).expect("the task starts");
    for i in 0..20 {
        let order_tx = order_tx.clone();
        submit(&s, &format!("q{i}"), move || order_tx.send(i).unwrap());
    }
    go.send(()).unwrap();
    assert!(s.wait_idle(LONG));
    let got: Vec<i32> = order.try_iter().collect();
    assert_eq!(got, (0..20).collect::<Vec<_>>());
}

#[test]
fn parallel_tasks_get_their_own_workers_up_to_the_bound() {
    // Four tasks that only finish together: they must run at once on four workers.
    let s = set_on(&Runtime::builder().max_workers(4).build());
    let barrier = Arc::new(std::sync::Barrier::new(4));
    for i in 0..4 {
        let b = barrier.clone();
        submit(&s, &format!("t{i}"), move || {
            b.wait();
        });
    }
    assert!(s.wait_idle(LONG));
}

#[test]
fn type_names_lose_their_module_paths() {
    use super::slot::short_type_name;
    assert_eq!(short_type_name("u8"), "u8");
    assert_eq!(short_type_name("alloc::string::String"), "String");
    assert_eq!(
        short_type_name("core::option::Option<alloc::vec::Vec<(u8, alloc::string::String)>>"),
        "Option<Vec<(u8, String)>>"
    );
    assert_eq!(short_type_name("&[my_app::Row; 3]"), "&[Row; 3]");
}

#[test]
fn notify_at_wakes_subscribers_at_the_deadline_and_holds_the_set_weakly() {
    let rt = Runtime::builder().build();
    let set = set_on(&rt);
    let sub = set.subscribe();
    set.notify_at(std::time::Instant::now());
    assert!(
        sub.wait_timeout(LONG),
        "the deadline notifies the subscriber"
    );
    // A set dropped before its deadline: nothing keeps it alive, nothing is notified.
    let set2 = set_on(&rt);
    let sub2 = set2.subscribe();
    set2.notify_at(std::time::Instant::now() + Duration::from_secs(3600));
    let weak = Arc::downgrade(&set2);
    close(set2);
    assert!(weak.upgrade().is_none(), "notify_at holds the set weakly");
    drop(sub2);
}

/// Runs `key`/`input` with `gc_after(idle)` in `set` (as `task(key).input(..)` does).
fn run_gc(set: &Arc<TaskSet>, key: &str, input: u64, idle: Duration) -> TaskHandle<u64> {
    let opts = life::Options {
        gc_after: Some(idle),
        ..life::Options::default()
    };
    set.run(key, Some(input), opts, move |_: &Slot| Ok(input))
}

/// Waits until every timer callback due now has run (the timer runs them in deadline
/// order, so a marker due now runs after them).
fn timer_caught_up() {
    let (tx, rx) = channel();
    let _ = timer::after(std::time::Instant::now(), move || tx.send(()).unwrap());
    rx.recv_timeout(LONG).expect("the timer runs the marker");
}

#[test]
fn finished_tasks_unread_for_gc_after_are_collected_by_the_timer() {
    let rt = Runtime::builder().build();
    let set = set_on(&rt);
    let handles: Vec<_> = (0..1000)
        .map(|i| run_gc(&set, "k", i, Duration::ZERO))
        .collect();
    assert!(set.wait_idle(LONG));
    timer_caught_up();
    assert_eq!(set.lock_tasks().slots().count(), 0, "all collected");
    assert!(
        set.lock_tasks().latest.is_empty(),
        "and forgotten as latest"
    );
    assert!(handles.iter().all(|h| h.status() == TaskStatus::Missing));
    // Tasks read within their gc_after stay.
    let kept = run_gc(&set, "kept", 1, Duration::from_secs(3600));
    assert!(set.wait_idle(LONG));
    set.sweep();
    assert_eq!(kept.result(), Some(1));
    // Plain submits are never collected.
    let plain = submit(&set, "plain", || 2);
    assert!(set.wait_idle(LONG));
    set.sweep();
    assert_eq!(plain.result(), Some(2));
    close(set);
}

#[test]
fn shared_tasks_are_collected_too() {
    let rt = Runtime::builder().build();
    let set = set_on(&rt);
    let opts = life::Options {
        gc_after: Some(Duration::ZERO),
        shared: true,
        ..life::Options::default()
    };
    let h = set.run("s", Some(1), opts, |_: &Slot| Ok(1u8));
    assert!(set.wait_idle(LONG));
    timer_caught_up();
    assert_eq!(h.status(), TaskStatus::Missing);
    assert_eq!(rt.shared_set().lock_tasks().slots().count(), 0);
    close(set);
}

#[test]
fn notify_at_wakes_subscribers_once_per_deadline() {
    let rt = Runtime::builder().max_workers(1).build();
    let set = set_on(&rt);
    let changes = set.subscribe();
    let start = std::time::Instant::now();
    // Far enough apart that no stall of this test makes either overdue before it waits.
    let later = start + Duration::from_secs(60);
    let soon = start + Duration::from_millis(500);
    // A rerun per frame asks again and again: one wake-up stays pending.
    for _ in 0..100 {
        set.notify_at(later);
    }
    assert_eq!(set.pending_wake(), Some(later));
    // An earlier deadline replaces it; a later one does not.
    set.notify_at(soon);
    set.notify_at(later);
    assert_eq!(set.pending_wake(), Some(soon));
    assert!(changes.wait_timeout(LONG), "no wake-up within {LONG:?}");
    assert!(
        std::time::Instant::now() >= soon,
        "woken before the deadline"
    );
    assert_eq!(set.pending_wake(), None, "the fired wake-up is forgotten");
    // Asked again after it fired: a new wake-up.
    set.notify_at(std::time::Instant::now());
    assert!(changes.wait_timeout(LONG), "no wake-up within {LONG:?}");
}

#[test]
fn on_cancel_is_called_once_by_the_cancel_of_the_running_attempt_and_at_once_after_it() {
    let rt = Runtime::builder().max_workers(2).build();
    let set = set_on(&rt);
    let (registered_tx, registered) = channel();
    let (called_tx, called) = channel::<&'static str>();
    let called_tx = std::sync::Mutex::new(called_tx);
    let h = set.run(
        "c",
        Some(1),
        life::Options::default(),
        move |slot: &Slot| {
            let ctx = TaskContext::new(slot);
            let tx = called_tx.lock().unwrap().clone();
            ctx.on_cancel(move || tx.send("first").unwrap());
            registered_tx.send(()).unwrap();
            assert!(ctx.wait_cancelled(LONG), "the test cancels within {LONG:?}");
            // Registered after the request: called at once, on this thread.
            let tx = called_tx.lock().unwrap().clone();
            ctx.on_cancel(move || tx.send("late").unwrap());
            Ok(1u8)
        },
    );
    registered
        .recv_timeout(LONG)
        .expect("the task registers its callback");
    h.cancel();
    // The two run on two threads (the canceller's, the task's), in either order.
    let mut seen = [(); 2].map(|()| {
        called
            .recv_timeout(LONG)
            .expect("both callbacks are called within LONG")
    });
    seen.sort_unstable();
    assert_eq!(seen, ["first", "late"]);
    assert!(set.wait_idle(LONG), "the task ends within {LONG:?}");
    assert!(called.try_recv().is_err(), "each callback is called once");
}

#[test]
fn a_backend_attempt_shows_on_the_handle() {
    let rt = Runtime::builder().max_workers(2).build();
    let set = set_on(&rt);
    let h = set.run("a", Some(1), life::Options::default(), |slot: &Slot| {
        TaskContext::new(slot).set_attempt(3);
        Ok(1u8)
    });
    assert!(set.wait_idle(LONG), "the task ends within {LONG:?}");
    assert_eq!(h.attempt(), 3);
}

/// Only the closure running an attempt may defer it: `Deferred::of_current` is `None`
/// for any other slot and off the worker; the closure may end the attempt itself before
/// it returns `Ran::Deferred`. (Checked: with `current::own_slot` matching any slot,
/// this fails.)
#[test]
fn only_the_running_closure_defers_its_attempt() {
    let rt = Runtime::builder().max_workers(2).build();
    let set = set_on(&rt);
    let other = detached_running();
    assert!(Deferred::of_current(&other).is_none(), "not on a worker");
    let work = life::Work::deferring({
        let other = other.clone();
        move |slot: &Slot| {
            assert!(
                Deferred::of_current(&other).is_none(),
                "another task's slot"
            );
            let deferred = Deferred::of_current(slot).expect("its own slot, on its worker");
            deferred.finish(Ok(value_of(7u8)));
            Ran::Deferred
        }
    });
    let h = set.run_work::<u8>("a", Some(1), life::Options::default(), work);
    assert!(set.wait_idle(LONG), "the task ends within {LONG:?}");
    assert_eq!((h.status(), h.result()), (TaskStatus::Done, Some(7)));
}

/// A deferred attempt ended after its session's set and runtime are gone: the slot ends
/// as usual (its handles see it), with nobody left to notify. The close asked it to
/// stop; an `Ok` end still wins (I4).
#[test]
fn a_deferred_attempt_ends_after_its_set_is_gone() {
    let rt = Runtime::builder().max_workers(1).build();
    let set = set_on(&rt);
    let (tx, rx) = channel();
    let tx = std::sync::Mutex::new(tx);
    let work = life::Work::deferring(move |slot: &Slot| {
        let deferred = Deferred::of_current(slot).expect("on its worker");
        tx.lock().unwrap().send(deferred).expect("the test listens");
        Ran::Deferred
    });
    let h = set.run_work::<u8>("a", Some(1), life::Options::default(), work);
    let deferred = rx.recv_timeout(LONG).expect("the attempt is deferred");
    close(set);
    drop(rt);
    assert!(
        h.is_cancel_requested(),
        "the close asked the attempt to stop"
    );
    assert_eq!(h.status(), TaskStatus::Running);
    deferred.finish(Ok(value_of(3u8)));
    assert_eq!((h.status(), h.result()), (TaskStatus::Done, Some(3)));
}

/// A running slot outside any set.
fn detached_running() -> Arc<Slot> {
    let slot = Slot::new::<u8>("other", SetLink::detached(), false);
    assert!(slot.start());
    slot
}
