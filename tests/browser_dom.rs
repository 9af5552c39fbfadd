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
//! Needs `/usr/bin/chromium` and `/usr/bin/chromedriver` (`.ci/run` installs them); set
//! `STREAMTREE_SKIP_BROWSER=1` to skip. Every wait is on a DOM mutation inside the page
//! (or on the driver's own start line), with a timeout only as a failure guard.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::channel;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder};
use serde_json::{Value, json};
use streamtree::{Runtime, serve};
use streamtree_tests::{LONG_JOB_GATE, QUICK_JOB_GATE, browser_demo};

/// Failure guard for one wait, in milliseconds.
const WAIT_MS: u64 = 20_000;
const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// `false` (after saying so) when `STREAMTREE_SKIP_BROWSER=1`; panics with the fix when
/// the browser is missing otherwise.
fn browser_wanted() -> bool {
    if std::env::var_os("STREAMTREE_SKIP_BROWSER").is_some_and(|v| v == "1") {
        eprintln!("skipped: STREAMTREE_SKIP_BROWSER=1");
        return false;
    }
    for path in [CHROMIUM, CHROMEDRIVER] {
        assert!(
            Path::new(path).is_file(),
            "{path} is missing: run `apt-get install -y chromium chromium-driver` (`.ci/run` \
             does), or set STREAMTREE_SKIP_BROWSER=1 to skip this test"
        );
    }
    true
}

/// Kills the chromedriver we started (and with it its browsers), also when a test fails.
struct Driver {
    child: Child,
    url: String,
    profile: std::path::PathBuf,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// Starts chromedriver on a free loopback port and waits for its "started" line.
fn driver(test: &str) -> Driver {
    let port = TcpListener::bind(("127.0.0.1", 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let stdout = child.stdout.take().unwrap();
    let (started_tx, started) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { return };
            if line.contains("started successfully") {
                let _ = started_tx.send(());
            }
        }
    });
    let profile =
        std::env::temp_dir().join(format!("streamtree-dom-{}-{test}", std::process::id()));
    let driver = Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
        profile,
    };
    started
        .recv_timeout(Duration::from_millis(WAIT_MS))
        .expect("chromedriver says it started");
    driver
}

/// A headless Chromium session of `driver`, at the app's page at `addr` (after the
/// first-visit page that sets the session cookie).
async fn open(driver: &Driver, addr: std::net::SocketAddr) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": CHROMIUM,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     format!("--user-data-dir={}", driver.profile.display())],
        }),
    );
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    let client = ClientBuilder::new(connector)
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("a WebDriver session");
    let guard = Duration::from_millis(2 * WAIT_MS);
    client
        .update_timeouts(fantoccini::wd::TimeoutConfiguration::new(
            Some(guard),
            Some(guard),
            None,
        ))
        .await
        .unwrap();
    // The first visit sets the cookie; its return (the page reloads itself with this
    // query) creates the session.
    client.goto(&format!("http://{addr}/")).await.unwrap();
    client
        .goto(&format!("http://{addr}/?st-visit"))
        .await
        .unwrap();
    wait_until(
        &client,
        "the live page",
        "document.getElementById('st-root')",
    )
    .await;
    client
}

/// Waits, on DOM mutations, until the JS condition `cond` holds.
async fn wait_until(client: &Client, what: &str, cond: &str) {
    let script = format!(
        r#"const done = arguments[arguments.length - 1];
        const ok = () => {{ try {{ return !!({cond}); }} catch (e) {{ return false; }} }};
        if (ok()) return done(true);
        const seen = new MutationObserver(() => {{ if (ok()) {{ seen.disconnect(); done(true); }} }});
        seen.observe(document, {{ subtree: true, childList: true, characterData: true, attributes: true }});
        setTimeout(() => {{ seen.disconnect(); done(document.body ? document.body.innerText : ""); }}, {WAIT_MS});"#
    );
    let got = client.execute_async(&script, vec![]).await.unwrap();
    assert_eq!(got, json!(true), "{what} not seen; page text: {got}");
}

async fn wait_text(client: &Client, text: &str) {
    let cond = format!("document.body && document.body.innerText.includes({text:?})");
    wait_until(client, text, &cond).await;
}

