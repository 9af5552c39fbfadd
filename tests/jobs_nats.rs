//! The NATS JetStream backend against a real `nats-server` (one per test, loopback):
//! web runtimes with `NatsBackend`, workers on threads. Jobs wait on gates, never sleeps.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use streamtree::jobs::nats::{NatsBackend, NatsError, NatsOptions};
use streamtree::jobs::{Jobs, job};
use streamtree::prelude::*;
use streamtree::worker::{Worker, WorkerHandle, current_worker_name};
use streamtree_tests::nats::NatsServer;
use streamtree_tests::{LONG, wait_until};

streamtree::job! {
    /// Squares, and says which worker did it.
    Square("square") = |_ctx, n: &i64| -> Result<String, String> {
        Ok(format!("{} by {}", n * n, current_worker_name().unwrap_or_default()))
    }
}

/// The gated job's input: which step it reports, and whether it waits for a cancel.
#[derive(Serialize, Deserialize, Hash, Clone, Debug)]
struct Gated {
    id: u32,
}

streamtree::job! {
    /// Reports progress "started on <worker>", then waits (at most LONG) for a cancel,
    /// unless it runs on a worker whose name starts with "fast".
    WaitForCancel("wait-for-cancel") = |ctx, g: &Gated| -> Result<String, String> {
        let me = current_worker_name().unwrap_or_default();
        ctx.set_progress(Progress::new(Some(0.5), Some(format!("started on {me}"))));
        if me.starts_with("fast") {
            return Ok(format!("{} done on {me}", g.id));
        }
        // Longer than the tests wait: a cancel that never arrives fails the test first.
        if ctx.wait_cancelled(2 * LONG) {
            Err("stopped: cancel seen".to_owned())
        } else {
            Err("no cancel came".to_owned())
        }
    }
}

/// Runs of `Counted` started, and the gate they wait at.
static COUNTED_RUNS: AtomicU32 = AtomicU32::new(0);
static GATE: Gate = Gate::new();

/// A gate jobs wait at (at most `2 * LONG`) until the test opens it.
struct Gate(Mutex<bool>, Condvar);

impl Gate {
    const fn new() -> Gate {
        Gate(Mutex::new(false), Condvar::new())
    }

    /// Waits until open (true) or `2 * LONG` passed (false).
    fn pass(&self) -> bool {
        *self
            .1
            .wait_timeout_while(self.0.lock().unwrap(), 2 * LONG, |open| !*open)
            .unwrap()
            .0
    }

    fn open(&self) {
        *self.0.lock().unwrap() = true;
        self.1.notify_all();
    }
}

streamtree::job! {
    /// Counts its runs, reports "waiting", and waits (at most LONG) for the gate.
    Counted("counted") = |ctx, n: &u32| -> Result<u32, String> {
        COUNTED_RUNS.fetch_add(1, Ordering::SeqCst);
        ctx.set_progress("waiting");
        if GATE.pass() { Ok(n + 1) } else { Err("the gate never opened".to_owned()) }
    }
}

streamtree::job! {
    /// The worker's version of a job whose input changed type (web: a string).
    SkewWorker("skewed") = |_ctx, n: &i64| -> Result<i64, String> { Ok(*n) }
}

streamtree::job! {
    /// The web's version of "skewed".
    SkewWeb("skewed") = |_ctx, s: &String| -> Result<i64, String> { Ok(s.len() as i64) }
}

/// Calls of `FailsOnce`.
static FAILS_ONCE_CALLS: AtomicU32 = AtomicU32::new(0);

streamtree::job! {
    /// Fails its first call, then succeeds.
    FailsOnce("fails-once") = |_ctx, n: &u32| -> Result<u32, String> {
        if FAILS_ONCE_CALLS.fetch_add(1, Ordering::SeqCst) == 0 {
            Err("first call fails".to_owned())
        } else {
            Ok(*n)
        }
    }
}

streamtree::job! {
    /// An output of `n` bytes.
    Big("big") = |_ctx, n: &usize| -> Result<String, String> { Ok("x".repeat(*n)) }
}

/// Runs of `Numbered`.
static NUMBERED_RUNS: AtomicU32 = AtomicU32::new(0);

streamtree::job! {
    /// Numbers its runs from 1.
    Numbered("numbered") = |_ctx, _n: &u32| -> Result<u32, String> {
        Ok(NUMBERED_RUNS.fetch_add(1, Ordering::SeqCst) + 1)
    }
}

streamtree::job! {
    /// Always fails.
    AlwaysFails("always-fails") = |_ctx, _n: &u32| -> Result<u32, String> {
        Err("it always fails".to_owned())
    }
}

/// Runs of `Twice` started, and the gate they wait at.
static TWICE_RUNS: AtomicU32 = AtomicU32::new(0);
static TWICE_GATE: Gate = Gate::new();

