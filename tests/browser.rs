//! End to end in headless Chromium over WebDriver (`tests/driver.rs`: chromedriver and
//! fantoccini): the demo page first shows "Loading…", then "Ready: result=42" arrives as a
//! push (no reload); Cancel ends the long job in "Cancelled."; Retry starts it again. The
//! final page is saved as `<target>/browser-test/screenshot.png`.
//!
//! A second test picks a region in a `Select`: the script posts the change, and the
//! rerun's result for the new region arrives as a push, again without a reload. A third
//! does it with page scripts disabled: "Apply changes" posts the page-wide form and the
//! reloaded page shows the new region. A fourth changes the sales dashboard's region with
//! its loads held at a gate: the previous region's figures stay shown while the new one
//! loads, then are replaced. A fifth drops the event stream from the server
//! ([`Running::drop_streams`](streamtree::Running::drop_streams)) while a task runs, lets
//! the task finish while the page is away, and sees the final state arrive in the same page
//! after the browser's `EventSource` reconnects by itself (with `Last-Event-ID`). The last
//! saves the sales dashboard, ready, as `<target>/browser-test/dashboard.png`.
//!
//! `STREAMTREE_UPDATE_SCREENSHOT=1` (`cargo xtask screenshot`) also copies the two PNGs to
//! `docs/screenshot.png` and `docs/dashboard.png`, the README's pictures.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs them); set
//! `STREAMTREE_SKIP_BROWSER=1` to skip. Every wait is on a DOM mutation inside the page or
//! on a channel, with a timeout only as a failure guard.

use std::path::{Path, PathBuf};
use std::sync::mpsc::channel;
use std::sync::{Arc, Mutex};

use serde_json::json;
use streamtree::prelude::*;
use streamtree::{Runtime, serve};
use streamtree_tests::{Gate, HeldDashboard, QUICK_JOB_GATE, browser_demo, dashboard};

#[path = "driver.rs"]
mod driver;
use driver::{Browser, GUARD, Options};

/// Where a test's screenshot goes: `<target>/browser-test/<name>`, and with
/// `STREAMTREE_UPDATE_SCREENSHOT=1` also `docs/<name>`.
fn save_screenshot(browser: &Browser, name: &str) {
    let target_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).parent().unwrap();
    let png = browser.screenshot(&target_dir.join("browser-test").join(name));
    if std::env::var_os("STREAMTREE_UPDATE_SCREENSHOT").is_some_and(|v| v == "1") {
        let docs: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs");
        std::fs::create_dir_all(&docs).unwrap();
        std::fs::write(docs.join(name), &png).unwrap();
    }
}

/// Marks the page (a reload would forget the mark) once its live script runs.
fn mark_page(browser: &Browser) {
    browser.wait_for(
        "the live script",
        "document.getElementById('st-root')",
        GUARD,
    );
    browser.eval("window.stMarker = 'same page'");
}

/// The page is the one [`mark_page`] marked, and shows no error note.
fn assert_same_page_no_error(browser: &Browser) {
    assert_eq!(
        browser.eval("window.stMarker"),
        json!("same page"),
        "no reload"
    );
    assert_eq!(
        browser.eval("document.getElementById('st-note').hidden"),
        json!(true),
        "no error note: {}",
        browser.eval("document.getElementById('st-note').textContent")
    );
}

#[test]
fn demo_page_live_in_headless_chromium() {
    let Some(browser) = Browser::start(Options::new("demo")) else {
        return;
    };
    QUICK_JOB_GATE.close();
    let server = serve(browser_demo)
        .bind(([127, 0, 0, 1], 0))
        .runtime(Runtime::builder().max_workers(8).build())
        .spawn()
        .unwrap();
    browser.open_app(server.addr());

    browser.wait_text("Loading…");
    mark_page(&browser);
    QUICK_JOB_GATE.open();
    browser.wait_text("Ready: result=42");
    assert_eq!(
        browser.eval("window.stMarker"),
        json!("same page"),
        "no reload"
    );

    browser.wait_text("step ");
    browser.click("[data-st-key='long-job-cancel']");
    browser.wait_text("Cancelled.");
    browser.wait_for(
        "Retry shown",
        "document.querySelector('[data-st-key=\"long-job-retry\"]')",
        GUARD,
    );
    browser.click("[data-st-key='long-job-retry']");
    browser.wait_for(
        "the long job running again",
        "!document.body.innerText.includes('Cancelled.') && document.body.innerText.includes('step ')",
        GUARD,
    );
    assert_same_page_no_error(&browser);
    save_screenshot(&browser, "screenshot.png");
    server.shutdown().unwrap();
}

