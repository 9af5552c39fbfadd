//! DOM equivalence in headless Chromium (over WebDriver: `fantoccini` and Debian's
//! `chromedriver`): after pushes, which are mostly patches, the live page's `#st-root`
//! equals the same session's fresh `GET /` parsed by the browser's own `DOMParser`.
//!
//! The gallery (`streamtree_tests::browser_demo`) goes through loading, ready, a running
//! long job, cancel, retry and its progress ticks to the end; the sales dashboard through
//! its loads (each held at its last step) and a region `Select` change. At each settled
//! state the page fetches `GET /` (which renders, and publishes if anything changed, such
//! as the task panel's clocks) and waits until its own root shows that render or a newer
//! one; it must then equal the fresh render, or a newer push came in and it tries again.
//!
//! A third test types into a field (not yet applied) and holds a selection while a patch
//! replaces the field: the new field has the typed text, focus and the selection.
//!
//! Runs on the shared driver (`tests/driver.rs`), which needs Debian's `chromium` and
//! `chromium-driver` (`.ci/run` installs them); set `STREAMTREE_SKIP_BROWSER=1` to skip.
//! Every wait is on a DOM mutation inside the page or on a channel, with a timeout only as
//! a failure guard.

use std::sync::mpsc::channel;

use serde_json::{Value, json};
use streamtree::{Runtime, serve};
use streamtree_tests::{HeldDashboard, LONG_JOB_GATE, QUICK_JOB_GATE, browser_demo};

#[path = "driver.rs"]
mod driver;
use driver::{Browser, GUARD, Options};

/// Fetches `GET /`, parses it with `DOMParser`, and waits until the live root shows that
/// render (equal markup) or a newer push (a greater seq); returns what it saw.
const COMPARE: &str = r#"const [limit, done] = arguments;
const root = document.getElementById('st-root');
fetch(location.pathname, { credentials: 'same-origin', cache: 'no-store' })
  .then(r => r.text())
  .then(text => {
    const fresh = new DOMParser().parseFromString(text, 'text/html').getElementById('st-root');
    const want = fresh.innerHTML, freshSeq = Number(fresh.getAttribute('data-st-seq'));
    const state = () => ({ equal: root.innerHTML === want, liveSeq: Number(root.getAttribute('data-st-seq')),
                           freshSeq, live: root.innerHTML, fresh: want });
    const settled = () => root.innerHTML === want || Number(root.getAttribute('data-st-seq')) >= freshSeq;
    if (settled()) return done(state());
    const seen = new MutationObserver(() => { if (settled()) { seen.disconnect(); done(state()); } });
    seen.observe(root, { subtree: true, childList: true, characterData: true, attributes: true });
    setTimeout(() => { seen.disconnect(); done(state()); }, limit);
  }, err => done({ error: String(err) }));"#;

/// Asserts that the live DOM equals a fresh `GET /` of the session, in state `what`.
fn same_as_get(browser: &Browser, what: &str) {
    let limit = json!(u64::try_from(GUARD.as_millis()).expect("GUARD fits in u64"));
    for _ in 0..10 {
        let got: Value = browser.eval_async(
            &format!("compare with GET / ({what})"),
            COMPARE,
            vec![limit.clone()],
        );
        assert!(got.get("error").is_none(), "{what}: {}", got["error"]);
        if got["equal"] == json!(true) {
            return;
        }
        // A push newer than the fetched render arrived first: fetch again.
        if got["liveSeq"].as_u64() > got["freshSeq"].as_u64() {
            continue;
        }
        let (live, fresh) = (
            got["live"].as_str().unwrap(),
            got["fresh"].as_str().unwrap(),
        );
        let at = live
            .bytes()
            .zip(fresh.bytes())
            .position(|(a, b)| a != b)
            .unwrap_or(live.len().min(fresh.len()));
        let from = at.saturating_sub(120);
        panic!(
            "{what}: the live DOM (seq {}) differs from GET / (seq {}) at byte {at}:\n live: \
             {:.300}\nfresh: {:.300}",
            got["liveSeq"],
            got["freshSeq"],
            live.get(from..).unwrap_or(live),
            fresh.get(from..).unwrap_or(fresh),
        );
    }
    panic!("{what}: pushes kept overtaking GET / (ten times)");
}