streamtree::job! {
    /// Counts its runs, reports "waiting", and waits (at most LONG) for its gate.
    Twice("twice") = |ctx, n: &u32| -> Result<u32, String> {
        TWICE_RUNS.fetch_add(1, Ordering::SeqCst);
        ctx.set_progress("waiting");
        if TWICE_GATE.pass() { Ok(*n) } else { Err("the gate never opened".to_owned()) }
    }
}

/// `Stalls`' gate, and whether it saw a cancel after it resumed (once it has ended).
static STALL_GATE: Gate = Gate::new();
static STALL_SAW_CANCEL: (Mutex<Option<bool>>, Condvar) = (Mutex::new(None), Condvar::new());

streamtree::job! {
    /// Reports "claimed", waits (at most LONG) for its gate as a stalled worker would,
    /// reports "resumed", then waits (at most LONG) for a cancel and records whether one
    /// came.
    Stalls("stalls") = |ctx, n: &u32| -> Result<u32, String> {
        ctx.set_progress("claimed");
        STALL_GATE.pass();
        ctx.set_progress("resumed");
        let seen = ctx.wait_cancelled(LONG);
        *STALL_SAW_CANCEL.0.lock().unwrap() = Some(seen);
        STALL_SAW_CANCEL.1.notify_all();
        if seen { Err("stopped: the run is another's".to_owned()) } else { Ok(*n) }
    }
}

fn jobs() -> Jobs {
    Jobs::new()
        .register::<Stalls>()
        .register::<Twice>()
        .register::<AlwaysFails>()
        .register::<Numbered>()
        .register::<FailsOnce>()
        .register::<Big>()
        .register::<Square>()
        .register::<WaitForCancel>()
        .register::<Counted>()
        .register::<SkewWorker>()
        .register::<QueuedCancel>()
}

/// The handle's progress message, if any.
fn message<T: Clone + Send + 'static>(h: &TaskHandle<T>) -> Option<String> {
    h.progress().and_then(|p| p.message().map(str::to_owned))
}

fn web(server: &NatsServer) -> Session {
    web_with(server, streamtree::Runtime::builder())
}

fn web_with(server: &NatsServer, rt: streamtree::RuntimeBuilder) -> Session {
    let backend = NatsBackend::connect(NatsOptions::new(server.url())).expect("connect");
    let rt = rt.backend(Arc::new(backend)).build();
    Session::builder().runtime(rt).build()
}

fn worker(server: &NatsServer, name: &str) -> WorkerHandle {
    Worker::new(
        NatsOptions::new(server.url()).ack_wait(Duration::from_secs(2)),
        jobs(),
    )
    .name(name)
    .concurrency(2)
    .shutdown_grace(Duration::ZERO)
    .spawn()
}

fn stop(w: WorkerHandle) {
    w.shutdown();
    w.join().expect("the worker ends cleanly");
}

/// Submits `WaitForCancel` run `id` in `s` and waits until it has started on worker `on`.
fn started_on(s: &Session, id: u32, on: &str) -> TaskHandle<String> {
    let sub = s.subscribe();
    let h = s.enter(|| job::<WaitForCancel>(&Gated { id }).submit());
    let started = format!("started on {on}");
    wait_until(&sub, || message(&h).as_deref() == Some(started.as_str()));
    h
}

/// Starts worker `name` (a "fast" one) and checks that it finishes `h`, the
/// `WaitForCancel` run `id` that another worker dropped, as attempt 2.
fn another_finishes_it(
    server: &NatsServer,
    s: &Session,
    h: &TaskHandle<String>,
    id: u32,
    name: &str,
) {
    let other = worker(server, name);
    assert!(
        s.wait_idle(LONG),
        "the other worker finishes within {LONG:?}"
    );
    assert_eq!(h.result(), Some(format!("{id} done on {name}")));
    assert_eq!(h.attempt(), 2);
    stop(other);
}

#[test]
fn a_job_runs_on_a_worker_and_its_result_reaches_the_handle() {
    let server = NatsServer::start();
    let w = worker(&server, "w1");
    let s = web(&server);
    let h = s.enter(|| job::<Square>(&7).submit());
    assert!(s.wait_idle(LONG), "the job ends within {LONG:?}");
    assert_eq!(h.result().as_deref(), Some("49 by w1"));
    assert_eq!(h.attempt(), 1);
    stop(w);
}

