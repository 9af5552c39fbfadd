//! End to end in headless Chromium over the DevTools protocol: the demo page first shows
//! "Loading…", then "Ready: result=42" arrives as a push (no reload); Cancel ends the long
//! job in "Cancelled."; Retry starts it again. The final page is saved as
//! `<target>/browser-test/final.png` (`STREAMTREE_UPDATE_SCREENSHOT=1` also copies it to
//! `docs/screenshot.png`).
//!
//! A second test changes a `Select` in the page: the script posts the change, and the
//! rerun's result for the new region arrives as a push, again without a reload. A third
//! does it with page scripts disabled: "Apply changes" posts the page-wide form and the
//! reloaded page shows the new region (waits there are on page-load events). A fourth
//! changes the sales dashboard's region `Select` with its loads held at a gate: the
//! previous region's figures stay shown while the new one loads, then are replaced.
//!
//! Needs Debian's `chromium` (`.ci/run` installs it); set `STREAMTREE_SKIP_BROWSER=1` to
//! skip. Every wait is on a DOM mutation inside the page, with a timeout only as a
//! failure guard.

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
use streamtree::prelude::*;
use streamtree::{Runtime, serve};
use streamtree_tests::{QUICK_JOB_GATE, browser_demo};
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

/// Failure guard for one wait inside the page, in milliseconds.
const WAIT_MS: u64 = 20_000;

fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("chromium"))
        .find(|p| p.is_file())
}

