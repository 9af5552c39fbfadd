//! The browser tests' driver: Debian's headless `chromium` under its `chromedriver`, spoken
//! to over WebDriver with `fantoccini`. A test file includes it with
//! `#[path = "driver.rs"] mod driver;` and starts one [`Browser`] per test.
//!
//! - [`Browser::start`] picks a free loopback port, starts chromedriver on it and opens a
//!   headless session on a fresh profile; dropping the `Browser` ends the session, stops
//!   chromedriver and the browser and removes the profile, also when the test panics.
//! - Every wait happens inside the page, on DOM mutations ([`Browser::wait_for`]), with a
//!   timeout only as a failure guard; every WebDriver command is bounded by [`GUARD`].
//! - `STREAMTREE_SKIP_BROWSER=1` is the only way to skip: without chromium or chromedriver
//!   the tests fail and say how to install them.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};

/// The failure guard of one wait inside the page, and of one WebDriver command.
pub const GUARD: Duration = Duration::from_secs(20);

/// What a browser starts with, besides the headless basics.
#[derive(Clone, Debug)]
pub struct Options {
    /// Names the profile directory (tests run in parallel).
    pub name: &'static str,
    /// The viewport's size in CSS pixels (and a screenshot's in pixels).
    pub size: (u32, u32),
    /// Page scripts off (content setting), as for a visitor without JavaScript; scripts the
    /// test runs through WebDriver still work.
    pub javascript: bool,
}

impl Options {
    /// A 900 × 700 window with page scripts on.
    pub fn new(name: &'static str) -> Options {
        Options {
            name,
            size: (900, 700),
            javascript: true,
        }
    }
}

/// One headless Chromium session and the chromedriver that runs it.
pub struct Browser {
    /// `Some` until dropped; `close` consumes it.
    client: Option<Client>,
    /// Drives the client's futures; current-thread, so nothing runs between calls.
    rt: tokio::runtime::Runtime,
    driver: Child,
    profile: PathBuf,
}

/// `name` on `PATH`, if installed.
fn installed(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// A loopback port nobody listens on now (the OS picks it; chromedriver binds it next).
fn free_port() -> u16 {
    TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

/// Starts chromedriver on a free loopback port and returns it once it says it listens.
fn start_chromedriver(binary: &Path) -> (Child, u16) {
    // A port taken between `free_port` and chromedriver's bind makes it exit; try again.
    for _ in 0..3 {
        let port = free_port();
        let mut child = Command::new(binary)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        // Reads chromedriver's log to the end so it never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line.contains("started successfully")
                    && let Some(tx) = tx.take()
                {
                    let _ = tx.send(());
                }
            }
        });
        if rx.recv_timeout(GUARD).is_ok() {
            return (child, port);
        }
        let _ = child.kill();
        let _ = child.wait();
    }
    panic!("chromedriver did not start on a free port (three tries, {GUARD:?} each)");
}

