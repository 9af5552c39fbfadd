//! The sales dashboard example in every state it reaches, as text and HTML snapshots:
//! loading (with progress), ready, switching region (the previous figures shown while the
//! new region loads), refreshed, and a refused input. Each load is held at a gate before
//! its last step, and the clock is a counter, so every frame is deterministic.

#[allow(dead_code)]
#[path = "../examples/dashboard.rs"]
mod dashboard;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use insta::assert_snapshot;
use streamtree::prelude::*;

const WAIT: Duration = Duration::from_secs(10);

/// A dashboard whose loads stop before their last step until the test lets them through;
/// the receiver names the region of each load that reached the gate.
fn gated() -> (AppTest, Receiver<String>, Sender<()>) {
    let (reached_tx, reached) = channel();
    let (open, open_rx) = channel::<()>();
    let open_rx = Arc::new(Mutex::new(open_rx));
    let step: dashboard::Step = Arc::new(move |_, region, i| {
        if i == dashboard::STEPS - 1 {
            let _ = reached_tx.send(region.to_owned());
            // Bounded: a failing test does not strand the worker.
            let _ = open_rx.lock().unwrap().recv_timeout(WAIT);
        }
        false
    });
    let count = Arc::new(AtomicU32::new(0));
    let clock: dashboard::Clock =
        Arc::new(move || format!("T{}", count.fetch_add(1, Ordering::SeqCst) + 1));
    let load = dashboard::loader(step, clock);
    let app = AppTest::with_workers(1, move || dashboard::Dashboard(load.clone()));
    (app, reached, open)
}

fn reached(rx: &Receiver<String>) -> String {
    rx.recv_timeout(WAIT)
        .expect("no load reached the gate in time")
}

/// Snapshots the last rerun as text and as an HTML fragment.
fn snap(name: &str, app: &AppTest) {
    assert_snapshot!(format!("{name}_text"), app.text());
    assert_snapshot!(format!("{name}_html"), render_html(app.element()));
}

#[test]
fn the_generated_data_set_is_deterministic() {
    let a = dashboard::sales("North", 7, "x".into());
    assert_eq!(a, dashboard::sales("North", 7, "x".into()));
    assert_ne!(a.days, dashboard::sales("South", 7, "x".into()).days);
    assert_eq!(a.days.len(), 7);
    assert_eq!(a.before.len(), 7);
    // The last day of a 7-day load is the last day of a 30-day one.
    assert_eq!(
        a.days.last().unwrap().units,
        dashboard::sales("North", 30, "x".into())
            .days
            .last()
            .unwrap()
            .units
    );
}

#[test]
fn dashboard_states() {
    let (mut app, gate, open) = gated();
    app.run();
    assert_eq!(reached(&gate), "North");
    assert!(
        app.run().text().contains("step 4 of 4"),
        "the loading frame shows progress: {}",
        app.text()
    );
    snap("dashboard_loading", &app);

    open.send(()).unwrap();
    app.run_until(WAIT, |t| t.contains("loaded at T1"));
    snap("dashboard_ready", &app);

    // Switching region: the North figures stay, labelled as such, while South loads.
    app.set_input("region", "South").unwrap();
    assert_eq!(reached(&gate), "South");
    let text = app.run().text().to_owned();
    assert!(
        text.contains("Showing North, last 7 days, while South, last 7 days, loads…")
            && text.contains("Units per day, North"),
        "{text}"
    );
    snap("dashboard_switching", &app);
    open.send(()).unwrap();
    app.run_until(WAIT, |t| t.contains("South, last 7 days; loaded at T2"));
    assert!(
        app.text().contains("Units per day, South"),
        "{}",
        app.text()
    );

    // Refresh: the South figures stay while the same input loads again.
    app.click("refresh").unwrap();
    assert_eq!(reached(&gate), "South");
    assert!(
        app.run()
            .text()
            .contains("Refreshing South… (loaded at T2)"),
        "{}",
        app.text()
    );
    snap("dashboard_refreshing", &app);
    open.send(()).unwrap();
    app.run_until(WAIT, |t| t.contains("loaded at T3"));
    snap("dashboard_refreshed", &app);

    // Out of range: refused with the key and value, and nothing changes or reloads.
    let before = app.text().to_owned();
    let err = app
        .set_input("days", "31")
        .expect_err("31 is outside 1..=30")
        .to_string();
    assert!(err.contains("days") && err.contains("31"), "{err}");
    assert_snapshot!("dashboard_input_error", err);
    assert_eq!(app.run().text(), before);
    assert!(app.wait_idle(WAIT));
    assert!(gate.try_recv().is_err(), "a refused input started a load");
    snap("dashboard_after_input_error", &app);
}