/// On the old blocking seam the one web worker waited in the first job's `execute`: the
/// second job never reached the worker, nor the plain task a thread.
#[test]
fn runs_in_flight_hold_no_web_worker() {
    let server = NatsServer::start();
    let w = worker(&server, "w1"); // concurrency 2
    let s = web_with(&server, streamtree::Runtime::builder().max_workers(1));
    let sub = s.subscribe();
    // Shared: a session's second input under one job would supersede the first.
    let [first, second] =
        [21, 22].map(|id| s.enter(|| job::<WaitForCancel>(&Gated { id }).shared().submit()));
    let plain = s.enter(|| submit("plain", || 5));
    let on_w1 = |h: &TaskHandle<String>| message(h).as_deref() == Some("started on w1");
    wait_until(&sub, || {
        on_w1(&first) && on_w1(&second) && plain.result() == Some(5)
    });
    assert_eq!(
        (first.status(), second.status()),
        (TaskStatus::Running, TaskStatus::Running)
    );
    first.cancel();
    second.cancel();
    assert!(s.wait_idle(LONG), "both cancels end within {LONG:?}");
    assert_eq!(
        (first.status(), second.status()),
        (TaskStatus::Cancelled, TaskStatus::Cancelled)
    );
    stop(w);
}

#[test]
fn progress_reaches_the_handle_and_a_cancel_reaches_the_running_job() {
    let server = NatsServer::start();
    let w = worker(&server, "w1");
    let s = web(&server);
    let h = started_on(&s, 1, "w1");
    assert_eq!(h.progress().unwrap().fraction(), Some(0.5));
    assert_eq!(h.status(), TaskStatus::Running);
    h.cancel();
    // Cancelled only once the worker wrote it: the job saw the request (else it would
    // wait longer than this test does and end in Error).
    assert!(s.wait_idle(LONG), "the cancel ends the job within {LONG:?}");
    assert_eq!(h.status(), TaskStatus::Cancelled);
    stop(w);
}

#[test]
fn an_input_the_worker_cannot_decode_ends_in_error_naming_the_job() {
    let server = NatsServer::start();
    let w = worker(&server, "w1");
    let s = web(&server);
    let h = s.enter(|| job::<SkewWeb>(&"x".to_owned()).submit());
    assert!(s.wait_idle(LONG), "the job ends within {LONG:?}");
    assert_eq!(
        h.error().as_deref(),
        Some(
            "job `skewed`: its input does not decode: invalid type: string \"x\", expected \
             i64 at line 1 column 3"
        )
    );
    stop(w);
}

#[test]
fn two_replicas_submitting_the_same_shared_job_get_one_run() {
    let server = NatsServer::start();
    let w = worker(&server, "w1");
    let (a, b) = (web(&server), web(&server));
    let (sub_a, sub_b) = (a.subscribe(), b.subscribe());
    let ha = a.enter(|| job::<Counted>(&41).shared().submit());
    wait_until(&sub_a, || message(&ha).as_deref() == Some("waiting"));
    // The run is under way on the worker: the second replica joins it.
    let hb = b.enter(|| job::<Counted>(&41).shared().submit());
    wait_until(&sub_b, || message(&hb).as_deref() == Some("waiting"));
    GATE.open();
    assert!(
        a.wait_idle(LONG) && b.wait_idle(LONG),
        "both end within {LONG:?}"
    );
    assert_eq!((ha.result(), hb.result()), (Some(42), Some(42)));
    assert_eq!(
        COUNTED_RUNS.load(Ordering::SeqCst),
        1,
        "one run for both replicas"
    );
    stop(w);
}

/// One replica's cancel of a shared run ends it for every replica, each showing Cancelled
/// as the handles of one shared task in a process do (the other replica showed an error).
#[test]
fn a_shared_run_cancelled_from_one_replica_shows_cancelled_on_both() {
    let server = NatsServer::start();
    let w = worker(&server, "w1");
    let (a, b) = (web(&server), web(&server));
    let (sub_a, sub_b) = (a.subscribe(), b.subscribe());
    let started = |h: &TaskHandle<String>| message(h).as_deref() == Some("started on w1");
    let ha = a.enter(|| job::<WaitForCancel>(&Gated { id: 31 }).shared().submit());
    wait_until(&sub_a, || started(&ha));
    let hb = b.enter(|| job::<WaitForCancel>(&Gated { id: 31 }).shared().submit());
    wait_until(&sub_b, || started(&hb));
    ha.cancel();
    assert!(
        a.wait_idle(LONG) && b.wait_idle(LONG),
        "the cancel ends both within {LONG:?}"
    );
    assert_eq!(
        (ha.status(), hb.status()),
        (TaskStatus::Cancelled, TaskStatus::Cancelled),
        "{:?}",
        hb.error()
    );
    stop(w);
}

#[test]
fn a_worker_shut_down_hands_its_run_back_and_another_finishes_it_as_attempt_2() {
    let server = NatsServer::start();
    let slow = worker(&server, "slow1");
    let s = web(&server);
    let h = started_on(&s, 7, "slow1");
    // Grace zero: the running job is handed back at once.
    stop(slow);
    another_finishes_it(&server, &s, &h, 7, "fast1");
}