/// Kills the browser we started and removes its profile, also when an assertion fails.
struct Browser {
    child: Child,
    profile: PathBuf,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// Starts headless Chromium on a fresh profile named after `test` (tests run in
/// parallel); returns it with its DevTools URL.
fn launch(binary: &Path, test: &str) -> (Browser, String) {
    let profile =
        std::env::temp_dir().join(format!("streamtree-chromium-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&profile);
    std::fs::create_dir_all(&profile).unwrap();
    let child = Command::new(binary)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=900,700",
            "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("about:blank")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("chromium starts");
    let mut browser = Browser { child, profile };
    let stderr = browser.child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    // Reads Chromium's log to the end so it never blocks on a full pipe.
    std::thread::spawn(move || {
        let mut tx = Some(tx);
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(url) = line.strip_prefix("DevTools listening on ")
                && let Some(tx) = tx.take()
            {
                let _ = tx.send(url.trim().to_owned());
            }
        }
    });
    let url = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("chromium prints its DevTools address");
    assert!(
        url.starts_with("ws://127.0.0.1:"),
        "DevTools must be on loopback: {url}"
    );
    (browser, url)
}

/// A DevTools connection to one page (a flattened target session).
struct Cdp {
    ws: WebSocket<MaybeTlsStream<TcpStream>>,
    next_id: u64,
    session: Option<String>,
    /// Events read while waiting for a reply, for [`Cdp::wait_event`].
    seen: Vec<Value>,
}

impl Cdp {
    fn connect(url: &str) -> Cdp {
        let (ws, _) = tungstenite::connect(url).expect("DevTools websocket");
        if let MaybeTlsStream::Plain(tcp) = ws.get_ref() {
            tcp.set_read_timeout(Some(Duration::from_millis(WAIT_MS * 3)))
                .unwrap();
        }
        Cdp {
            ws,
            next_id: 1,
            session: None,
            seen: Vec::new(),
        }
    }

    /// Sends a command and returns its result, skipping events in between.
    fn call(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let mut msg = json!({ "id": id, "method": method, "params": params });
        if let Some(s) = &self.session {
            msg["sessionId"] = json!(s);
        }
        self.ws.send(Message::text(msg.to_string())).unwrap();
        loop {
            let reply = self.ws.read().expect("a DevTools reply");
            let Message::Text(text) = reply else { continue };
            let reply: Value = serde_json::from_str(&text).unwrap();
            if reply["id"] == json!(id) {
                assert!(reply.get("error").is_none(), "{method} failed: {reply}");
                return reply["result"].clone();
            }
            if reply.get("method").is_some() {
                self.seen.push(reply);
            }
        }
    }

    /// Waits for the next protocol event named `method` (one already read counts once);
    /// the socket's read timeout is the failure guard.
    fn wait_event(&mut self, method: &str) {
        if let Some(at) = self.seen.iter().position(|e| e["method"] == json!(method)) {
            self.seen.drain(..=at);
            return;
        }
        self.seen.clear();
        loop {
            let Message::Text(text) = self.ws.read().expect("a DevTools event") else {
                continue;
            };
            let event: Value = serde_json::from_str(&text).unwrap();
            if event["method"] == json!(method) {
                return;
            }
        }
    }

    /// Without page scripts there are no observers to wait on: waits for page loads
    /// until `cond` holds.
    fn wait_loaded_until(&mut self, cond: &str) {
        loop {
            self.wait_event("Page.loadEventFired");
            if self.eval(&format!("!!document.body && ({cond})")) == json!(true) {
                return;
            }
        }
    }

    /// Navigates to `url` and waits until the main frame has navigated to a URL containing
    /// `until` (the server's first-visit page reloads itself once), reading the reply and
    /// the events together so the reload cannot slip past. Bounded by a deadline.
    fn navigate_until(&mut self, url: &str, until: &str) {
        let id = self.next_id;
        self.next_id += 1;
        let mut msg = json!({ "id": id, "method": "Page.navigate", "params": { "url": url } });
        if let Some(s) = &self.session {
            msg["sessionId"] = json!(s);
        }
        self.ws.send(Message::text(msg.to_string())).unwrap();
        let deadline = std::time::Instant::now() + Duration::from_millis(WAIT_MS * 3);
        let (mut replied, mut arrived) = (false, false);
        while !(replied && arrived) {
            assert!(
                std::time::Instant::now() < deadline,
                "no navigation to a URL with {until:?} (replied: {replied})"
            );
            let Message::Text(text) = self.ws.read().expect("a DevTools message") else {
                continue;
            };
            let reply: Value = serde_json::from_str(&text).unwrap();
            if reply["id"] == json!(id) {
                assert!(
                    reply.get("error").is_none(),
                    "Page.navigate failed: {reply}"
                );
                replied = true;
            } else if reply["method"] == "Page.frameNavigated"
                && reply["params"]["frame"]["parentId"].is_null()
                && reply["params"]["frame"]["url"]
                    .as_str()
                    .is_some_and(|u| u.contains(until))
            {
                arrived = true;
            }
        }
    }

    /// Evaluates `expression` in the page (awaiting a promise) and returns its value.
    fn eval(&mut self, expression: &str) -> Value {
        let result = self.call(
            "Runtime.evaluate",
            json!({ "expression": expression, "awaitPromise": true, "returnByValue": true }),
        );
        assert!(
            result.get("exceptionDetails").is_none(),
            "page script failed: {}",
            result["exceptionDetails"]
        );
        result["result"]["value"].clone()
    }

    /// Waits, on DOM mutations, until the JS condition `cond` holds.
    fn wait_until(&mut self, what: &str, cond: &str) {
        let script = format!(
            r#"new Promise((resolve, reject) => {{
                const ok = () => {{ try {{ return !!({cond}); }} catch (e) {{ return false; }} }};
                if (ok()) return resolve(true);
                const seen = new MutationObserver(() => {{ if (ok()) {{ seen.disconnect(); resolve(true); }} }});
                seen.observe(document, {{ subtree: true, childList: true, characterData: true, attributes: true }});
                setTimeout(() => reject(new Error({what:?} + " not seen; page text: " + document.body.innerText)), {WAIT_MS});
            }})"#
        );
        self.eval(&script);
    }

    fn wait_text(&mut self, text: &str) {
        let cond = format!("document.body && document.body.innerText.includes({text:?})");
        self.wait_until(text, &cond);
    }

    fn click(&mut self, key: &str) {
        let clicked = self.eval(&format!(
            r#"(() => {{ const b = document.querySelector('[data-st-key="{key}"]');
                if (!b || b.disabled) return false; b.click(); return true; }})()"#
        ));
        assert_eq!(clicked, json!(true), "button `{key}` is there and enabled");
    }
}

fn decode_base64(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("not base64: {c}"),
    };
    let bytes: Vec<u8> = text.bytes().filter(|&c| c != b'=').map(value).collect();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &v)| n | (u32::from(v) << (18 - 6 * i)));
        out.extend(&n.to_be_bytes()[1..chunk.len()]);
    }
    out
}

