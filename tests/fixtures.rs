//! Shared components and element trees for the integration tests.

use std::sync::{Condvar, Mutex, PoisonError};
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

/// Holds the quick job of [`browser_demo`]; open unless a test closes it.
pub static QUICK_JOB_GATE: Gate = Gate::new(true);

/// Steps of the long job of [`browser_demo`], 50 ms each.
pub const LONG_JOB_STEPS: u32 = 600;

/// The long job: reports progress every step and stops when asked to cancel.
fn long_job(ctx: &TaskContext) -> u32 {
    for step in 0..LONG_JOB_STEPS {
        if ctx.is_cancel_requested() {
            ctx.cancelled();
            return step;
        }
        let fraction = f64::from(step) / f64::from(LONG_JOB_STEPS);
        ctx.set_progress((fraction, format!("step {step} of {LONG_JOB_STEPS}")));
        // The job's own pace (simulated work); no test orders events by it.
        std::thread::sleep(Duration::from_millis(50));
    }
    LONG_JOB_STEPS
}

/// The app the browser test serves: a quick job held by [`QUICK_JOB_GATE`] that shows
/// "Ready: result=42", and a long cooperative job with progress, a `Cancel` button
/// ("Cancelled.") and a `Retry` button that dismisses and resubmits it.
pub fn browser_demo() -> Element {
    let quick = submit_with("quick", |ctx: &TaskContext| {
        QUICK_JOB_GATE.wait(|| ctx.is_cancel_requested());
        42u32
    });
    let long = submit_with("long", long_job);
    let running = !long.status().is_terminal();
    let cancel = long.clone();
    Page([
        Card([
            Text("Quick job"),
            match_task(&quick)
                .ready(|v| Text(format!("Ready: result={v}")))
                .into(),
        ])
        .key("quick"),
        Card([
            Text("Long job"),
            match_task(&long)
                .ready(|steps| Text(format!("Long job done after {steps} steps.")))
                .cancelled(Text("Cancelled."))
                .into(),
            HStack([
                Button("Cancel")
                    .key("cancel")
                    .disabled(!running)
                    .on_click(move || cancel.cancel()),
                Button("Retry").key("retry").disabled(running).on_click(|| {
                    dismiss_task("long");
                }),
            ]),
        ])
        .key("long"),
    ])
    .title("streamtree live demo")
}