#[test]
fn a_failed_attempt_is_retried_by_the_worker_and_counted() {
    let server = NatsServer::start();
    let w = worker(&server, "w1");
    let s = web(&server);
    let h = s.enter(|| {
        job::<FailsOnce>(&5)
            .retry(Retry::times(2).backoff(Duration::from_millis(10)))
            .submit()
    });
    assert!(s.wait_idle(LONG), "the job ends within {LONG:?}");
    assert_eq!((h.result(), h.attempt()), (Some(5), 2));
    assert_eq!(FAILS_ONCE_CALLS.load(Ordering::SeqCst), 2);
    stop(w);
}

#[test]
fn an_output_over_the_servers_max_payload_ends_in_error_saying_so() {
    let server = NatsServer::start();
    let w = worker(&server, "w1");
    let s = web(&server);
    // nats-server's default max_payload is 1 MiB.
    let h = s.enter(|| job::<Big>(&(2 << 20)).submit());
    assert!(s.wait_idle(LONG), "the job ends within {LONG:?}");
    let error = h.error().expect("an Error");
    assert!(
        error.starts_with("job `big`: its output is 2097") && error.contains("max_payload"),
        "{error}"
    );
    stop(w);
}

#[test]
fn after_a_server_restart_handles_keep_their_state_and_a_cancel_still_reaches_the_job() {
    let server = NatsServer::start();
    let w = worker(&server, "w1");
    let s = web(&server);
    let h = started_on(&s, 3, "w1");
    let server = server.restart();
    // The handle reports what it last knew.
    assert_eq!(h.status(), TaskStatus::Running);
    assert_eq!(message(&h).as_deref(), Some("started on w1"));
    // Both sides reconnect (the store kept the stream and the bucket); the cancel is
    // written once the web side is back, and the worker's watcher sees it.
    h.cancel();
    assert!(s.wait_idle(LONG), "the cancel ends the job within {LONG:?}");
    assert_eq!(h.status(), TaskStatus::Cancelled);
    stop(w);
    drop(server);
}

#[test]
fn a_finished_run_in_the_bucket_is_shown_by_a_new_replica_and_a_refresh_runs_it_again() {
    let server = NatsServer::start();
    let w = worker(&server, "w1");
    let first = web(&server);
    let h = first.enter(|| job::<Numbered>(&1).submit());
    assert!(first.wait_idle(LONG), "the job ends within {LONG:?}");
    assert_eq!(h.result(), Some(1));
    // A replica started afterwards (or this one restarted) takes the kept result.
    let second = web(&server);
    let load = || job::<Numbered>(&1).submit();
    let h = second.enter(load);
    assert!(second.wait_idle(LONG), "the job ends within {LONG:?}");
    assert_eq!(h.result(), Some(1));
    assert_eq!(NUMBERED_RUNS.load(Ordering::SeqCst), 1, "no second run");
    // A refresh overwrites the bucket's run instead of joining the finished one.
    h.refresh();
    let h = second.enter(load);
    assert!(second.wait_idle(LONG), "the refresh ends within {LONG:?}");
    assert_eq!(h.result(), Some(2));
    stop(w);
}

#[test]
fn an_input_over_the_servers_max_payload_ends_in_error_saying_so() {
    let server = NatsServer::start();
    let s = web(&server);
    let h = s.enter(|| job::<SkewWeb>(&"y".repeat(2 << 20)).submit());
    assert!(s.wait_idle(LONG), "the job ends within {LONG:?}");
    let error = h.error().expect("an Error");
    assert!(
        error.starts_with("job `skewed`: its input is 2097") && error.contains("max_payload"),
        "{error}"
    );
    // The run ended in the bucket too: a second submit does not wait on it for ever.
    let again = web(&server);
    let h = again.enter(|| job::<SkewWeb>(&"y".repeat(2 << 20)).submit());
    assert!(
        again.wait_idle(LONG),
        "the second submit ends within {LONG:?}"
    );
    assert!(h.error().is_some());
}

