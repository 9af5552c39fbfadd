//! `match_task(..).delay(d)`: a task that finishes within `d` never shows the loading
//! arm; a slower one shows it from `d` on, and the rerun at the deadline is asked for by
//! the read itself (a notification to the session, as a task change sends).
//!
//! Timing is checked soundly rather than assumed: a task is submitted between `t0` and
//! `t1`, so its deadline lies in `[t0 + d, t1 + d]`; a render that shows loading must have
//! ended after `t0 + d`, and one that shows nothing must have started before `t1 + d`.
//! Neither depends on how fast the machine is.

use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::{Duration, Instant};

use insta::assert_snapshot;
use streamtree::prelude::*;

const WAIT: Duration = Duration::from_secs(10);

/// A task that reports its start, then waits for the gate and returns 7.
fn gated() -> (
    Sender<()>,
    Receiver<()>,
    impl FnOnce() -> u32 + Send + 'static,
) {
    let (gate, open) = channel::<()>();
    let (started_tx, started) = channel();
    (gate, started, move || {
        started_tx.send(()).unwrap();
        open.recv_timeout(WAIT).expect("the test opens the gate");
        7
    })
}

fn loader(h: &TaskHandle<u32>, delay: Duration) -> Element {
    match_task(h)
        .delay(delay)
        .loading(Text("Loading…"))
        .ready(|n| Text(format!("Ready: {n}")))
        .into()
}

/// Renders `loader` in `session` (as a rerun does), with when the render began and ended.
fn render(session: &Session, h: &TaskHandle<u32>, delay: Duration) -> (String, Instant, Instant) {
    let began = Instant::now();
    let text = render_text(&session.enter(|| loader(h, delay)));
    (text, began, Instant::now())
}

#[test]
fn a_task_finishing_inside_the_delay_never_shows_loading() {
    // Far longer than the test: the task surely finishes inside it.
    let delay = Duration::from_secs(60);
    let session = Session::builder().max_workers(1).build();
    let changes = session.subscribe();
    let (gate, started, job) = gated();
    let h = session.enter(|| submit("fast", job));
    started.recv_timeout(WAIT).expect("the task started");
    // Reruns while it runs show nothing, however many there are.
    for _ in 0..3 {
        assert_eq!(render(&session, &h, delay).0, "");
    }
    gate.send(()).unwrap();
    // Rerun on every change, as a live runner does, until it is ready.
    loop {
        assert!(changes.wait_timeout(WAIT), "no change within {WAIT:?}");
        let (text, ..) = render(&session, &h, delay);
        assert_ne!(text, "Loading…\n", "the loading arm flashed");
        if text == "Ready: 7\n" {
            break;
        }
        assert_eq!(text, "");
    }
}

#[test]
fn a_slow_task_shows_loading_from_the_deadline_on_and_the_rerun_is_asked_for() {
    let delay = Duration::from_millis(200);
    let session = Session::builder().max_workers(1).build();
    let changes = session.subscribe();
    let (gate, started, job) = gated();
    let t0 = Instant::now();
    let h = session.enter(|| submit("slow", job));
    let t1 = Instant::now();
    started.recv_timeout(WAIT).expect("the task started");
    // Submit and start notified before the closure ran: take those, so that what comes
    // next can only be the delay's own wake-up.
    while changes.try_recv() {}
    let mut waited = false;
    loop {
        let (text, began, ended) = render(&session, &h, delay);
        match text.as_str() {
            "" => assert!(began < t1 + delay, "nothing shown after the deadline"),
            "Loading…\n" => {
                assert!(ended >= t0 + delay, "loading shown inside the delay");
                break;
            }
            other => panic!("unexpected render {other:?}"),
        }
        // Inside the delay: the read asked for a wake-up at the deadline; nothing else
        // changes (the task waits for the gate), so this notification is that wake-up.
        assert!(
            changes.wait_timeout(WAIT),
            "no wake-up at the deadline within {WAIT:?}"
        );
        assert!(Instant::now() >= t0 + delay, "woken before the deadline");
        waited = true;
    }
    // Loading from the deadline on: every later rerun shows it until the task ends.
    assert_eq!(render(&session, &h, delay).0, "Loading…\n");
    gate.send(()).unwrap();
    assert!(session.wait_idle(WAIT));
    assert_eq!(render(&session, &h, delay).0, "Ready: 7\n");
    // Only a stall of `delay` between submit and the first render skips the wait.
    if !waited {
        eprintln!("note: the first render already came after the deadline");
    }
}

