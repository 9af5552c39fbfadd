//! Task life cycle (issue 9) through the public API: identity by (key, input), supersede,
//! keep_previous, refresh, staleness, timing data and summaries. Workers are gated with
//! channels; nothing sleeps to order events, and every wait has a timeout.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use streamtree::prelude::*;

use streamtree_tests::{LONG, idle, wait_until};

/// A gate a task waits on: `open` lets one waiter through.
#[derive(Clone)]
struct Gate {
    tx: Sender<()>,
    rx: Arc<Mutex<Receiver<()>>>,
}

impl Gate {
    fn new() -> Gate {
        let (tx, rx) = channel();
        Gate {
            tx,
            rx: Arc::new(Mutex::new(rx)),
        }
    }
    fn wait(&self) {
        self.rx
            .lock()
            .unwrap()
            .recv_timeout(LONG)
            .expect("the test opens the gate");
    }
    fn open(&self) {
        self.tx.send(()).unwrap();
    }
}

#[test]
fn each_input_is_its_own_task_and_switching_back_shows_the_cached_result() {
    let runs = Arc::new(AtomicUsize::new(0));
    let s = Session::new();
    let run = |region: &'static str| {
        let runs = runs.clone();
        s.enter(|| {
            task("sales").input(region).run(move |_| {
                runs.fetch_add(1, Ordering::SeqCst);
                Ok::<_, String>(format!("sales of {region}"))
            })
        })
    };
    let north = run("north");
    idle(&s);
    let west = run("west");
    idle(&s);
    assert_eq!(north.result().as_deref(), Some("sales of north"));
    assert_eq!(west.result().as_deref(), Some("sales of west"));
    let back = run("north");
    assert_eq!(back.status(), TaskStatus::Done, "cached: done at once");
    assert_eq!(back.result().as_deref(), Some("sales of north"));
    idle(&s);
    assert_eq!(
        runs.load(Ordering::SeqCst),
        2,
        "switching back runs nothing"
    );
}

#[test]
fn plain_submit_is_task_without_input() {
    let s = Session::new();
    let a = s.enter(|| submit("k", || 1));
    idle(&s);
    let b = s.enter(|| task("k").run(|_| -> Result<i32, String> { unreachable!("same task") }));
    assert_eq!(b.result(), Some(1));
    let c = s.enter(|| task("k").input(&()).run(|_| Ok::<_, String>(2)));
    idle(&s);
    assert_eq!(
        (a.result(), c.result()),
        (Some(1), Some(2)),
        "an input is another task"
    );
}

#[test]
fn a_new_input_cancels_the_running_task_of_the_previous_one() {
    let s = Session::new();
    let sub = s.subscribe();
    let (started_tx, started) = channel();
    let a = s.enter(|| {
        task("q").input(&1).run(move |ctx: &TaskContext| {
            started_tx.send(()).unwrap();
            while !ctx.wait_cancelled(LONG) {}
            ctx.check_cancelled()?;
            Ok::<_, Cancelled>(1)
        })
    });
    started.recv_timeout(LONG).expect("input 1 starts");
    let b = s.enter(|| task("q").input(&2).run(|_| Ok::<_, Cancelled>(2)));
    wait_until(&sub, || a.status() == TaskStatus::Cancelled);
    idle(&s);
    assert_eq!(b.result(), Some(2));
    // Switching back to the superseded input runs it again.
    let again = s.enter(|| task("q").input(&1).run(|_| Ok::<_, Cancelled>(11)));
    idle(&s);
    assert_eq!(again.result(), Some(11));
}

