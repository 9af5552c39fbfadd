//! Shared components and element trees for the integration tests.

// The seed examples, compiled here once so every test binary can use their components.
#[allow(dead_code, missing_docs)]
#[path = "../examples/async_bg.rs"]
pub mod async_bg;
#[allow(dead_code, missing_docs)]
#[path = "../examples/async_loader_demo.rs"]
pub mod async_loader_demo;
#[allow(dead_code, missing_docs)]
#[path = "../examples/async_ordered_loader_demo.rs"]
pub mod async_ordered_loader_demo;
#[allow(dead_code, missing_docs)]
#[path = "../examples/dashboard.rs"]
pub mod dashboard;
#[allow(dead_code, missing_docs)]
#[path = "../examples/delayed_loading.rs"]
pub mod delayed_loading;
#[allow(dead_code, missing_docs)]
#[path = "../examples/distributed.rs"]
pub mod distributed;
#[allow(dead_code, missing_docs)]
#[path = "../examples/keep_previous.rs"]
pub mod keep_previous;
#[allow(dead_code, missing_docs)]
#[path = "../examples/progress_cancel.rs"]
pub mod progress_cancel;
#[allow(dead_code, missing_docs)]
#[path = "../examples/refresh.rs"]
pub mod refresh;
#[allow(dead_code, missing_docs)]
#[path = "../examples/retry.rs"]
pub mod retry;
#[allow(dead_code, missing_docs)]
#[path = "../examples/shared_task.rs"]
pub mod shared_task;
#[allow(dead_code, missing_docs)]
#[path = "../examples/timeout.rs"]
pub mod timeout;

/// A real `nats-server` for the NATS backend's tests.
pub mod nats;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Duration;

use streamtree::prelude::*;

/// A component with a prop.
#[component]
pub fn Greeting(name: String) -> Element {
    Text(format!("Hello, {name}!"))
}

/// A component whose body panics with `message`.
#[component]
pub fn Boom(message: String) -> Element {
    panic!("{message}")
}

/// Every element kind once, nested, with keys and options: the gallery the snapshots
/// pin for each backend.
pub fn every_element() -> Element {
    Page([
        VStack([
            Text("plain text"),
            Text("two\nlines"),
            Markdown("# Heading\n\nSome *emphasis*, **strong** and `code`.\n\n- one\n- two\n\n1. first\n2. second\n\n[a link](https://example.com)"),
            Divider(),
        ])
        .key("intro"),
        HStack([
            Button("Run").key("run"),
            Button("Stop").key("stop").disabled(true),
            Button("Unkeyed"),
        ]),
        Card([
            ProgressBar(0.0),
            ProgressBar(0.5).message("half way"),
            ProgressBar(1.5).message("clamped"),
            ProgressBar(-1.0),
            ProgressBar(f64::NAN).message("indeterminate"),
        ])
        .key("progress"),
        Fragment([Greeting("Grace".to_string()), Greeting("Ada".to_string()).key("ada")]),
        ErrorBox("something went wrong"),
    ])
    .title("Every element")
}

/// Hostile input in every place text can go.
pub fn hostile() -> Element {
    Page([
        Text("<script>alert('x')</script> & \"quotes\""),
        Markdown("<script>alert(1)</script>\n\n<b>bold?</b> inline <i>html</i>\n\n[click](javascript:alert(1)) [ok](https://ok.example) [mail](mailto:a@b.c) [rel](/docs) ![img](javascript:evil) [tab](java\tscript:x)"),
        Button("<b>label</b>").key("k\"><script>"),
        ProgressBar(0.3).message("<img src=x onerror=alert(1)>"),
        ErrorBox("<error & stuff>"),
    ])
    .title("</title><script>alert(1)</script>")
}

/// Siblings around a component that panics.
pub fn contained_panic() -> Element {
    VStack([
        Text("before"),
        Boom("kaboom: <bad> input".to_string()),
        Greeting("after".to_string()),
    ])
}

/// A gate tasks wait on; tests open it to let a job finish exactly when they choose.
pub struct Gate {
    open: Mutex<bool>,
    changed: Condvar,
}

impl Gate {
    /// A gate, open or shut.
    pub const fn new(open: bool) -> Gate {
        Gate {
            open: Mutex::new(open),
            changed: Condvar::new(),
        }
    }

    /// Lets every waiter through, now and later.
    pub fn open(&self) {
        *self.open.lock().unwrap_or_else(PoisonError::into_inner) = true;
        self.changed.notify_all();
    }