#[test]
fn login_options_pass_through_and_a_refused_login_names_the_server() {
    let server = NatsServer::start_with(&["--auth", "s3cret"]);
    let refused = NatsBackend::connect(NatsOptions::new(server.url()).token("wrong"))
        .expect_err("a wrong token is refused");
    assert!(matches!(refused, NatsError::Connect { .. }), "{refused:?}");
    assert!(
        refused.to_string().starts_with(&format!(
            "cannot connect to the NATS server at {}",
            server.url()
        )),
        "{refused}"
    );
    // TLS asked of a server without it: a connect error (the TLS stack is built in).
    let no_tls = NatsBackend::connect(
        NatsOptions::new(server.url())
            .token("s3cret")
            .tls_required(true),
    )
    .expect_err("this server has no TLS");
    assert!(matches!(no_tls, NatsError::Connect { .. }), "{no_tls:?}");
    let opts = NatsOptions::new(server.url()).token("s3cret");
    let w = Worker::new(opts.clone(), jobs()).name("w1").spawn();
    // Connected from inside a tokio runtime (an async main), where blocking panics.
    let tokio = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a tokio runtime");
    let backend = tokio.block_on(async { NatsBackend::connect(opts) });
    let rt = streamtree::Runtime::builder()
        .backend(Arc::new(backend.expect("the token is taken")))
        .build();
    let s = Session::builder().runtime(rt).build();
    let h = s.enter(|| job::<Square>(&3).submit());
    assert!(s.wait_idle(LONG), "the job ends within {LONG:?}");
    assert_eq!(h.result().as_deref(), Some("9 by w1"));
    stop(w);
}

#[test]
fn no_retry_is_asked_past_max_deliver_the_run_ends_in_error_saying_so() {
    let server = NatsServer::start();
    let opts = NatsOptions::new(server.url()).max_deliver(2);
    let w = Worker::new(opts, jobs()).name("w1").spawn();
    let s = web(&server);
    let h = s.enter(|| {
        job::<AlwaysFails>(&1)
            .retry(Retry::times(5).backoff(Duration::from_millis(10)))
            .submit()
    });
    assert!(s.wait_idle(LONG), "the job ends within {LONG:?}");
    assert_eq!(
        h.error().as_deref(),
        Some(
            "it always fails (not retried: the run was delivered 2 times, the workers' \
             max_deliver)"
        )
    );
    assert_eq!(h.attempt(), 2);
    stop(w);
}

/// Env vars that make `worker_process` a worker: the server's URL and the worker's name.
const WORKER_URL: &str = "STREAMTREE_TEST_NATS_URL";
const WORKER_NAME: &str = "STREAMTREE_TEST_WORKER_NAME";
/// Optional: the worker's `max_deliver` (it makes the consumer, being the first worker).
const WORKER_MAX_DELIVER: &str = "STREAMTREE_TEST_MAX_DELIVER";

/// Not a test on its own: the worker process that
/// `a_killed_workers_run_is_redelivered_to_another_as_attempt_2` starts (this binary,
/// run with `--ignored --exact worker_process` and the two env vars) and kills.
#[test]
#[ignore = "a worker process started by another test of this file"]
fn worker_process() {
    let url = std::env::var(WORKER_URL).expect("started with STREAMTREE_TEST_NATS_URL");
    let name = std::env::var(WORKER_NAME).expect("started with STREAMTREE_TEST_WORKER_NAME");
    let max_deliver = std::env::var(WORKER_MAX_DELIVER).map_or(20, |n| n.parse().unwrap());
    Worker::new(
        NatsOptions::new(url)
            .ack_wait(Duration::from_secs(2))
            .max_deliver(max_deliver),
        jobs(),
    )
    .name(name)
    .shutdown_grace(Duration::ZERO)
    .run()
    .expect("the worker process runs");
}

/// A child process, killed (SIGKILL) on drop unless taken.
struct Killed(Option<std::process::Child>);