/// A region `Select` driving a task keyed by the region.
fn region_app() -> Element {
    let region = Select("Region", ["EU", "US", "Asia"]).key("region");
    let r = region.value();
    let sales = submit(&format!("sales-{r}"), move || {
        format!("sales of {r}: {}", r.len() * 100)
    });
    let result: Element = match_task(&sales).ready(Text).into();
    VStack([region.into(), result])
}

#[test]
fn select_change_reruns_the_page_in_headless_chromium() {
    let Some(browser) = Browser::start(Options::new("select")) else {
        return;
    };
    let server = serve(region_app)
        .bind(([127, 0, 0, 1], 0))
        .runtime(Runtime::builder().max_workers(2).build())
        .spawn()
        .unwrap();
    browser.open_app(server.addr());
    browser.wait_text("sales of EU: 200");
    mark_page(&browser);
    // A user's pick: WebDriver clicks the option, the browser fires `change`.
    browser.select("#st-in-region", "Asia");
    browser.wait_text("sales of Asia: 400");
    assert_eq!(
        browser.eval("document.getElementById('st-in-region').value"),
        json!("Asia"),
        "the pushed page shows the new region selected"
    );
    assert_same_page_no_error(&browser);
    server.shutdown().unwrap();
}

/// A region `Select` and its value, shown in the same rerun (no task: without
/// JavaScript a page only changes by loading again).
fn region_now_app() -> Element {
    let region = Select("Region", ["EU", "US", "Asia"]).key("region");
    let r = region.value();
    VStack([region.into(), Text(format!("showing {r}"))])
}

#[test]
fn select_change_through_the_no_js_form_in_headless_chromium() {
    let options = Options {
        javascript: false,
        ..Options::new("nojs")
    };
    let Some(browser) = Browser::start(options) else {
        return;
    };
    let server = serve(region_now_app)
        .bind(([127, 0, 0, 1], 0))
        .runtime(Runtime::builder().max_workers(2).build())
        .spawn()
        .unwrap();
    // The first visit's reload is a `<meta http-equiv="refresh">`: it works without scripts.
    browser.open_app(server.addr());
    // "Apply changes" sits in `<noscript>`: a button only while page scripts are off.
    assert_eq!(
        browser.eval(
            "document.body.innerText.includes('showing EU') && \
             document.querySelector(\"button[name='apply']\") !== null"
        ),
        json!(true),
        "without JavaScript the page offers Apply: {}",
        browser.eval("document.body.innerText")
    );
    // A load forgets this.
    browser.eval("window.stMarker = 'first load'");
    // Pick a region and press "Apply changes": a plain form post, a redirect, a load.
    browser.select("#st-in-region", "US");
    browser.click("button[name='apply']");
    browser.wait_loaded(
        "the reloaded page with the new region",
        "window.stMarker === undefined && \
         document.body.innerText.includes('showing US') && \
         document.getElementById('st-in-region').value === 'US'",
    );
    server.shutdown().unwrap();
}

#[test]
fn dashboard_select_keeps_the_previous_region_until_the_new_one_arrives_in_headless_chromium() {
    let Some(browser) = Browser::start(Options::new("dashboard")) else {
        return;
    };
    // Each load is held before its last step, so the page's in-between state (old
    // figures, new region loading) stays until it has been seen.
    let dashboard = HeldDashboard::serve();
    browser.open_app(dashboard.server.addr());

    dashboard.at_gate("North");
    browser.wait_text("Loading North, 7 days: step 4 of 4");
    dashboard.release();
    browser.wait_text("North, last 7 days; loaded at T1");
    mark_page(&browser);

    browser.select("#st-in-region", "East");
    dashboard.at_gate("East");
    browser.wait_text("Showing North, last 7 days, while East, last 7 days, loads…");
    assert_eq!(
        browser.eval("document.body.textContent.includes('Units per day, North')"),
        json!(true),
        "North's figures stay shown while East loads"
    );
    assert_eq!(
        browser.eval("document.getElementById('st-in-region').value"),
        json!("East"),
        "the pushed page shows the new region selected"
    );

    dashboard.release();
    browser.wait_text("East, last 7 days; loaded at T2");
    assert_eq!(
        browser.eval(
            "document.body.textContent.includes('Units per day, East') && \
             !document.body.textContent.includes('Units per day, North')"
        ),
        json!(true),
        "East's figures replace North's"
    );
    assert_same_page_no_error(&browser);
    dashboard.server.shutdown().unwrap();
}