    /// Makes later waiters block until the next [`open`](Self::open).
    pub fn close(&self) {
        *self.open.lock().unwrap_or_else(PoisonError::into_inner) = false;
    }

    /// Blocks until the gate is open (true) or `give_up` says so (false). `give_up` is a
    /// task's cancel check, asked every 20 ms: cooperative cancel has no wake-up of its own.
    pub fn wait(&self, give_up: impl Fn() -> bool) -> bool {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        while !*open {
            if give_up() {
                return false;
            }
            open = self
                .changed
                .wait_timeout(open, Duration::from_millis(20))
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        true
    }
}

/// Holds the loader of [`browser_demo`]; open unless a test closes it.
pub static QUICK_JOB_GATE: Gate = Gate::new(true);

/// Holds every step of the long job of [`browser_demo`]; shut unless a test opens it, so
/// the job runs until cancelled.
pub static LONG_JOB_GATE: Gate = Gate::new(false);

/// The page the browser test serves: the demo gallery's own components (`LoaderDemo`,
/// `LongJob`, the task panel) with their work held by [`QUICK_JOB_GATE`] and
/// [`LONG_JOB_GATE`], so the test decides when each state is reached.
pub fn browser_demo() -> Element {
    let loader: async_loader_demo::Loader = Arc::new(|key| {
        QUICK_JOB_GATE.wait(|| is_task_cancel_requested(key));
        Ok(42)
    });
    let step: progress_cancel::Step = Arc::new(|_| {
        LONG_JOB_GATE.wait(|| is_task_cancel_requested(progress_cancel::LONG_JOB));
    });
    Page([
        async_loader_demo::LoaderDemo(loader),
        progress_cancel::LongJob(step),
        progress_cancel::TaskDebugPanel(),
    ])
    .title("streamtree gallery")
}

/// How long any single wait in a test may take before the test fails.
pub const LONG: Duration = Duration::from_secs(20);

/// Waits (on `sub`'s notifications) until `cond` holds, at most [`LONG`] in all.
pub fn wait_until(sub: &streamtree::Subscription, mut cond: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + LONG;
    while !cond() {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        assert!(
            sub.wait_timeout(left),
            "the condition did not hold within {LONG:?}"
        );
    }
}

/// Waits until `s` has no Pending or Running task, at most [`LONG`].
pub fn idle(s: &Session) {
    assert!(
        s.wait_idle(LONG),
        "the session's tasks finish within {LONG:?}"
    );
}

/// The sales dashboard (`examples/dashboard.rs`) served on loopback (two workers), each
/// load held before its last step until the test lets it through, so that a page's
/// in-between state (a region loading) stays until it has been seen. Its clock counts
/// the loads: `T1`, `T2`, …
pub struct HeldDashboard {
    /// The server; the app is at `server.addr()`.
    pub server: streamtree::Running,
    /// Says which region's load is held at the gate.
    reached: Receiver<String>,
    /// One message lets one held load through.
    open: Sender<()>,
}

impl HeldDashboard {
    /// Serves the dashboard with its loads held.
    pub fn serve() -> HeldDashboard {
        let (reached_tx, reached) = channel::<String>();
        let (open, open_rx) = channel::<()>();
        let open_rx = Mutex::new(open_rx);
        let step: dashboard::Step = Arc::new(move |_, region, i| {
            if i == dashboard::STEPS - 1 {
                let _ = reached_tx.send(region.to_owned());
                // Bounded: a failing test does not strand the worker.
                let _ = open_rx.lock().unwrap().recv_timeout(LONG);
            }
            false
        });
        let count = AtomicU32::new(0);
        let clock: dashboard::Clock =
            Arc::new(move || format!("T{}", count.fetch_add(1, Ordering::SeqCst) + 1));
        let load = dashboard::loader(step, clock);
        let server = streamtree::serve(move || dashboard::Dashboard(load.clone()))
            .bind(([127, 0, 0, 1], 0))
            .runtime(streamtree::Runtime::builder().max_workers(2).build())
            .spawn()
            .unwrap();
        HeldDashboard {
            server,
            reached,
            open,
        }
    }

    /// Waits (at most [`LONG`]) until a load is held at the gate, and checks it is
    /// `region`'s.
    pub fn at_gate(&self, region: &str) {
        let got = self
            .reached
            .recv_timeout(LONG)
            .unwrap_or_else(|_| panic!("the load of {region} never reached the gate"));
        assert_eq!(got, region);
    }

    /// Lets the held load through.
    pub fn release(&self) {
        self.open
            .send(())
            .expect("the dashboard's loads are served");
    }
}