/// Chromium's path, or `None` when the test is to be skipped.
fn chromium_or_skip() -> Option<PathBuf> {
    let Some(binary) = chromium() else {
        if std::env::var_os("STREAMTREE_SKIP_BROWSER").is_some_and(|v| v == "1") {
            eprintln!("skipped: chromium is not installed and STREAMTREE_SKIP_BROWSER=1");
            return None;
        }
        panic!(
            "chromium is not installed: run `apt-get install -y chromium` (`.ci/run` does), \
             or set STREAMTREE_SKIP_BROWSER=1 to skip this test"
        );
    };
    Some(binary)
}

/// Opens `url` in a new page of the browser at `devtools`.
fn open_page(devtools: &str, url: &str) -> Cdp {
    let mut cdp = Cdp::connect(devtools);
    let target = cdp.call("Target.createTarget", json!({ "url": "about:blank" }));
    let attached = cdp.call(
        "Target.attachToTarget",
        json!({ "targetId": target["targetId"], "flatten": true }),
    );
    cdp.session = Some(attached["sessionId"].as_str().unwrap().to_owned());
    cdp.call("Page.enable", json!({}));
    if url.starts_with("http") {
        // A first visit gets a page that sets the session cookie and reloads with it.
        cdp.navigate_until(url, "st-visit");
    } else {
        cdp.call("Page.navigate", json!({ "url": url }));
    }
    cdp
}

#[test]
fn demo_page_live_in_headless_chromium() {
    let Some(binary) = chromium_or_skip() else {
        return;
    };
    QUICK_JOB_GATE.close();
    let server = serve(browser_demo)
        .bind(([127, 0, 0, 1], 0))
        .runtime(Runtime::builder().max_workers(8).build())
        .spawn()
        .unwrap();
    let (_browser, devtools) = launch(&binary, "demo");
    let mut cdp = open_page(&devtools, &format!("http://{}/", server.addr()));

    cdp.wait_text("Loading…");
    cdp.wait_until("the live script", "document.getElementById('st-root')");
    // A page reload would forget this.
    cdp.eval("window.stMarker = 'same page'");
    QUICK_JOB_GATE.open();
    cdp.wait_text("Ready: result=42");
    assert_eq!(cdp.eval("window.stMarker"), json!("same page"), "no reload");

    cdp.wait_text("step ");
    cdp.click("long-job-cancel");
    cdp.wait_text("Cancelled.");
    cdp.wait_until(
        "Retry shown",
        "document.querySelector('[data-st-key=\"long-job-retry\"]')",
    );
    cdp.click("long-job-retry");
    cdp.wait_until(
        "the long job running again",
        "!document.body.innerText.includes('Cancelled.') && document.body.innerText.includes('step ')",
    );
    assert_eq!(cdp.eval("window.stMarker"), json!("same page"), "no reload");
    assert_eq!(
        cdp.eval("document.getElementById('st-note').hidden"),
        json!(true),
        "no error note"
    );

    let shot = cdp.call("Page.captureScreenshot", json!({ "format": "png" }));
    let png = decode_base64(shot["data"].as_str().unwrap());
    assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
    let target_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).parent().unwrap();
    let out = target_dir.join("browser-test");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("final.png"), &png).unwrap();
    if std::env::var_os("STREAMTREE_UPDATE_SCREENSHOT").is_some_and(|v| v == "1") {
        let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs");
        std::fs::create_dir_all(&docs).unwrap();
        std::fs::write(docs.join("screenshot.png"), &png).unwrap();
    }
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
    let Some(binary) = chromium_or_skip() else {
        return;
    };
    let server = serve(region_app)
        .bind(([127, 0, 0, 1], 0))
        .runtime(Runtime::builder().max_workers(2).build())
        .spawn()
        .unwrap();
    let (_browser, devtools) = launch(&binary, "select");
    let mut cdp = open_page(&devtools, &format!("http://{}/", server.addr()));
    cdp.wait_text("sales of EU: 200");
    cdp.wait_until("the live script", "document.getElementById('st-root')");
    cdp.eval("window.stMarker = 'same page'");
    // What a user's pick does: the select's value changes, then `change` fires.
    cdp.eval(
        r#"(() => { const s = document.getElementById('st-in-region');
            s.value = 'Asia'; s.dispatchEvent(new Event('change', { bubbles: true })); })()"#,
    );
    cdp.wait_text("sales of Asia: 400");
    assert_eq!(cdp.eval("window.stMarker"), json!("same page"), "no reload");
    assert_eq!(
        cdp.eval("document.getElementById('st-in-region').value"),
        json!("Asia"),
        "the pushed page shows the new region selected"
    );
    assert_eq!(
        cdp.eval("document.getElementById('st-note').hidden"),
        json!(true),
        "no error note"
    );
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
    let Some(binary) = chromium_or_skip() else {
        return;
    };
    let server = serve(region_now_app)
        .bind(([127, 0, 0, 1], 0))
        .runtime(Runtime::builder().max_workers(2).build())
        .spawn()
        .unwrap();
    let (_browser, devtools) = launch(&binary, "nojs");
    let mut cdp = open_page(&devtools, "about:blank");
    cdp.call(
        "Emulation.setScriptExecutionDisabled",
        json!({ "value": true }),
    );
    cdp.call(
        "Page.navigate",
        json!({ "url": format!("http://{}/", server.addr()) }),
    );
    cdp.wait_loaded_until("document.body.innerText.includes('showing EU')");
    assert_eq!(
        cdp.eval("document.body.innerText.includes('Apply changes')"),
        json!(true),
        "without JavaScript the page offers Apply"
    );
    // Pick a region and press "Apply changes": a plain form post, a redirect, a load.
    cdp.eval(
        r#"(() => { document.getElementById('st-in-region').value = 'US';
            document.querySelector('button[name="apply"]').click(); })()"#,
    );
    cdp.wait_loaded_until(
        "document.body.innerText.includes('showing US') && \
         document.getElementById('st-in-region').value === 'US'",
    );
    server.shutdown().unwrap();
}