#[test]
fn a_stream_dropped_by_the_server_resumes_in_the_same_page_in_headless_chromium() {
    let Some(browser) = Browser::start(Options::new("resume")) else {
        return;
    };
    // One task held at a gate; it says on `finished` when it is through.
    let gate = Arc::new(Gate::new(false));
    let (finished_tx, finished) = channel::<()>();
    let finished_tx = Mutex::new(finished_tx);
    let app = {
        let gate = gate.clone();
        move || {
            let gate = gate.clone();
            let finished = finished_tx.lock().unwrap().clone();
            let job = submit("job", move || {
                gate.wait(|| is_task_cancel_requested("job"));
                let _ = finished.send(());
            });
            Text(format!("job: {}", job.status().as_str()))
        }
    };
    let server = serve(app)
        .bind(([127, 0, 0, 1], 0))
        .runtime(Runtime::builder().max_workers(2).build())
        .spawn()
        .unwrap();
    browser.open_app(server.addr());
    browser.wait_text("job: running");
    mark_page(&browser);

    // The server ends the stream; the page's EventSource notices and waits its retry
    // delay (3 s in Chromium) before reconnecting.
    server.drop_streams();
    browser.wait_for(
        "the page noticing the dropped stream",
        "document.getElementById('st-note').textContent === 'Reconnecting…'",
        GUARD,
    );
    // The task finishes while the client is away.
    gate.open();
    finished
        .recv_timeout(GUARD)
        .expect("the task was let through while the client was away");
    assert_eq!(
        browser.eval(
            "document.getElementById('st-note').textContent === 'Reconnecting…' && \
             !document.body.innerText.includes('job: done')"
        ),
        json!(true),
        "the task finished before the browser reconnected (its retry delay is 3 s)"
    );
    // The browser reconnects by itself, with `Last-Event-ID`, and the final state arrives.
    browser.wait_text("job: done");
    assert_same_page_no_error(&browser);
    server.shutdown().unwrap();
}

/// The README's picture: the sales dashboard of `examples/dashboard.rs`, ready, at
/// 1200 × 900, with instant loads and a fixed clock so the PNG only changes when the page
/// does.
#[test]
fn sales_dashboard_ready_screenshot_in_headless_chromium() {
    let options = Options {
        size: (1200, 900),
        ..Options::new("dashboard-shot")
    };
    let Some(browser) = Browser::start(options) else {
        return;
    };
    let instant: dashboard::Step = Arc::new(|_, _, _| false);
    let clock: dashboard::Clock = Arc::new(|| "09:30:00 UTC".to_owned());
    let load = dashboard::loader(instant, clock);
    let server = serve(move || Page([dashboard::Dashboard(load.clone())]).title("Sales dashboard"))
        .bind(([127, 0, 0, 1], 0))
        .runtime(Runtime::builder().max_workers(2).build())
        .spawn()
        .unwrap();
    browser.open_app(server.addr());
    browser.wait_for(
        "the dashboard ready, Refresh enabled",
        "document.body.innerText.includes('North, last 7 days; loaded at 09:30:00 UTC.') && \
         document.querySelector('[data-st-key=\"refresh\"]') && \
         !document.querySelector('[data-st-key=\"refresh\"]').disabled",
        GUARD,
    );
    assert_eq!(
        browser.eval("document.getElementById('st-note').hidden"),
        json!(true),
        "no error note"
    );
    save_screenshot(&browser, "dashboard.png");
    server.shutdown().unwrap();
}