#[test]
fn the_gallery_dom_equals_a_fresh_render_after_pushes() {
    let Some(browser) = Browser::start(Options::new("gallery")) else {
        return;
    };
    QUICK_JOB_GATE.close();
    LONG_JOB_GATE.close();
    let server = serve(browser_demo)
        .bind(([127, 0, 0, 1], 0))
        .runtime(Runtime::builder().max_workers(8).build())
        .spawn()
        .unwrap();
    browser.open_app(server.addr());
    browser.wait_text("Loading…");
    same_as_get(&browser, "loading");
    QUICK_JOB_GATE.open();
    browser.wait_text("Ready: result=42");
    browser.wait_text("step 1 of 10");
    same_as_get(&browser, "ready, long job at its first step");
    browser.click("[data-st-key='long-job-cancel']");
    browser.wait_text("Cancelled.");
    same_as_get(&browser, "cancelled");
    browser.click("[data-st-key='long-job-retry']");
    browser.wait_for(
        "the long job running again",
        "!document.body.innerText.includes('Cancelled.') && document.body.innerText.includes('step 1 of 10')",
        GUARD,
    );
    same_as_get(&browser, "retried");
    // Every progress tick of the job is pushed (mostly as patches) up to its end.
    LONG_JOB_GATE.open();
    browser.wait_text("Finished all 10 steps.");
    same_as_get(&browser, "finished");
    assert_eq!(
        browser.eval("document.getElementById('st-note').hidden"),
        json!(true),
        "no error note (no failed patch)"
    );
    LONG_JOB_GATE.close();
    server.shutdown().unwrap();
}

#[test]
fn the_dashboard_dom_equals_a_fresh_render_after_pushes() {
    let Some(browser) = Browser::start(Options::new("dashboard")) else {
        return;
    };
    // Each load is held before its last step until the test lets it through.
    let dashboard = HeldDashboard::serve();
    browser.open_app(dashboard.server.addr());
    dashboard.at_gate("North");
    browser.wait_text("Loading North, 7 days: step 4 of 4");
    same_as_get(&browser, "North loading");
    dashboard.release();
    browser.wait_text("North, last 7 days; loaded at T1");
    same_as_get(&browser, "North loaded");
    browser.select("#st-in-region", "East");
    dashboard.at_gate("East");
    browser.wait_text("while East, last 7 days, loads…");
    same_as_get(&browser, "East loading beside North's figures");
    dashboard.release();
    browser.wait_text("East, last 7 days; loaded at T2");
    same_as_get(&browser, "East loaded");
    dashboard.server.shutdown().unwrap();
}

/// A text field whose placeholder shows the tick (so each tick's patch replaces the
/// field) beside a progress bar, ticks released by the test one at a time.
fn field_app(
    steps: std::sync::mpsc::Receiver<()>,
) -> impl Fn() -> streamtree::Element + Send + Sync {
    use std::sync::{Arc, Mutex};
    use streamtree::prelude::*;

    let steps = Arc::new(Mutex::new(steps));
    move || {
        let steps = steps.clone();
        let task = submit_with("ticks", move |ctx: &TaskContext| {
            for i in 0..3u32 {
                ctx.set_progress((f64::from(i) / 3.0, format!("tick={i};")));
                let _ = steps.lock().unwrap().recv_timeout(GUARD);
            }
        });
        let tick = task
            .progress()
            .and_then(|p| p.message().map(str::to_owned))
            .unwrap_or_default();
        let status: Element = match_task(&task)
            .loading_with(|p| match p {
                Some(p) => ProgressBar(p),
                None => Text("Queued…"),
            })
            .ready(|()| Text("tick=done;"))
            .into();
        Page([
            TextInput("Name").key("name").placeholder(tick).into(),
            status,
        ])
    }
}

#[test]
fn a_patch_keeps_the_text_focus_and_caret_of_the_field_being_edited() {
    let Some(browser) = Browser::start(Options::new("field")) else {
        return;
    };
    let (step, steps) = channel();
    let server = serve(field_app(steps))
        .bind(([127, 0, 0, 1], 0))
        .spawn()
        .unwrap();
    browser.open_app(server.addr());
    browser.wait_text("tick=0;");
    browser.wait_for("the field", "document.getElementById('st-in-name')", GUARD);
    // Typing, not yet applied (no `change`): the text exists only in the browser.
    browser.eval(
        "(f => { f.focus(); f.value = 'Grace Hopper'; f.setSelectionRange(2, 5); \
         window.stField = f; })(document.getElementById('st-in-name'))",
    );
    step.send(()).unwrap();
    browser.wait_for(
        "the tick in the field's placeholder",
        "document.getElementById('st-in-name').placeholder === 'tick=1;'",
        GUARD,
    );
    assert_eq!(
        browser.eval(
            "(f => [window.stField.isConnected, document.activeElement === f, f.value, \
             f.selectionStart, f.selectionEnd])(document.getElementById('st-in-name'))"
        ),
        json!([false, true, "Grace Hopper", 2, 5]),
        "[old field still in the page, focused, text, caret start, end]"
    );
    for _ in 0..2 {
        let _ = step.send(());
    }
    server.shutdown().unwrap();
}