#[allow(dead_code)]
#[path = "../examples/dashboard.rs"]
mod dashboard;

#[test]
fn dashboard_select_keeps_the_previous_region_until_the_new_one_arrives_in_headless_chromium() {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::mpsc::channel;
    use std::sync::{Arc, Mutex};

    let Some(binary) = chromium_or_skip() else {
        return;
    };
    // Each load stops before its last step until the test lets it through, so the page's
    // in-between state (old figures, new region loading) stays until it has been seen.
    let (reached_tx, reached) = channel::<String>();
    let (open, open_rx) = channel::<()>();
    let open_rx = Mutex::new(open_rx);
    let guard = Duration::from_millis(WAIT_MS);
    let step: dashboard::Step = Arc::new(move |_, region, i| {
        if i == dashboard::STEPS - 1 {
            let _ = reached_tx.send(region.to_owned());
            // Bounded: a failing test does not strand the worker.
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
    let (_browser, devtools) = launch(&binary, "dashboard");
    let mut cdp = open_page(&devtools, &format!("http://{}/", server.addr()));
    let at_gate = |want: &str| {
        let got = reached
            .recv_timeout(guard)
            .unwrap_or_else(|_| panic!("the load of {want} never reached the gate"));
        assert_eq!(got, want);
    };

    at_gate("North");
    cdp.wait_text("Loading North, 7 days: step 4 of 4");
    open.send(()).unwrap();
    cdp.wait_text("North, last 7 days; loaded at T1");
    cdp.wait_until("the live script", "document.getElementById('st-root')");
    cdp.eval("window.stMarker = 'same page'");

    // A user's pick: the select's value changes, then `change` fires.
    cdp.eval(
        r#"(() => { const s = document.getElementById('st-in-region');
            s.value = 'East'; s.dispatchEvent(new Event('change', { bubbles: true })); })()"#,
    );
    at_gate("East");
    cdp.wait_text("Showing North, last 7 days, while East, last 7 days, loads…");
    assert_eq!(
        cdp.eval("document.body.textContent.includes('Units per day, North')"),
        json!(true),
        "North's figures stay shown while East loads"
    );
    assert_eq!(
        cdp.eval("document.getElementById('st-in-region').value"),
        json!("East"),
        "the pushed page shows the new region selected"
    );

    open.send(()).unwrap();
    cdp.wait_text("East, last 7 days; loaded at T2");
    assert_eq!(
        cdp.eval(
            "document.body.textContent.includes('Units per day, East') && \
             !document.body.textContent.includes('Units per day, North')"
        ),
        json!(true),
        "East's figures replace North's"
    );
    assert_eq!(cdp.eval("window.stMarker"), json!("same page"), "no reload");
    assert_eq!(
        cdp.eval("document.getElementById('st-note').hidden"),
        json!(true),
        "no error note"
    );
    server.shutdown().unwrap();
}