#[test]
fn a_new_input_cancels_the_pending_task_of_the_previous_one_and_keeps_finished_ones() {
    let s = Session::builder().max_workers(1).build();
    let gate = Gate::new();
    let g = gate.clone();
    let blocker = s.enter(|| submit("block", move || g.wait()));
    let a = s.enter(|| task("q").input("a").run(|_| Ok::<_, String>('a')));
    assert_eq!(a.status(), TaskStatus::Pending);
    let b = s.enter(|| task("q").input("b").run(|_| Ok::<_, String>('b')));
    assert_eq!(a.status(), TaskStatus::Cancelled, "superseded while queued");
    gate.open();
    idle(&s);
    assert_eq!(
        (blocker.status(), b.result()),
        (TaskStatus::Done, Some('b'))
    );
    // A finished task is not cancelled by the next input: it stays cached.
    let c = s.enter(|| task("q").input("c").run(|_| Ok::<_, String>('c')));
    idle(&s);
    assert_eq!(
        (b.status(), b.result(), c.result()),
        (TaskStatus::Done, Some('b'), Some('c'))
    );
}

#[test]
fn keep_previous_shows_the_previous_inputs_result_until_the_new_one_finishes() {
    let s = Session::new();
    let first = s.enter(|| {
        task("chart")
            .input(&1)
            .keep_previous()
            .run(|_| Ok::<_, String>(10))
    });
    idle(&s);
    assert_eq!((first.result(), first.is_refreshing()), (Some(10), false));
    let gate = Gate::new();
    let g = gate.clone();
    let second = s.enter(|| {
        task("chart").input(&2).keep_previous().run(move |_| {
            g.wait();
            Ok::<_, String>(20)
        })
    });
    assert_eq!(second.result(), Some(10), "the previous input's result");
    assert!(second.is_refreshing());
    // Without keep_previous, a new input shows nothing until it finishes.
    let gate3 = Gate::new();
    let g3 = gate3.clone();
    let plain = s.enter(|| task("other").input(&1).run(|_| Ok::<_, String>(1)));
    let sub = s.subscribe();
    wait_until(&sub, || plain.status() == TaskStatus::Done);
    let plain2 = s.enter(|| {
        task("other").input(&2).run(move |_| {
            g3.wait();
            Ok::<_, String>(2)
        })
    });
    assert_eq!((plain2.result(), plain2.is_refreshing()), (None, false));
    gate.open();
    gate3.open();
    idle(&s);
    assert_eq!((second.result(), second.is_refreshing()), (Some(20), false));
    assert_eq!(plain2.result(), Some(2));
}

#[test]
fn refresh_reruns_a_done_task_with_the_next_closure_and_shows_the_old_value_meanwhile() {
    let s = Session::new();
    let sub = s.subscribe();
    let h = s.enter(|| task("n").run(|_| Ok::<_, String>(1)));
    idle(&s);
    while sub.try_recv() {}
    h.refresh();
    assert!(sub.wait_timeout(LONG), "refresh notifies the session");
    assert_eq!(
        h.status(),
        TaskStatus::Done,
        "nothing runs before the next rerun"
    );
    let gate = Gate::new();
    let g = gate.clone();
    let h2 = s.enter(|| {
        task("n").run(move |_| {
            g.wait();
            Ok::<_, String>(2)
        })
    });
    assert!(matches!(
        h2.status(),
        TaskStatus::Pending | TaskStatus::Running
    ));
    assert_eq!((h2.result(), h2.is_refreshing()), (Some(1), true));
    gate.open();
    idle(&s);
    assert_eq!(
        (h.result(), h.is_refreshing()),
        (Some(2), false),
        "old handles see it too"
    );
}

#[test]
fn refresh_does_nothing_on_a_running_task() {
    let s = Session::new();
    let gate = Gate::new();
    let g = gate.clone();
    let runs = Arc::new(AtomicUsize::new(0));
    let r = runs.clone();
    let h = s.enter(|| {
        task("r").run(move |_| {
            r.fetch_add(1, Ordering::SeqCst);
            g.wait();
            Ok::<_, String>(1)
        })
    });
    h.refresh();
    gate.open();
    idle(&s);
    let again =
        s.enter(|| task("r").run(|_| -> Result<i32, String> { unreachable!("no refresh") }));
    assert_eq!((again.result(), runs.load(Ordering::SeqCst)), (Some(1), 1));
}

