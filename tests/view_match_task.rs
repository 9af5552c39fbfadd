//! `view!`'s `match_task` and `match_task_many` against real tasks in each state, and
//! against the same builder chain written by hand.

use std::sync::mpsc::channel;
use std::time::{Duration, Instant};

use streamtree::prelude::*;

const WAIT: Duration = Duration::from_secs(10);

/// The four arms the issue shows, for a task producing a number.
fn show(handle: &TaskHandle<u32>) -> Element {
    view! {
        match_task(handle) {
            loading => { Text("Loading…") },
            ready(n) => { Text(format!("Ready: {n}")) },
            error(e) => { Text(format!("failed: {e}")) },
            cancelled => { Text("Cancelled.") },
        }
    }
}

#[test]
fn ready_error_and_cancelled_arms() {
    let session = Session::new();
    let ok = session.enter(|| submit("ok", || 7_u32));
    let bad = session.enter(|| submit_fallible("bad", || "x".parse::<u32>()));
    // Cancelled on the cooperative path: the task reports its start, and only then does
    // the test cancel (right after `submit` it might still be Pending).
    let (started_tx, started) = channel();
    let stop = session.enter(|| {
        submit("stop", move || {
            started_tx.send(()).unwrap();
            let deadline = Instant::now() + WAIT;
            while !is_task_cancel_requested("stop") {
                assert!(
                    Instant::now() < deadline,
                    "no cancel request within {WAIT:?}"
                );
                std::thread::yield_now();
            }
            complete_cancelled("stop");
            0_u32
        })
    });
    started.recv_timeout(WAIT).expect("the task started");
    // It spins until the request: Running for sure until `cancel`.
    assert_eq!(stop.status(), TaskStatus::Running);
    stop.cancel();
    assert!(session.wait_idle(WAIT));
    let tree = session.enter(|| view! { VStack { {show(&ok)} {show(&bad)} {show(&stop)} } });
    assert_eq!(
        render_text(&tree),
        "VStack\n  Ready: 7\n  failed: invalid digit found in string\n  Cancelled.\n"
    );
}

#[test]
fn loading_with_progress_then_ready() {
    let session = Session::new();
    let (go_tx, go) = channel::<()>();
    let (started_tx, started) = channel();
    let handle = session.enter(|| {
        submit("slow", move || {
            set_task_progress("slow", (0.5, "half"));
            started_tx.send(()).unwrap();
            go.recv_timeout(WAIT).expect("the test opens the gate");
            3_u32
        })
    });
    started.recv_timeout(WAIT).unwrap();
    let view = |h: &TaskHandle<u32>| {
        view! {
            match_task(h) {
                loading(p) => { Text(p.map_or_else(String::new, |p| p.to_string())) }
                ready(n) => { Text(n) }
            }
        }
    };
    assert_eq!(render_text(&session.enter(|| view(&handle))), "50% half\n");
    go_tx.send(()).unwrap();
    assert!(session.wait_idle(WAIT));
    assert_eq!(render_text(&session.enter(|| view(&handle))), "3\n");
    assert_eq!(render_text(&session.enter(|| show(&handle))), "Ready: 3\n");
}

#[test]
fn many_handles_as_a_tuple_or_a_slice() {
    let session = Session::new();
    let a = session.enter(|| submit("a", || 1_u32));
    let b = session.enter(|| submit("b", || "two".to_string()));
    let hs = session.enter(|| submit_many((1..=3_u32).map(|i| (format!("sq{i}"), move || i * i))));
    assert!(session.wait_idle(WAIT));
    let tree = session.enter(|| {
        view! {
            match_task_many((a, b)) {
                loading => { "…" }
                ready((x, y)) => { Text(format!("{x} and {y}")) }
                error(e) => { Text(e) }
            }
            match_task_many(&hs[..]) {
                ready(values) => { for v in values { Text(v) } }
            }
        }
    });
    assert_eq!(render_text(&tree), "1 and two\n1\n4\n9\n");
}