impl Drop for Killed {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Starts `worker_process` as worker `name` of `server`.
fn worker_process_named(server: &NatsServer, name: &str) -> Killed {
    worker_process_with(server, name, 20)
}

/// Starts `worker_process` as worker `name` of `server`, with `max_deliver`.
fn worker_process_with(server: &NatsServer, name: &str, max_deliver: u32) -> Killed {
    let child = std::process::Command::new(std::env::current_exe().expect("this test binary"))
        .args(["worker_process", "--exact", "--ignored", "--nocapture"])
        .env(WORKER_URL, server.url())
        .env(WORKER_NAME, name)
        .env(WORKER_MAX_DELIVER, max_deliver.to_string())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("starting the worker process");
    Killed(Some(child))
}

#[test]
fn sigterm_stops_a_worker_process_which_hands_its_run_back() {
    let server = NatsServer::start();
    let mut child = worker_process_named(&server, "termed");
    let s = web(&server);
    let h = started_on(&s, 4, "termed");
    let mut process = child.0.take().expect("the worker process");
    let pid = process.id().to_string();
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status();
    assert!(sent.is_ok_and(|s| s.success()), "kill -TERM {pid}");
    let (exited_tx, exited) = std::sync::mpsc::channel();
    std::thread::spawn(move || exited_tx.send(process.wait()));
    let Ok(status) = exited.recv_timeout(LONG) else {
        let _ = std::process::Command::new("kill")
            .args(["-KILL", &pid])
            .status();
        panic!("the worker process did not exit within {LONG:?} of SIGTERM");
    };
    assert!(status.is_ok_and(|s| s.success()), "it exits cleanly");
    // Handed back at once (grace zero): the next worker takes it as attempt 2, with no
    // wait for ack_wait.
    another_finishes_it(&server, &s, &h, 4, "fast3");
}

#[test]
fn a_killed_workers_run_is_redelivered_to_another_as_attempt_2() {
    let server = NatsServer::start();
    let child = worker_process_named(&server, "doomed");
    let s = web(&server);
    let h = started_on(&s, 9, "doomed");
    drop(child); // kill -9: no hand-back, no more heartbeats
    // Its run comes back after ack_wait (2 s) to the other worker.
    another_finishes_it(&server, &s, &h, 9, "fast2");
}

#[test]
fn a_run_whose_workers_all_die_ends_in_error_after_max_deliver() {
    let server = NatsServer::start();
    // The first worker makes the consumer: one delivery per run.
    let doomed = worker_process_with(&server, "doomed", 1);
    let s = web(&server);
    let h = started_on(&s, 11, "doomed");
    let other = worker(&server, "other");
    assert!(
        other.wait_ready(LONG),
        "the other worker is up within {LONG:?}"
    );
    drop(doomed); // kill -9
    // After ack_wait the server gives up on the run and says so; a worker ends it.
    assert!(s.wait_idle(LONG), "the run ends within {LONG:?}");
    assert_eq!(
        h.error().as_deref(),
        Some(
            "job `wait-for-cancel`: no worker finished it in 1 deliveries, the workers' \
             max_deliver (each worker running it stopped without a word: a crash, a kill, \
             out of memory?)"
        )
    );
    stop(other);
}

streamtree::job! {
    /// Counts its runs; cancelled while queued, it must never run.
    QueuedCancel("queued-cancel") = |_ctx, _n: &u32| -> Result<u32, String> {
        QUEUED_CANCEL_RUNS.fetch_add(1, Ordering::SeqCst);
        Ok(0)
    }
}

/// Runs of `QueuedCancel`.
static QUEUED_CANCEL_RUNS: AtomicU32 = AtomicU32::new(0);

#[test]
fn a_finished_run_is_shown_from_the_bucket_with_no_worker_left_to_run_it() {
    let server = NatsServer::start();
    let w = worker(&server, "fast1");
    let first = web(&server);
    let load = || job::<WaitForCancel>(&Gated { id: 70 }).submit();
    let h = first.enter(load);
    assert!(first.wait_idle(LONG), "the job ends within {LONG:?}");
    assert_eq!(message(&h).as_deref(), Some("started on fast1"));
    let done = h.result().expect("a result");
    stop(w);
    // No worker: only the run kept in the bucket can answer (the create finds the key
    // taken, the read after it finds the run Done).
    let second = web(&server);
    let h = second.enter(load);
    assert!(
        second.wait_idle(LONG),
        "the kept result shows within {LONG:?}"
    );
    assert_eq!(h.result(), Some(done));
    // Shown as a kept result: no progress of a run it never waited on (a page would
    // flash its loading arm with it).
    assert_eq!(message(&h), None);
    assert_eq!(h.attempt(), 1);
}

#[test]
fn a_run_cancelled_while_queued_never_starts_on_the_worker_that_gets_it_later() {
    let server = NatsServer::start();
    let s = web(&server);
    let (rt, client) = test_client(&server);
    // No worker yet: the run waits in the stream, its state queued.
    let (h, _) = submitted_queued(&rt, &client, &s, || job::<QueuedCancel>(&1).submit());
    h.cancel();
    assert!(s.wait_idle(LONG), "the cancel ends the run within {LONG:?}");
    assert_eq!(h.status(), TaskStatus::Cancelled);
    // One place: the worker handles the cancelled run's message before the next one.
    let w = Worker::new(NatsOptions::new(server.url()), jobs())
        .name("w1")
        .concurrency(1)
        .shutdown_grace(Duration::ZERO)
        .spawn();
    let next = s.enter(|| job::<Square>(&5).submit());
    assert!(s.wait_idle(LONG), "the next job ends within {LONG:?}");
    assert_eq!(next.result(), Some("25 by w1".to_owned()));
    // Its claim's compare-and-set over the queued revision failed: it read the cancel.
    assert_eq!(
        QUEUED_CANCEL_RUNS.load(Ordering::SeqCst),
        0,
        "the job never ran"
    );
    assert_eq!(h.status(), TaskStatus::Cancelled);
    stop(w);
}

#[test]
fn a_run_whose_publish_fails_ends_in_error_on_the_handle_and_in_the_bucket() {
    let server = NatsServer::start();
    let s = web(&server);
    // The runs stream gone: the publish finds no stream to take it, and says so in its
    // acknowledgement, which the backend awaits beside the wait on the state.
    let (rt, client) = test_client(&server);
    // Inside the runtime: the context reads its handle.
    let js = rt.block_on(async { async_nats::jetstream::new(client) });
    rt.block_on(js.delete_stream("streamtree-runs"))
        .expect("delete the runs stream");
    let h = s.enter(|| job::<Square>(&3).submit());
    assert!(
        s.wait_idle(LONG),
        "the failed publish ends the run within {LONG:?}"
    );
    let error = h.error().expect("an Error");
    assert!(error.starts_with("job `square`: NATS publish"), "{error}");
    // The bucket says so too (its last write), so no replica joins a run no worker gets.
    let last = rt.block_on(async {
        let mut stream = js
            .get_stream("KV_streamtree-state")
            .await
            .expect("the bucket");
        let seq = stream.info().await.expect("its info").state.last_sequence;
        stream.get_raw_message(seq).await.expect("its last write")
    });
    let state = String::from_utf8_lossy(&last.payload).into_owned();
    assert!(
        state.contains(r#""status":"error""#) && state.contains("NATS publish"),
        "{state}"
    );
}

#[test]
fn a_write_the_bucket_refuses_never_reaches_a_handle() {
    let server = NatsServer::start();
    let s = web(&server);
    let (rt, client) = test_client(&server);
    // No worker yet: the run waits, queued.
    let (h, run) = submitted_queued(&rt, &client, &s, || job::<Square>(&4).submit());
    // A compare-and-set that loses (a replica's late create, say) claims the run is Done:
    // JetStream refuses it, and no handle may show it.
    let key = run["key"].as_str().expect("its key");
    let fake = serde_json::json!({
        "run": run["run"], "job": "square", "status": "done", "attempt": 1,
        "output": "\"never written\"",
    });
    let js = rt.block_on(async { async_nats::jetstream::new(client.clone()) });
    let mut headers = async_nats::HeaderMap::new();
    headers.insert("Nats-Expected-Last-Subject-Sequence", "999999");
    let refused = rt.block_on(async {
        js.publish_with_headers(
            format!("$KV.streamtree-state.{key}"),
            headers,
            fake.to_string().into(),
        )
        .await
        .expect("sent")
        .await
    });
    assert!(refused.is_err(), "the stream refuses the stale write");
    let w = worker(&server, "w1");
    assert!(s.wait_idle(LONG), "the run ends within {LONG:?}");
    assert_eq!(h.result(), Some("16 by w1".to_owned()));
    stop(w);
}

/// The web process that made a run died between the bucket's create and the publish: the
/// run stays queued with no message. A replica joining it sends the message again (on the
/// old code it waited with it, for ever).
#[test]
fn a_queued_run_whose_message_was_lost_runs_once_another_replica_joins_it() {
    let server = NatsServer::start();
    let (rt, client) = test_client(&server);
    let a = web(&server);
    let (_, run) = submitted_queued(&rt, &client, &a, || job::<Square>(&6).submit());
    drop(a);
    // Another web process's run of the same job, created but never published: its state
    // (a new run id) written over the key, and no message in the stream.
    let js = rt.block_on(async { async_nats::jetstream::new(client.clone()) });
    let mut runs = rt
        .block_on(js.get_stream("streamtree-runs"))
        .expect("the runs stream");
    poll(|| rt.block_on(runs.info()).expect("its info").state.messages == 1);
    rt.block_on(async { runs.purge().await }).expect("purged");
    let kv = rt
        .block_on(js.get_key_value("streamtree-state"))
        .expect("the bucket");
    let orphan = serde_json::json!({
        "run": "orphan-1", "job": "square", "status": "queued", "attempt": 1,
    });
    let key = run["key"].as_str().expect("its key");
    rt.block_on(kv.put(key, orphan.to_string().into()))
        .expect("written");
    let w = worker(&server, "w1");
    let b = web(&server);
    let h = b.enter(|| job::<Square>(&6).submit());
    assert!(b.wait_idle(LONG), "the joined run ends within {LONG:?}");
    assert_eq!(h.result().as_deref(), Some("36 by w1"));
    assert_eq!(h.error(), None, "{run}");
    stop(w);
}

/// Two messages of one run (a replica sent it again after the stream's duplicate window):
/// one claims it, the other is dropped; on the old worker the second claimed the running
/// run too, and the job ran twice.
#[test]
fn a_run_whose_message_came_twice_runs_once() {
    let server = NatsServer::start();
    let (rt, client) = test_client(&server);
    let s = web(&server);
    let sub = s.subscribe();
    let (h, run) = submitted_queued(&rt, &client, &s, || job::<Twice>(&3).submit());
    // Sent again with no message id: the stream keeps both.
    let js = rt.block_on(async { async_nats::jetstream::new(client.clone()) });
    rt.block_on(async {
        js.publish("streamtree.runs", run.to_string().into())
            .await
            .expect("sent")
            .await
    })
    .expect("stored");
    let mut runs = rt
        .block_on(js.get_stream("streamtree-runs"))
        .expect("the runs stream");
    assert_eq!(
        rt.block_on(runs.info()).expect("its info").state.messages,
        2
    );
    // One place each: each worker gets one of the two messages.
    let [w1, w2] = ["w1", "w2"].map(|name| {
        Worker::new(NatsOptions::new(server.url()), jobs())
            .name(name)
            .concurrency(1)
            .shutdown_grace(Duration::ZERO)
            .spawn()
    });
    wait_until(&sub, || message(&h).as_deref() == Some("waiting"));
    // The copy is settled: dropped (acknowledged, so gone from the stream), or run.
    poll(|| {
        TWICE_RUNS.load(Ordering::SeqCst) > 1
            || rt.block_on(runs.info()).expect("its info").state.messages == 1
    });
    TWICE_GATE.open();
    assert!(s.wait_idle(LONG), "the run ends within {LONG:?}");
    assert_eq!(h.result(), Some(3));
    assert_eq!(TWICE_RUNS.load(Ordering::SeqCst), 1, "one run of the job");
    stop(w1);
    stop(w2);
}

/// A worker that stalled past `ack_wait` while another worker claimed its run again (the
/// redelivery): when it wakes it writes nothing over the new claim's state and its job is
/// asked to stop. On the old worker it wrote its own state back over the new claim's.
#[test]
fn a_stalled_worker_whose_run_was_claimed_again_stops_and_writes_nothing() {
    let server = NatsServer::start();
    let (rt, client) = test_client(&server);
    let s = web(&server);
    let sub = s.subscribe();
    let (h, run) = submitted_queued(&rt, &client, &s, || job::<Stalls>(&1).submit());
    let w = worker(&server, "w1");
    wait_until(&sub, || message(&h).as_deref() == Some("claimed"));
    // What the other worker's claim of the redelivery writes: attempt 2, on "w2".
    let js = rt.block_on(async { async_nats::jetstream::new(client.clone()) });
    let kv = rt
        .block_on(js.get_key_value("streamtree-state"))
        .expect("the bucket");
    let key = run["key"].as_str().expect("its key");
    let entry = rt
        .block_on(kv.entry(key))
        .expect("read")
        .expect("the run's state");
    let mut state: serde_json::Value = serde_json::from_slice(&entry.value).expect("a state");
    state["worker"] = "w2".into();
    state["attempt"] = 2.into();
    rt.block_on(kv.update(key, state.to_string().into(), entry.revision))
        .expect("the other claim is written");
    // The stalled worker wakes up.
    STALL_GATE.open();
    let (seen, cv) = &STALL_SAW_CANCEL;
    let seen = cv
        .wait_timeout_while(seen.lock().unwrap(), 2 * LONG, |s| s.is_none())
        .unwrap()
        .0;
    assert_eq!(
        *seen,
        Some(true),
        "the stalled worker's job is asked to stop"
    );
    let last = rt
        .block_on(kv.entry(key))
        .expect("read")
        .expect("the run's state");
    let last: serde_json::Value = serde_json::from_slice(&last.value).expect("a state");
    assert_eq!(
        (&last["worker"], &last["attempt"], &last["message"]),
        (&"w2".into(), &2.into(), &"claimed".into()),
        "the new claim's state, untouched: {last}"
    );
    stop(w);
}

/// Polls `cond` (a server's state, which sends no notification) until it holds, at most
/// [`LONG`].
fn poll(mut cond: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + LONG;
    while !cond() {
        assert!(
            std::time::Instant::now() < deadline,
            "the condition did not hold within {LONG:?}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Submits (`submit` in `s`) with no worker listening, and returns the handle and the run's
/// message as the runs stream got it (its `key` and `run` name the queued state).
fn submitted_queued<T>(
    rt: &tokio::runtime::Runtime,
    client: &async_nats::Client,
    s: &Session,
    submit: impl FnOnce() -> TaskHandle<T>,
) -> (TaskHandle<T>, serde_json::Value) {
    let mut runs = rt.block_on(async {
        let runs = client
            .subscribe("streamtree.runs")
            .await
            .expect("subscribe");
        client.flush().await.expect("flush");
        runs
    });
    let h = s.enter(submit);
    let msg = rt
        .block_on(async { tokio::time::timeout(LONG, runs.next()).await })
        .expect("the run is published within LONG")
        .expect("a message");
    let run = serde_json::from_slice(&msg.payload).expect("a run message");
    (h, run)
}

/// A runtime and a plain client of `server`: what the tests look at the server with.
fn test_client(server: &NatsServer) -> (tokio::runtime::Runtime, async_nats::Client) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let client = rt
        .block_on(async_nats::connect(server.url()))
        .expect("connect");
    (rt, client)
}