#[test]
fn a_group_waits_while_its_oldest_unfinished_task_does() {
    let session = Session::builder().max_workers(2).build();
    let (gate, started, job) = gated();
    let (slow, quick) = session.enter(|| (submit("slow", job), submit("quick", || 1_u32)));
    started.recv_timeout(WAIT).expect("the task started");
    let show = |delay: Duration| {
        let el: Element = session.enter(|| {
            match_task_many((&slow, &quick))
                .delay(delay)
                .loading(Text("Loading…"))
                .ready(|(a, b)| Text(format!("{a} {b}")))
                .into()
        });
        render_text(&el)
    };
    assert_eq!(show(Duration::from_secs(60)), "");
    assert_eq!(show(Duration::ZERO), "Loading…\n");
    gate.send(()).unwrap();
    assert!(session.wait_idle(WAIT));
    assert_eq!(show(Duration::from_secs(60)), "7 1\n");
}

#[test]
fn a_failed_task_inside_the_delay_shows_its_error_at_once() {
    let session = Session::new();
    let h = session.enter(|| submit_fallible::<u32, _>("bad", || Err("no data")));
    assert!(session.wait_idle(WAIT));
    let el: Element = session.enter(|| {
        match_task(&h)
            .delay(Duration::from_secs(60))
            .error(|e| Text(format!("failed: {e}")))
            .into()
    });
    assert_eq!(render_text(&el), "failed: no data\n");
}

/// The page the snapshots show: a heading, then the delayed loader (default loading arm:
/// a progress bar, as the task reports progress).
fn sales_page(h: &TaskHandle<u32>, delay: Duration) -> Element {
    view! {
        VStack {
            "Sales"
            match_task(h, delay = delay) {
                ready(orders, refreshing) => {
                    Text(format!("{orders} orders"))
                    if refreshing { "updating…" }
                }
                error(e) => { ErrorBox(e) }
            }
        }
    }
}

/// Snapshots of a delayed loader's states: inside the delay (nothing where the loader
/// goes), after it (loading, woken by the deadline), and ready.
#[test]
fn delayed_loader_states() {
    let delay = Duration::from_millis(100);
    let session = Session::builder().max_workers(1).build();
    let changes = session.subscribe();
    let (gate, open) = channel::<()>();
    let (started_tx, started) = channel();
    let h = session.enter(|| {
        submit_with("sales", move |ctx: &TaskContext| {
            ctx.set_progress((0.25, "Fetching orders"));
            started_tx.send(()).unwrap();
            open.recv_timeout(WAIT).expect("the test opens the gate");
            42_u32
        })
    });
    started.recv_timeout(WAIT).expect("the task started");
    let page = |delay| session.enter(|| sales_page(&h, delay));

    // Inside the delay: a delay far longer than the test, so surely inside.
    let inside = page(Duration::from_secs(60));
    assert_snapshot!("delay_inside_text", render_text(&inside));
    assert_snapshot!("delay_inside_html", render_html(&inside));

    // After it: rerun on every change (the wake-up at the deadline among them) until the
    // loader shows, as a live runner does.
    let loading = loop {
        let el = page(delay);
        if render_text(&el).contains("Fetching orders") {
            break el;
        }
        assert!(changes.wait_timeout(WAIT), "no wake-up within {WAIT:?}");
    };
    assert_snapshot!("delay_loading_text", render_text(&loading));
    assert_snapshot!("delay_loading_html", render_html(&loading));

    gate.send(()).unwrap();
    assert!(session.wait_idle(WAIT));
    let ready = page(delay);
    assert_snapshot!("delay_ready_text", render_text(&ready));
    assert_snapshot!("delay_ready_html", render_html(&ready));
}
