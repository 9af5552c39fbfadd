//! Unit tests of the pool's insides: the lanes' serving order, and a worker thread that
//! cannot start (injected with `Pool::fail_next_spawns`). Cross-session order through the
//! public API is in `tests/pool.rs`.

use std::sync::Arc;
use std::sync::mpsc::{Sender, channel};
use std::time::Duration;

use super::lanes::{Lane, Lanes};
use crate::Session;
use crate::asyncio::{TaskStatus, submit};
use crate::runtime::Runtime;
use crate::runtime::slot::{SetLink, Slot};

const LONG: Duration = Duration::from_secs(20);

fn job(key: &str) -> Arc<Slot> {
    Slot::new::<u8>(key, SetLink::detached(), false)
}

fn pop_keys(lanes: &Lanes, n: usize) -> Vec<String> {
    (0..n)
        .map(|_| lanes.pop().expect("a job is queued").key().to_owned())
        .collect()
}

#[test]
fn lanes_take_turns_and_keep_each_lane_in_order() {
    let lanes = Lanes::new();
    let (a, b, c) = (Lane::new(), Lane::new(), Lane::new());
    for key in ["a0", "a1", "a2"] {
        lanes.push(&a, job(key));
    }
    lanes.push(&b, job("b0"));
    lanes.push(&c, job("c0"));
    lanes.push(&c, job("c1"));
    assert_eq!(pop_keys(&lanes, 3), ["a0", "b0", "c0"]);
    // `b` emptied and left the ring; pushed again, it rejoins at the back.
    lanes.push(&b, job("b1"));
    assert_eq!(pop_keys(&lanes, 4), ["a1", "c1", "b1", "a2"]);
    assert!(lanes.pop().is_none(), "every job was served once");
}

#[test]
fn a_lane_outlives_its_set_while_it_holds_jobs() {
    let lanes = Lanes::new();
    let lane = Lane::new();
    lanes.push(&lane, job("orphan"));
    drop(lane);
    assert_eq!(pop_keys(&lanes, 1), ["orphan"]);
    assert!(lanes.pop().is_none());
}

/// Sends on drop: shows when a task's closure (which captures it) is dropped.
struct DropSignal(Sender<()>);

impl Drop for DropSignal {
    fn drop(&mut self) {
        let _ = self.0.send(());
    }
}

/// Before: the spawn error panicked out of `submit` and the task stayed Pending forever
/// (`wait_idle` timed out). After: with no worker alive, the task ends in Error with the
/// spawn error, its closure dropped unrun, and the pool starts workers again afterwards.
#[test]
fn a_failed_spawn_with_no_live_worker_ends_the_task_in_error() {
    let rt = Runtime::builder().max_workers(2).build();
    let s = Session::builder().runtime(rt.clone()).build();
    rt.inner.pool.fail_next_spawns(1);
    let (dropped_tx, dropped) = channel();
    let signal = DropSignal(dropped_tx);
    let h = s.enter(|| {
        submit("k", move || {
            let _keep = &signal;
            1
        })
    });
    assert!(s.wait_idle(LONG), "the task ends though no worker started");
    assert_eq!(h.status(), TaskStatus::Error);
    let error = h.error().expect("an Error task has a message");
    assert_eq!(
        error,
        "could not start a worker thread: spawn failure injected by a test"
    );
    dropped
        .recv_timeout(LONG)
        .expect("the closure was dropped unrun");
    assert_eq!(
        rt.workers(),
        0,
        "the worker that failed to start is not counted"
    );
    assert_eq!(rt.peak_workers(), 0);
    let again = s.enter(|| submit("again", || 2));
    assert!(s.wait_idle(LONG), "later spawns work again");
    assert_eq!(again.result(), Some(2));
}

/// With a worker alive, a job whose new worker failed to start waits for that worker.
#[test]
fn a_failed_spawn_queues_the_job_to_a_live_worker() {
    let rt = Runtime::builder().max_workers(2).build();
    let s = Session::builder().runtime(rt.clone()).build();
    let (started_tx, started) = channel();
    let (go, go_rx) = channel::<()>();
    s.enter(|| {
        submit("gate", move || {
            started_tx.send(()).expect("the test waits for the start");
            go_rx.recv_timeout(LONG).expect("the test opens the gate");
        })
    });
    started.recv_timeout(LONG).expect("the gate task starts");
    rt.inner.pool.fail_next_spawns(1);
    let h = s.enter(|| submit("queued", || 3));
    assert_eq!(h.status(), TaskStatus::Pending, "queued, not failed");
    assert_eq!(rt.workers(), 1);
    go.send(()).expect("the gate task waits");
    assert!(s.wait_idle(LONG), "the live worker runs the queued job");
    assert_eq!(h.result(), Some(3));
    assert_eq!(rt.peak_workers(), 1, "no second worker ever started");
}