#[test]
fn a_failed_refresh_is_an_error_that_keeps_the_last_good_value() {
    let s = Session::new();
    let h = s.enter(|| task("f").run(|_| Ok::<_, String>(5)));
    idle(&s);
    h.refresh();
    let h = s.enter(|| task("f").run(|_| Err::<i32, _>("backend down")));
    idle(&s);
    assert_eq!(h.status(), TaskStatus::Error);
    assert_eq!(h.error().as_deref(), Some("backend down"));
    assert_eq!((h.result(), h.is_refreshing()), (Some(5), false));
    // And a later good refresh replaces it.
    h.refresh();
    let h = s.enter(|| task("f").run(|_| Ok::<_, String>(6)));
    idle(&s);
    assert_eq!(
        (h.status(), h.result(), h.error()),
        (TaskStatus::Done, Some(6), None)
    );
}

#[test]
fn refresh_works_on_plain_submit_and_on_cancelled_tasks() {
    let s = Session::new();
    let h = s.enter(|| submit("p", || 1));
    idle(&s);
    h.refresh();
    let h = s.enter(|| submit("p", || 2));
    idle(&s);
    assert_eq!(h.result(), Some(2));
    let sub = s.subscribe();
    let (started_tx, started) = channel();
    let c = s.enter(|| {
        submit_fallible_with("c", move |ctx: &TaskContext| {
            started_tx.send(()).unwrap();
            while !ctx.wait_cancelled(LONG) {}
            Err::<i32, _>(Cancelled)
        })
    });
    started.recv_timeout(LONG).unwrap();
    c.cancel();
    wait_until(&sub, || c.status() == TaskStatus::Cancelled);
    c.refresh();
    let c = s.enter(|| submit("c", || 3));
    idle(&s);
    assert_eq!(c.result(), Some(3));
}

#[test]
fn a_stale_result_is_refreshed_by_the_next_run_in_the_background() {
    let s = Session::new();
    let h = s.enter(|| {
        task("s")
            .stale_after(Duration::ZERO)
            .run(|_| Ok::<_, String>(1))
    });
    idle(&s);
    let gate = Gate::new();
    let g = gate.clone();
    let h2 = s.enter(|| {
        task("s").stale_after(Duration::ZERO).run(move |_| {
            g.wait();
            Ok::<_, String>(2)
        })
    });
    assert_eq!((h2.result(), h2.is_refreshing()), (Some(1), true));
    gate.open();
    idle(&s);
    assert_eq!(h.result(), Some(2));
    // Fresh results are not rerun.
    let fresh = s.enter(|| {
        task("f")
            .stale_after(Duration::from_secs(3600))
            .run(|_| Ok::<_, String>(1))
    });
    idle(&s);
    let again = s.enter(|| {
        task("f")
            .stale_after(Duration::from_secs(3600))
            .run(|_| -> Result<i32, String> { unreachable!("fresh") })
    });
    assert_eq!(
        (fresh.result(), again.status()),
        (Some(1), TaskStatus::Done)
    );
}

#[test]
fn elapsed_eta_and_queue_position_follow_the_task() {
    let s = Session::builder().max_workers(1).build();
    let sub = s.subscribe();
    let gate = Gate::new();
    let (g, (at_half_tx, at_half)) = (gate.clone(), channel());
    let first = s.enter(|| {
        submit_with("first", move |ctx: &TaskContext| {
            ctx.set_progress(0.5);
            at_half_tx.send(()).unwrap();
            g.wait();
        })
    });
    let a = s.enter(|| submit("a", || ()));
    let b = s.enter(|| submit("b", || ()));
    at_half.recv_timeout(LONG).expect("first reports half");
    assert_eq!((a.queue_position(), b.queue_position()), (Some(0), Some(1)));
    assert_eq!(first.queue_position(), None, "running");
    assert!(a.elapsed().is_some() && first.elapsed().is_some());
    let eta = first.eta().expect("a fraction gives an estimate");
    assert!(
        eta <= first.elapsed().unwrap() + Duration::from_secs(1),
        "{eta:?}"
    );
    assert_eq!(a.eta(), None, "no estimate while pending");
    let rows = s.enter(summarize_async_tasks);
    let row = |k: &str| rows.iter().find(|r| r.key == k).unwrap().clone();
    assert_eq!(
        (row("a").queue_position, row("b").queue_position),
        (Some(0), Some(1))
    );
    assert!(row("first").eta_ms.is_some() && row("first").queue_position.is_none());
    gate.open();
    idle(&s);
    wait_until(&sub, || b.status() == TaskStatus::Done);
    let total = first.elapsed().unwrap();
    assert_eq!(first.elapsed(), Some(total), "fixed once finished");
    assert_eq!((first.eta(), b.queue_position()), (None, None));
}

