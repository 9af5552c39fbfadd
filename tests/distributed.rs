//! `examples/distributed.rs` as real processes on one real `nats-server` (loopback, free
//! port, temporary store): web replicas and workers are separate OS processes, pages are
//! read as a browser would (the page, then its `GET /events` stream, never a reload),
//! and workers are watched through their log lines (`worker w1: report started`).
//! Every wait has a deadline; nothing sleeps to synchronise. The tests take turns
//! ([`one_at_a_time`]): each runs five processes, and failover timing is under test.

#[path = "distributed_procs.rs"]
mod distributed_procs;
#[path = "serve_client.rs"]
mod serve_client;

use std::net::{Shutdown, SocketAddr};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use distributed_procs::{GUARD, Log, Proc};
use serve_client::{Events, Reply, get, post_form};
use streamtree::jobs::job;
use streamtree::jobs::nats::{NatsBackend, NatsOptions};
use streamtree::prelude::*;
use streamtree_tests::nats::NatsServer;

/// The tests run one after another: each starts a server and up to five processes on a
/// small machine, and the failover test measures the server's redelivery.
fn one_at_a_time() -> MutexGuard<'static, ()> {
    static TURN: Mutex<()> = Mutex::new(());
    TURN.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The part of a page's HTML that shows the shared job (after its heading).
fn totals(html: &str) -> &str {
    html.split("Totals (shared").nth(1).unwrap_or("")
}

/// The part that shows the session's report (before the shared job's heading).
fn report(html: &str) -> &str {
    html.split("Totals (shared").next().unwrap_or("")
}

/// Reads `events` until `done` holds for an event's page HTML; returns every page seen.
/// Bounded by [`GUARD`] in all: keep-alive comments do not extend it, because a watchdog
/// shuts the socket at the deadline (the read then fails the test).
fn read_until(events: &mut Events, done: impl Fn(&str) -> bool) -> Vec<String> {
    let socket = events
        .0
        .get_ref()
        .try_clone()
        .expect("a second socket handle");
    let (finished, watch) = mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        // A send never comes: the sender is dropped when the read ends, however it ends.
        if watch.recv_timeout(GUARD) == Err(RecvTimeoutError::Timeout) {
            eprintln!("no expected event within {GUARD:?}: closing the event stream");
            let _ = socket.shutdown(Shutdown::Both);
        }
    });
    let mut seen = Vec::new();
    loop {
        // `next` gives the whole page, applying patches if the server sends them.
        let event = events.next();
        let html = event["html"].as_str().unwrap_or_default().to_owned();
        let found = done(&html);
        seen.push(html);
        if found {
            drop(finished);
            watchdog.join().expect("the watchdog does not panic");
            return seen;
        }
    }
}

/// How many times the workers logged `worker NAME: what`.
fn runs(log: &Log, what: &str) -> usize {
    log.count(|l| l.starts_with("worker ") && l.ends_with(&format!(": {what}")))
}

/// The name of the first worker to log `worker NAME: what`.
fn first_to_log(log: &Log, what: &str) -> String {
    let line = log.wait_line(|l| l.starts_with("worker ") && l.ends_with(&format!(": {what}")));
    line["worker ".len()..line.len() - what.len() - 2].to_owned()
}

/// A test's turn ([`one_at_a_time`]), a NATS server, and two workers on it, `w1` and
/// `w2`, writing into one log. Fields drop in order: the workers before their server,
/// the turn last.
struct Cluster {
    workers: [Proc; 2],
    log: Log,
    url: String,
    _nats: NatsServer,
    _turn: MutexGuard<'static, ()>,
}

impl Cluster {
    fn start() -> Cluster {
        let turn = one_at_a_time();
        let nats = NatsServer::start();
        let url = nats.url();
        let log = Log::default();
        Cluster {
            workers: [
                Proc::worker(&url, "w1", &log),
                Proc::worker(&url, "w2", &log),
            ],
            log,
            url,
            _nats: nats,
            _turn: turn,
        }
    }
}

/// A browser's first view of the web replica at `addr`: the page (its new session
/// submits the jobs) and the page's event stream.
fn visit(addr: SocketAddr) -> (Reply, Events) {
    let page = get(addr, None);
    let events = Events::open(addr, &page.cookie());
    (page, events)
}