#[test]
fn same_as_the_hand_written_chain() {
    let session = Session::new();
    let done = session.enter(|| submit("done", || 5_u32));
    let failed = session.enter(|| submit_fallible("failed", || "?".parse::<u32>()));
    assert!(session.wait_idle(WAIT));
    for h in [&done, &failed] {
        let from_macro = session.enter(|| {
            view! {
                match_task(h) {
                    ready(n) => { Text(n) Divider() }
                    error => { "failed" }
                }
            }
        });
        let by_hand: Element = match_task(h)
            .ready(|n| Fragment([Text(n), Divider()]))
            .error(|_| Text("failed"))
            .into();
        assert_eq!(render_text(&from_macro), render_text(&by_hand));
    }
}

/// A task cancelled while Pending (forced: one worker, held by a gated task) takes the
/// cancelled arm without ever running.
#[test]
fn cancelled_arm_for_a_task_cancelled_while_pending() {
    let session = Session::builder().max_workers(1).build();
    let (go_tx, go) = channel::<()>();
    let (ran_tx, ran) = channel::<()>();
    let (blocker, queued) = session.enter(|| {
        (
            submit("blocker", move || {
                go.recv_timeout(WAIT).expect("the test opens the gate");
                1_u32
            }),
            submit("queued", move || {
                ran_tx.send(()).unwrap();
                2_u32
            }),
        )
    });
    queued.cancel();
    assert_eq!(queued.status(), TaskStatus::Cancelled, "cancelled at once");
    assert_eq!(
        render_text(&session.enter(|| show(&queued))),
        "Cancelled.\n"
    );
    go_tx.send(()).unwrap();
    assert!(session.wait_idle(WAIT));
    assert_eq!(render_text(&session.enter(|| show(&blocker))), "Ready: 1\n");
    assert!(
        ran.try_recv().is_err(),
        "a task cancelled while Pending never runs"
    );
}

/// `match_task(h, delay = d)` and `ready(v, refreshing)`: the same as `.delay(d)` and
/// `.ready_with(..)` by hand, for one handle and for several.
#[test]
fn delay_option_and_refreshing_binding() {
    let session = Session::builder().max_workers(1).build();
    let (go_tx, go) = channel::<()>();
    let slow = session.enter(|| {
        submit("slow", move || {
            go.recv_timeout(WAIT).expect("the test opens the gate");
            4_u32
        })
    });
    let view = |h: &TaskHandle<u32>, delay: Duration| {
        view! {
            match_task(h, delay = delay) {
                loading => { "Loading…" }
                ready(n, refreshing) => { Text(format!("{n} refreshing={refreshing}")) }
            }
            match_task_many((h, h), delay = delay,) {
                loading => { "Loading both…" }
                ready((a, b), _) => { Text(a + b) }
            }
        }
    };
    let by_hand = |h: &TaskHandle<u32>, delay: Duration| -> Element {
        Fragment::<[Element; 2]>([
            match_task(h)
                .delay(delay)
                .loading("Loading…")
                .ready_with(|n, refreshing| Text(format!("{n} refreshing={refreshing}")))
                .into(),
            match_task_many((h, h))
                .delay(delay)
                .loading("Loading both…")
                .ready(|(a, b)| Text(a + b))
                .into(),
        ])
    };
    let long = Duration::from_secs(60);
    let both = |delay| {
        let from_macro = render_text(&session.enter(|| view(&slow, delay)));
        assert_eq!(
            from_macro,
            render_text(&session.enter(|| by_hand(&slow, delay)))
        );
        from_macro
    };
    assert_eq!(both(long), "", "inside the delay: nothing");
    assert_eq!(both(Duration::ZERO), "Loading…\nLoading both…\n");
    go_tx.send(()).unwrap();
    assert!(session.wait_idle(WAIT));
    assert_eq!(both(long), "4 refreshing=false\n8\n");
}