#[test]
fn summaries_show_input_attempt_elapsed_and_staleness() {
    let s = Session::new();
    let h = s.enter(|| {
        task("t")
            .input(&42)
            .stale_after(Duration::ZERO)
            .run(|_| Ok::<_, String>(1))
    });
    s.enter(|| submit("plain", || 1));
    idle(&s);
    let rows = s.enter(summarize_async_tasks);
    let row = rows.iter().find(|r| r.key == "t").unwrap();
    assert_eq!(row.input.as_deref().map(str::len), Some(16));
    assert_eq!(
        (row.attempt, row.stale, row.refreshing, row.shared),
        (1, true, false, false)
    );
    assert!(row.elapsed_ms.is_some() && row.age_ms.is_some());
    let plain = rows.iter().find(|r| r.key == "plain").unwrap();
    assert_eq!((plain.input.as_deref(), plain.stale), (None, false));
    let json = serde_json::to_value(row).unwrap();
    assert_eq!(json["attempt"], 1);
    assert_eq!(h.attempt(), 1);
}

#[test]
fn refreshing_a_task_cancelled_in_the_queue_runs_the_new_closure_once() {
    // Regression: the cancelled task's job is still queued when the refresh restarts it;
    // the restart must reuse that job (one job per task) and replace the never-run first
    // closure with the new one.
    let s = Session::builder().max_workers(1).build();
    let gate = Gate::new();
    let g = gate.clone();
    s.enter(|| submit("block", move || g.wait()));
    let runs = Arc::new(AtomicUsize::new(0));
    let r = runs.clone();
    let h = s.enter(|| {
        submit("q", move || {
            r.fetch_add(1, Ordering::SeqCst);
            "old"
        })
    });
    h.cancel();
    assert_eq!(h.status(), TaskStatus::Cancelled);
    h.refresh();
    let r = runs.clone();
    let h = s.enter(|| {
        submit("q", move || {
            r.fetch_add(1, Ordering::SeqCst);
            "new"
        })
    });
    assert_eq!(h.status(), TaskStatus::Pending);
    gate.open();
    idle(&s);
    assert_eq!((h.result(), runs.load(Ordering::SeqCst)), (Some("new"), 1));
}

#[test]
fn keep_previous_through_several_unfinished_inputs_shows_the_last_finished_one() {
    let s = Session::new();
    let sub = s.subscribe();
    s.enter(|| {
        task("c")
            .input(&1)
            .keep_previous()
            .run(|_| Ok::<_, String>(10))
    });
    idle(&s);
    let (gate_b, gate_c) = (Gate::new(), Gate::new());
    let (gb, gc) = (gate_b.clone(), gate_c.clone());
    let b = s.enter(|| {
        task("c")
            .input(&2)
            .keep_previous()
            .run(move |ctx: &TaskContext| {
                while !ctx.wait_cancelled(LONG) {}
                gb.wait();
                ctx.check_cancelled()?;
                Ok::<_, Cancelled>(20)
            })
    });
    assert_eq!(b.result(), Some(10));
    let c = s.enter(|| {
        task("c").input(&3).keep_previous().run(move |_| {
            gc.wait();
            Ok::<_, Cancelled>(30)
        })
    });
    assert_eq!(
        (c.result(), c.is_refreshing()),
        (Some(10), true),
        "input 1's, via input 2"
    );
    gate_b.open();
    wait_until(&sub, || b.status() == TaskStatus::Cancelled);
    assert_eq!(c.result(), Some(10));
    gate_c.open();
    idle(&s);
    assert_eq!((c.result(), c.is_refreshing()), (Some(30), false));
}