#[test]
fn a_shared_job_submitted_from_two_replicas_runs_once_and_both_pages_follow_it() {
    let c = Cluster::start();
    let (_web_a, addr_a) = Proc::web(&c.url);
    let (_web_b, addr_b) = Proc::web(&c.url);

    // Each first page view creates a session, which submits the shared job.
    let (page_a, page_b) = (get(addr_a, None), get(addr_b, None));
    let mut events_a = Events::open(addr_a, &page_a.cookie());
    let mut events_b = Events::open(addr_b, &page_b.cookie());
    let seen_a = read_until(&mut events_a, |h| totals(h).contains("Totals ready"));
    let seen_b = read_until(&mut events_b, |h| totals(h).contains("Totals ready"));

    for (replica, seen) in [("A", &seen_a), ("B", &seen_b)] {
        assert!(
            seen.iter().any(|h| totals(h).contains("step ")),
            "replica {replica} pushed no progress of the shared job: {seen:#?}"
        );
    }
    // Both pages show the one run's result, computed by the same worker.
    let result = |seen: &[String]| {
        let last = totals(seen.last().unwrap());
        let start = last.find("Totals ready").unwrap();
        last[start..last[start..].find('<').map_or(last.len(), |e| start + e)].to_owned()
    };
    assert_eq!(result(&seen_a), result(&seen_b));
    assert_eq!(
        runs(&c.log, "totals started"),
        1,
        "the shared job ran more than once:\n{}",
        c.log.text()
    );
}

#[test]
fn kill_9_of_the_worker_running_a_job_completes_it_on_the_other_worker() {
    let mut c = Cluster::start();
    let (_web, addr) = Proc::web(&c.url);
    let (_page, mut events) = visit(addr);

    // The first worker to log the report's start is the one to kill.
    let victim = first_to_log(&c.log, "report started");
    let survivor = if victim == "w1" { "w2" } else { "w1" };
    c.workers
        .iter_mut()
        .find(|w| w.name == victim)
        .expect("a worker of this test")
        .kill();
    let seen = read_until(&mut events, |h| report(h).contains("Report ready"));
    let last = report(seen.last().unwrap());
    assert!(
        last.contains(&format!("(worker {survivor})")),
        "the report was not finished by {survivor}: {last}\n{}",
        c.log.text()
    );
    assert!(
        last.contains("attempt 2"),
        "the page does not show the second attempt: {last}"
    );
    assert_eq!(
        c.log
            .count(|l| l == format!("worker {survivor}: report started")),
        1,
        "{}",
        c.log.text()
    );
}

#[test]
fn cancel_from_a_page_reaches_the_worker_and_the_page_shows_cancelled() {
    let c = Cluster::start();
    let (_web, addr) = Proc::web(&c.url);
    let (page, mut events) = visit(addr);
    let cookie = page.cookie();

    let running = first_to_log(&c.log, "report started");
    let click = post_form(
        addr,
        &cookie,
        &format!("token={}&key=report-cancel", page.token()),
    );
    assert_eq!(click.status, 303, "{click:?}");
    c.log
        .wait_line(|l| l == format!("worker {running}: report cancelled"));
    read_until(&mut events, |h| report(h).contains("Cancelled."));
}

#[test]
fn a_restarted_web_replica_shows_the_finished_job_without_a_new_run() {
    let c = Cluster::start();
    let (mut web, addr) = Proc::web(&c.url);
    let (_page, mut events) = visit(addr);
    read_until(&mut events, |h| report(h).contains("Report ready"));
    drop(events);
    web.kill();

    let (_again, addr) = Proc::web(&c.url);
    let (_page, mut events) = visit(addr);
    let seen = read_until(&mut events, |h| report(h).contains("Report ready"));
    assert!(
        !seen.iter().any(|h| report(h).contains("step ")),
        "the restarted replica ran the report again: {seen:#?}"
    );
    assert_eq!(runs(&c.log, "report started"), 1, "{}", c.log.text());
}

/// The worker's `report` job, as an older web process would submit it: the same name,
/// an input of another shape (a number, not a `Region`).
struct OldReport;
impl streamtree::jobs::Job for OldReport {
    const NAME: &'static str = "report";
    type Input = u64;
    type Output = String;
    type Error = String;
    fn run(_: &TaskContext, _: &u64) -> Result<String, String> {
        unreachable!("runs on the worker")
    }
}

#[test]
fn an_input_the_worker_cannot_decode_ends_in_error_with_the_message() {
    let c = Cluster::start();
    let backend = NatsBackend::connect(NatsOptions::new(c.url.as_str())).expect("connect");
    let runtime = streamtree::Runtime::builder()
        .backend(Arc::new(backend))
        .build();
    let session = Session::builder().runtime(runtime).build();
    let handle = session.enter(|| job::<OldReport>(&42).submit());
    assert!(session.wait_idle(GUARD), "the run did not end");
    let error = handle.error().expect("the run ends in Error");
    assert!(
        error.contains("report") && error.contains("invalid type"),
        "the error names neither the job nor serde's message: {error}"
    );
}