impl Browser {
    /// A headless Chromium session, or `None` when `STREAMTREE_SKIP_BROWSER=1` and chromium
    /// or chromedriver is missing. Panics (with how to install them) when they are missing
    /// otherwise.
    pub fn start(options: Options) -> Option<Browser> {
        let (Some(chromium), Some(chromedriver)) =
            (installed("chromium"), installed("chromedriver"))
        else {
            if std::env::var_os("STREAMTREE_SKIP_BROWSER").is_some_and(|v| v == "1") {
                eprintln!(
                    "skipped: chromium or chromedriver is missing and STREAMTREE_SKIP_BROWSER=1"
                );
                return None;
            }
            panic!(
                "chromium or chromedriver is not installed: run \
                 `apt-get install -y chromium chromium-driver` (`.ci/run` does), \
                 or set STREAMTREE_SKIP_BROWSER=1 to skip the browser tests"
            );
        };
        let profile = std::env::temp_dir().join(format!(
            "streamtree-chromium-{}-{}",
            std::process::id(),
            options.name
        ));
        let _ = std::fs::remove_dir_all(&profile);
        std::fs::create_dir_all(&profile).expect("a profile directory");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime for the WebDriver client");
        let (driver, port) = start_chromedriver(&chromedriver);
        let (width, height) = options.size;
        let mut chrome = json!({
            "binary": chromium,
            "args": [
                // As root in CI Chromium needs `--no-sandbox`; there is no GPU.
                "--headless=new", "--no-sandbox", "--disable-gpu",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
                "--hide-scrollbars",
                format!("--window-size={width},{height}"),
                format!("--user-data-dir={}", profile.display()),
            ],
        });
        if !options.javascript {
            chrome["prefs"] = json!({ "profile.managed_default_content_settings.javascript": 2 });
        }
        let caps = json!({ "browserName": "chrome", "goog:chromeOptions": chrome });
        let Value::Object(caps) = caps else {
            unreachable!("a JSON object")
        };
        // Own the child and profile before connecting, so a failure below cleans up.
        let mut browser = Browser {
            client: None,
            rt,
            driver,
            profile,
        };
        let url = format!("http://127.0.0.1:{port}");
        let client = browser.run("open a session", async {
            ClientBuilder::new(HttpConnector::new())
                .capabilities(caps)
                .connect(&url)
                .await
                .map_err(|e| e.to_string())
        });
        browser.client = Some(client);
        // A wait's own guard (GUARD) fires inside the page before WebDriver's does.
        let timeouts = fantoccini::wd::TimeoutConfiguration::new(
            Some(GUARD * 2),
            Some(GUARD * 2),
            Some(Duration::ZERO),
        );
        browser.cmd("set timeouts", |c| async move {
            c.update_timeouts(timeouts).await
        });
        // `--window-size` sizes the window, not the page: grow it by the browser's own
        // frame so the viewport (and a screenshot) is exactly `size`.
        let frame = browser.eval("[outerWidth - innerWidth, outerHeight - innerHeight]");
        let grow = |i: usize| u32::try_from(frame[i].as_u64().unwrap_or(0)).unwrap_or(0);
        let (outer_w, outer_h) = (width + grow(0), height + grow(1));
        browser.cmd("size the window", |c| async move {
            c.set_window_size(outer_w, outer_h).await
        });
        assert_eq!(
            browser.eval("[innerWidth, innerHeight]"),
            json!([width, height]),
            "the viewport is the size asked for"
        );
        Some(browser)
    }

    /// Runs `fut` to completion within [`GUARD`], panicking with `what` on an error.
    fn run<T, E: std::fmt::Display>(
        &self,
        what: &str,
        fut: impl Future<Output = Result<T, E>>,
    ) -> T {
        match self
            .rt
            .block_on(async { tokio::time::timeout(GUARD * 3, fut).await })
        {
            Ok(Ok(value)) => value,
            Ok(Err(e)) => panic!("WebDriver: {what} failed: {e}"),
            Err(_) => panic!("WebDriver: {what} took longer than {:?}", GUARD * 3),
        }
    }

    /// Runs one command on the session's client.
    fn cmd<T, F>(&self, what: &str, f: impl FnOnce(Client) -> F) -> T
    where
        F: Future<Output = Result<T, fantoccini::error::CmdError>>,
    {
        let client = self.client.clone().expect("an open session");
        self.run(what, f(client))
    }

    /// Navigates to `url` and waits for its page to load.
    pub fn goto(&self, url: &str) {
        let url = url.to_owned();
        self.cmd(
            &format!("go to {url}"),
            |c| async move { c.goto(&url).await },
        );
    }

    /// Opens a streamtree app served at `addr`: the first visit sets the session cookie
    /// (its page would reload itself), then the app's own page loads with it.
    pub fn open_app(&self, addr: SocketAddr) {
        self.goto(&format!("http://{addr}/"));
        // Navigating again replaces the first-visit page before or after its reload fires,
        // so no reload is left to arrive while the test looks at the page.
        self.goto(&format!("http://{addr}/?st-visit"));
        assert_eq!(
            self.eval("document.getElementById('st-form') !== null"),
            json!(true),
            "the app's page, not the first visit's: {}",
            self.eval("document.body.innerText")
        );
    }

    /// Evaluates the JavaScript expression `js` in the page and returns its value.
    pub fn eval(&self, js: &str) -> Value {
        let script = format!("return ({js});");
        self.cmd(&format!("evaluate `{js}`"), |c| async move {
            c.execute(&script, Vec::new()).await
        })
    }

    /// Runs the asynchronous script `script` in the page with `args` (the callback comes
    /// last, after them) and returns the value it calls back with; `what` names it in a
    /// failure. Within WebDriver's script timeout (twice [`GUARD`]), so `script`'s own
    /// guard should be at most [`GUARD`].
    pub fn eval_async(&self, what: &str, script: &str, args: Vec<Value>) -> Value {
        let script = script.to_owned();
        self.cmd(
            what,
            |c| async move { c.execute_async(&script, args).await },
        )
    }