/// Clicks the button keyed `key` (it must be there and enabled).
async fn click(client: &Client, key: &str) {
    let script = format!(
        r#"const b = document.querySelector('[data-st-key="{key}"]');
        if (!b || b.disabled) return false; b.click(); return true;"#
    );
    let clicked = client.execute(&script, vec![]).await.unwrap();
    assert_eq!(clicked, json!(true), "button `{key}` is there and enabled");
}

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
async fn same_as_get(client: &Client, what: &str) {
    for _ in 0..10 {
        let got: Value = client
            .execute_async(COMPARE, vec![json!(WAIT_MS)])
            .await
            .unwrap();
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

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

#[test]
fn the_gallery_dom_equals_a_fresh_render_after_pushes() {
    if !browser_wanted() {
        return;
    }
    QUICK_JOB_GATE.close();
    LONG_JOB_GATE.close();
    let server = serve(browser_demo)
        .bind(([127, 0, 0, 1], 0))
        .runtime(Runtime::builder().max_workers(8).build())
        .spawn()
        .unwrap();
    let driver = driver("gallery");
    block_on(async {
        let c = open(&driver, server.addr()).await;
        wait_text(&c, "Loading…").await;
        same_as_get(&c, "loading").await;
        QUICK_JOB_GATE.open();
        wait_text(&c, "Ready: result=42").await;
        wait_text(&c, "step 1 of 10").await;
        same_as_get(&c, "ready, long job at its first step").await;
        click(&c, "long-job-cancel").await;
        wait_text(&c, "Cancelled.").await;
        same_as_get(&c, "cancelled").await;
        click(&c, "long-job-retry").await;
        wait_until(
            &c,
            "the long job running again",
            "!document.body.innerText.includes('Cancelled.') && document.body.innerText.includes('step 1 of 10')",
        )
        .await;
        same_as_get(&c, "retried").await;
        // Every progress tick of the job is pushed (mostly as patches) up to its end.
        LONG_JOB_GATE.open();
        wait_text(&c, "Finished all 10 steps.").await;
        same_as_get(&c, "finished").await;
        let note_hidden = c
            .execute("return document.getElementById('st-note').hidden", vec![])
            .await
            .unwrap();
        assert_eq!(note_hidden, json!(true), "no error note (no failed patch)");
        c.close().await.unwrap();
    });
    LONG_JOB_GATE.close();
    server.shutdown().unwrap();
}

#[allow(dead_code)]
#[path = "../examples/dashboard.rs"]
mod dashboard;

#[test]
fn the_dashboard_dom_equals_a_fresh_render_after_pushes() {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::{Arc, Mutex};

    if !browser_wanted() {
        return;
    }
    // Each load stops before its last step until the test lets it through.
    let (reached_tx, reached) = channel::<String>();
    let (open_gate, open_rx) = channel::<()>();
    let open_rx = Mutex::new(open_rx);
    let guard = Duration::from_millis(WAIT_MS);
    let step: dashboard::Step = Arc::new(move |_, region, i| {
        if i == dashboard::STEPS - 1 {
            let _ = reached_tx.send(region.to_owned());
            let _ = open_rx.lock().unwrap().recv_timeout(guard);
        }
        false
    });
    let count = AtomicU32::new(0);
    let clock: dashboard::Clock =
        Arc::new(move || format!("T{}", count.fetch_add(1, Ordering::SeqCst) + 1));
    let load = dashboard::loader(step, clock);
    let server = serve(move || dashboard::Dashboard(load.clone()))
        .bind(([127, 0, 0, 1], 0))
        .runtime(Runtime::builder().max_workers(2).build())
        .spawn()
        .unwrap();
    let at_gate = |want: &str| {
        let got = reached
            .recv_timeout(guard)
            .unwrap_or_else(|_| panic!("the load of {want} never reached the gate"));
        assert_eq!(got, want);
    };
    let driver = driver("dashboard");
    block_on(async {
        let c = open(&driver, server.addr()).await;
        at_gate("North");
        wait_text(&c, "Loading North, 7 days: step 4 of 4").await;
        same_as_get(&c, "North loading").await;
        open_gate.send(()).unwrap();
        wait_text(&c, "North, last 7 days; loaded at T1").await;
        same_as_get(&c, "North loaded").await;
        c.execute(
            r#"const s = document.getElementById('st-in-region');
            s.value = 'East'; s.dispatchEvent(new Event('change', { bubbles: true }));"#,
            vec![],
        )
        .await
        .unwrap();
        at_gate("East");
        wait_text(&c, "while East, last 7 days, loads…").await;
        same_as_get(&c, "East loading beside North's figures").await;
        open_gate.send(()).unwrap();
        wait_text(&c, "East, last 7 days; loaded at T2").await;
        same_as_get(&c, "East loaded").await;
        c.close().await.unwrap();
    });
    server.shutdown().unwrap();
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
                let _ = steps
                    .lock()
                    .unwrap()
                    .recv_timeout(Duration::from_millis(WAIT_MS));
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
    if !browser_wanted() {
        return;
    }
    let (step, steps) = channel();
    let server = serve(field_app(steps))
        .bind(([127, 0, 0, 1], 0))
        .spawn()
        .unwrap();
    let driver = driver("field");
    block_on(async {
        let c = open(&driver, server.addr()).await;
        wait_text(&c, "tick=0;").await;
        wait_until(&c, "the field", "document.getElementById('st-in-name')").await;
        // Typing, not yet applied (no `change`): the text exists only in the browser.
        c.execute(
            r#"const f = document.getElementById('st-in-name');
            f.focus(); f.value = 'Grace Hopper'; f.setSelectionRange(2, 5); window.stField = f;"#,
            vec![],
        )
        .await
        .unwrap();
        step.send(()).unwrap();
        wait_until(
            &c,
            "the tick in the field's placeholder",
            "document.getElementById('st-in-name').placeholder === 'tick=1;'",
        )
        .await;
        let got = c
            .execute(
                r#"const f = document.getElementById('st-in-name');
                return [window.stField.isConnected, document.activeElement === f, f.value,
                        f.selectionStart, f.selectionEnd];"#,
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(
            got,
            json!([false, true, "Grace Hopper", 2, 5]),
            "[old field still in the page, focused, text, caret start, end]"
        );
        c.close().await.unwrap();
    });
    for _ in 0..2 {
        let _ = step.send(());
    }
    server.shutdown().unwrap();
}