    /// Waits, on DOM mutations in the page, until the JavaScript condition `cond` holds;
    /// fails after `timeout` with `what` and the page's text.
    pub fn wait_for(&self, what: &str, cond: &str, timeout: Duration) {
        assert!(
            timeout < GUARD * 2,
            "a wait in the page ends before WebDriver's script timeout ({:?})",
            GUARD * 2
        );
        let script = format!(
            r#"const done = arguments[arguments.length - 1];
            const ok = () => {{ try {{ return !!({cond}); }} catch (e) {{ return false; }} }};
            if (ok()) return done(null);
            const seen = new MutationObserver(() => {{
                if (ok()) {{ seen.disconnect(); clearTimeout(guard); done(null); }}
            }});
            seen.observe(document, {{ subtree: true, childList: true, characterData: true, attributes: true }});
            const guard = setTimeout(() => {{
                seen.disconnect();
                done(document.body ? document.body.innerText : "(no body)");
            }}, {ms});"#,
            ms = timeout.as_millis()
        );
        let failed = self.eval_async(&format!("wait for {what}"), &script, Vec::new());
        if let Value::String(text) = failed {
            panic!("{what}: not seen within {timeout:?}; page text:\n{text}");
        }
    }

    /// Waits until a page load makes the JavaScript condition `cond` hold, for pages
    /// whose scripts are off: there nothing in the page can wait (no observers, no timers),
    /// so this asks again until [`GUARD`] runs out. Each ask is one WebDriver command, and
    /// chromedriver holds every command while a navigation is pending, so the asks are a
    /// few round trips, not a spin: one before the click's navigation starts, one after
    /// the new page has loaded.
    pub fn wait_loaded(&self, what: &str, cond: &str) {
        let deadline = std::time::Instant::now() + GUARD;
        let cond = format!("document.readyState === 'complete' && !!({cond})");
        while self.eval(&cond) != json!(true) {
            assert!(
                std::time::Instant::now() < deadline,
                "{what}: not loaded within {GUARD:?}; page text:\n{}",
                self.eval("document.body ? document.body.innerText : '(no body)'")
            );
        }
    }

    /// Waits until the page's text contains `text` ([`GUARD`]).
    pub fn wait_text(&self, text: &str) {
        let cond = format!("document.body && document.body.innerText.includes({text:?})");
        self.wait_for(text, &cond, GUARD);
    }

    /// Clicks the element matching the CSS `selector`, as a user would (WebDriver's
    /// element click: scrolled into view, hit-tested, and waited on if it navigates).
    /// Fails when the element is disabled. A push may replace the element between finding
    /// and clicking it (a stale element): then it is found again, a few times at most.
    pub fn click(&self, selector: &str) {
        for _ in 0..3 {
            let css = selector.to_owned();
            let clicked = self.cmd(&format!("click `{selector}`"), |c| async move {
                let attempt = async {
                    let target = c.find(Locator::Css(&css)).await?;
                    if !target.is_enabled().await? {
                        return Ok(Some(false));
                    }
                    target.click().await.map(|()| Some(true))
                };
                match attempt.await {
                    Err(e) if e.is_stale_element_reference() => Ok(None),
                    other => other,
                }
            });
            match clicked {
                Some(true) => return,
                Some(false) => panic!("`{selector}` is disabled"),
                None => continue,
            }
        }
        panic!("`{selector}` was replaced by a push three times while being clicked");
    }

    /// Chooses `value` in the `<select>` matching `selector`, as a user would.
    pub fn select(&self, selector: &str, value: &str) {
        let (selector, value) = (selector.to_owned(), value.to_owned());
        self.cmd(&format!("select {value} in `{selector}`"), |c| async move {
            c.find(Locator::Css(&selector))
                .await?
                .select_by_value(&value)
                .await
        });
    }

    /// Saves a PNG of the viewport to `path` (creating its directory) and returns it.
    pub fn screenshot(&self, path: &Path) -> Vec<u8> {
        let png = self.cmd("take a screenshot", |c| async move { c.screenshot().await });
        assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("the screenshot's directory");
        }
        std::fs::write(path, &png).expect("the screenshot is saved");
        png
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Ending the session makes chromedriver quit the browser; bounded, so a hung
        // browser still gets to the kill below.
        if let Some(client) = self.client.take() {
            let _ = self
                .rt
                .block_on(async { tokio::time::timeout(GUARD, client.close()).await });
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}
