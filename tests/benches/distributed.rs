//! Figures of the NATS JetStream backend (issue 10), loopback, in the shape of the Celery
//! reference: this process is the web side (a runtime on `NatsBackend`, and for the
//! progress figure a served page read as a browser's event stream), two worker processes
//! (this binary again, `worker` mode) and one `nats-server` on one machine.
//!
//! - round trip: one trivial job, submit → done seen by the web process, p50 / p99;
//! - throughput: 10,000 trivial jobs submitted at once, jobs/s;
//! - progress: a worker's progress (100 updates, 2 ms apart) → the event on a
//!   browser-style SSE stream, p50 / p99, and whether the final value arrived;
//!   the same updates on the web process's task handle (the NATS part alone);
//! - cancel: `cancel()` on the web side → the worker's job sees it, p50 / p99;
//! - failover: `kill -9` of the worker running a job → done on the other worker.
//!
//! Cross-process times use the wall clock (`SystemTime`): every process is on this machine.
//! Run: `cargo xtask bench --distributed` (or `cargo bench -p streamtree-tests --bench
//! distributed`); needs Debian's `nats-server`.

#[path = "../distributed_procs.rs"]
mod distributed_procs;
#[path = "../serve_client.rs"]
mod serve_client;

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use distributed_procs::{GUARD, Log, Proc};
use serve_client::{Events, get};
use streamtree::jobs::nats::{NatsBackend, NatsOptions};
use streamtree::jobs::{Jobs, job};
use streamtree::prelude::*;
use streamtree::worker::Worker;
use streamtree_tests::nats::NatsServer;

/// Microseconds since the epoch: the cross-process clock.
fn now_us() -> u64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    u64::try_from(since.as_micros()).unwrap_or(u64::MAX)
}

streamtree::job! {
    /// The trivial job: returns its input.
    Trivial("bench-trivial") = |_ctx, n: &u64| -> Result<u64, String> { Ok(*n) }
}

streamtree::job! {
    /// 100 progress updates 2 ms apart (after 50 ms in which the page opens its event
    /// stream), each stamped with the worker's clock, then a pause before the result, so
    /// that the last update is a state the page must reach.
    Stamps("bench-stamps") = |ctx, _nonce: &u64| -> Result<u32, String> {
        ctx.wait_cancelled(Duration::from_millis(50));
        for step in 1..=STAMPS {
            ctx.set_progress((f64::from(step) / f64::from(STAMPS), format!("t{} s{step}", now_us())));
            ctx.wait_cancelled(Duration::from_millis(2));
        }
        ctx.wait_cancelled(Duration::from_millis(100));
        Ok(STAMPS)
    }
}

streamtree::job! {
    /// Waits for a cancel and prints when it saw it.
    Probe("bench-probe") = |ctx, n: &u64| -> Result<(), String> {
        println!("probe {n} started");
        let deadline = Instant::now() + GUARD;
        while !ctx.wait_cancelled(Duration::from_millis(500)) {
            if Instant::now() > deadline {
                return Err("no cancel came".into());
            }
        }
        println!("probe {n} cancel-seen {}", now_us());
        Err("cancelled".into())
    }
}

streamtree::job! {
    /// Two seconds of work, so that its worker can be killed while it runs.
    Slow("bench-slow") = |ctx, n: &u64| -> Result<u64, String> {
        println!("{} slow {n} started", WORKER.get().map_or("?", String::as_str));
        ctx.wait_cancelled(Duration::from_secs(2));
        Ok(*n)
    }
}

/// This worker process's name (worker mode), printed with the failover job's start.
static WORKER: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Progress updates of [`Stamps`].
const STAMPS: u32 = 100;

fn jobs() -> Jobs {
    Jobs::new()
        .register::<Trivial>()
        .register::<Stamps>()
        .register::<Probe>()
        .register::<Slow>()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [mode, url, name] = args.as_slice()
        && mode == "worker"
    {
        let _ = WORKER.set(name.clone());
        Worker::new(NatsOptions::new(url.as_str()), jobs())
            .name(name.as_str())
            .concurrency(WORKER_CONCURRENCY)
            .run()
            .expect("the worker runs");
        return;
    }
    bench();
}

/// Jobs each worker process runs at once (threads: trivial jobs wait on the network,
/// not the CPU).
const WORKER_CONCURRENCY: usize = 64;

fn bench() {
    let nats = NatsServer::start();
    let url = nats.url();
    let me = std::env::current_exe().expect("this binary's path");
    let log = Log::default();
    let mut workers = vec![
        Proc::start_program(&me, "w1", &["worker", &url, "w1"], &log),
        Proc::start_program(&me, "w2", &["worker", &url, "w2"], &log),
    ];
    let backend = NatsBackend::connect(NatsOptions::new(url.as_str())).expect("connect");
    // The default pool: a run in flight holds no worker (`JobBackend::start`).
    let runtime = streamtree::Runtime::builder()
        .backend(Arc::new(backend))
        .build();
    let nonce = now_us();

    println!("distributed (NATS JetStream, loopback, 2 worker processes × {WORKER_CONCURRENCY}):");
    println!(
        "  reference: Celery 5.7 + Redis 7.0, 2 prefork workers: 660–1,010 jobs/s; round trip p50 1.5 ms, p99 2.6–7.6 ms"
    );
    round_trip(&runtime, nonce);
    throughput(&runtime, nonce);
    progress_to_handle(&runtime, nonce);
    progress(&runtime, nonce);
    cancel(&runtime, &log, nonce);
    failover(&runtime, &log, &mut workers, nonce);
}

/// p50 and p99 of `samples` (sorted here), in ms.
fn percentiles(samples: &mut [Duration]) -> (f64, f64) {
    samples.sort();
    let at = |q: f64| {
        let i = ((samples.len() as f64 - 1.0) * q).round() as usize;
        samples[i].as_secs_f64() * 1e3
    };
    (at(0.5), at(0.99))
}

fn round_trip(runtime: &streamtree::Runtime, nonce: u64) {
    let session = Session::builder().runtime(runtime.clone()).build();
    // Warm-up: connections, the stream's consumers, the first allocations.
    for i in 0..50 {
        let h = session.enter(|| job::<Trivial>(&(nonce + i)).submit());
        assert!(session.wait_idle(GUARD), "a warm-up job never finished");
        assert_eq!(h.result(), Some(nonce + i));
    }
    let mut samples = Vec::new();
    for i in 0..1_000 {
        let input = nonce + 1_000 + i;
        let start = Instant::now();
        let h = session.enter(|| job::<Trivial>(&input).submit());
        assert!(session.wait_idle(GUARD), "a job never finished");
        samples.push(start.elapsed());
        assert_eq!(h.result(), Some(input));
    }
    let (p50, p99) = percentiles(&mut samples);
    println!(
        "  round trip, submit → done seen by the web process (1,000 jobs): p50 {p50:.2} ms, p99 {p99:.2} ms  (goal ≤ 1 / ≤ 3 ms)"
    );
}

fn throughput(runtime: &streamtree::Runtime, nonce: u64) {
    let session = Session::builder().runtime(runtime.clone()).build();
    let n = 10_000u64;
    let cpu = process_cpu();
    let start = Instant::now();
    let handles: Vec<_> = session.enter(|| {
        (0..n)
            // Shared: a session's new input under one key supersedes (cancels) the
            // previous one; shared tasks are kept side by side by (job, input).
            .map(|i| job::<Trivial>(&(nonce + 100_000 + i)).shared().submit())
            .collect()
    });
    assert!(
        session.wait_idle(GUARD * 5),
        "the 10,000 jobs never finished"
    );
    let elapsed = start.elapsed();
    let cpu = process_cpu().saturating_sub(cpu);
    let failed: Vec<_> = handles
        .iter()
        .filter(|h| h.result().is_none())
        .map(|h| format!("{:?}: {:?}", h.status(), h.error()))
        .collect();
    assert!(
        failed.is_empty(),
        "{} of {n} jobs did not succeed, e.g. {:?}",
        failed.len(),
        &failed[..failed.len().min(3)]
    );
    println!(
        "  10,000 trivial jobs: {:.0} jobs/s ({:.2} s; web process CPU {:.0} µs per job)  (goal ≥ 10× Celery's, ≥ 8,500)",
        n as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64(),
        cpu.as_secs_f64() * 1e6 / n as f64
    );
}

/// This process's CPU time so far (user + system), from `/proc/self/stat`; zero where
/// that cannot be read.
fn process_cpu() -> Duration {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return Duration::ZERO;
    };
    // The fields after the command's closing parenthesis; utime and stime are 14 and 15.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i)?.parse::<u64>().ok())
        .sum();
    // USER_HZ is 100 on Linux.
    Duration::from_millis(ticks * 10)
}

fn progress(runtime: &streamtree::Runtime, nonce: u64) {
    let mut samples = Vec::new();
    let mut finals = 0;
    let mut seen_total = 0;
    let rounds = 10;
    for round in 0..rounds {
        let input = nonce + 200_000 + round;
        let server = streamtree::serve(move || {
            let h = job::<Stamps>(&input).submit();
            match_task(&h)
                .loading_with(|p| {
                    Text(
                        p.and_then(|p| p.message().map(str::to_owned))
                            .unwrap_or_default(),
                    )
                })
                .ready(|n| Text(format!("done {n}")))
                .error(ErrorBox)
                .into()
        })
        .runtime(runtime.clone())
        .bind(([127, 0, 0, 1], 0))
        .spawn()
        .expect("serve");
        let page = get(server.addr(), None);
        let mut events = Events::open(server.addr(), &page.cookie());
        // Updates made before the stream was open are not pushes: only later stamps count.
        let opened = now_us();
        let mut last_step = 0;
        loop {
            let event = events.next();
            let received = now_us();
            let html = event["html"].as_str().unwrap_or_default();
            if let Some(stamp) = stamp(html)
                && stamp.1 > last_step
            {
                if stamp.0 >= opened {
                    samples.push(Duration::from_micros(received.saturating_sub(stamp.0)));
                    seen_total += 1;
                }
                last_step = stamp.1;
            }
            if html.contains("done ") {
                break;
            }
        }
        if last_step == STAMPS {
            finals += 1;
        }
        server.shutdown().expect("shutdown");
    }
    let (p50, p99) = percentiles(&mut samples);
    println!(
        "  progress → browser event stream ({rounds} runs × {STAMPS} updates 2 ms apart; {seen_total} progress events): p50 {p50:.2} ms, p99 {p99:.2} ms; the last update reached the page in {finals} of {rounds} runs  (goal p99 ≤ 20 ms, final never lost)"
    );
}

/// The same updates seen by the web process itself (its task handle, woken by the
/// session's change notification): the NATS part of the path, without the page's push
/// interval (at most `MAX_PUSHES_PER_SECOND` pushes a second).
fn progress_to_handle(runtime: &streamtree::Runtime, nonce: u64) {
    let mut samples = Vec::new();
    let rounds = 10;
    for round in 0..rounds {
        let session = Session::builder().runtime(runtime.clone()).build();
        let changes = session.subscribe();
        let h = session.enter(|| job::<Stamps>(&(nonce + 250_000 + round)).submit());
        let mut last_step = 0;
        while !h.status().is_terminal() {
            assert!(changes.wait_timeout(GUARD), "no change within the guard");
            let received = now_us();
            // Each update once: a later change (an attempt, the end) shows the same one.
            match h.progress().as_ref().and_then(|p| stamp(p.message()?)) {
                Some((at, step)) if step > last_step => {
                    samples.push(Duration::from_micros(received.saturating_sub(at)));
                    last_step = step;
                }
                _ => {}
            }
        }
    }
    let (p50, p99) = percentiles(&mut samples);
    println!(
        "  progress → the web process's task handle ({rounds} runs × {STAMPS} updates; {} seen): p50 {p50:.2} ms, p99 {p99:.2} ms",
        samples.len()
    );
}

/// `(worker's stamp in µs, step)` from a page showing `t<µs> s<step>`.
fn stamp(html: &str) -> Option<(u64, u32)> {
    let at = html.find(" s")?;
    let t_start = html[..at].rfind('t')? + 1;
    let t = html[t_start..at].parse().ok()?;
    let rest = &html[at + 2..];
    let end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    Some((t, rest[..end].parse().ok()?))
}

fn cancel(runtime: &streamtree::Runtime, log: &Log, nonce: u64) {
    let session = Session::builder().runtime(runtime.clone()).build();
    let mut samples = Vec::new();
    for i in 0..100 {
        let n = nonce + 300_000 + i;
        let h = session.enter(|| job::<Probe>(&n).submit());
        log.wait_line(|l| l == format!("probe {n} started"));
        let asked = now_us();
        h.cancel();
        let line = log.wait_line(|l| l.starts_with(&format!("probe {n} cancel-seen ")));
        let seen: u64 = line
            .rsplit(' ')
            .next()
            .and_then(|t| t.parse().ok())
            .expect("a stamp");
        samples.push(Duration::from_micros(seen.saturating_sub(asked)));
        assert!(session.wait_idle(GUARD), "a cancelled probe never ended");
    }
    let (p50, p99) = percentiles(&mut samples);
    println!(
        "  cancel → the worker's job sees it (100 jobs): p50 {p50:.2} ms, p99 {p99:.2} ms  (goal p99 ≤ 20 ms; Celery: never)"
    );
}

fn failover(runtime: &streamtree::Runtime, log: &Log, workers: &mut [Proc], nonce: u64) {
    let session = Session::builder().runtime(runtime.clone()).build();
    let n = nonce + 400_000;
    let h = session.enter(|| job::<Slow>(&n).submit());
    let started = log.wait_line(|l| l.ends_with(&format!(" slow {n} started")));
    let name = started.split(' ').next().unwrap_or_default();
    let victim = workers
        .iter_mut()
        .find(|w| w.name == name)
        .unwrap_or_else(|| panic!("no worker named in `{started}`"));
    let killed = Instant::now();
    victim.kill();
    assert!(
        session.wait_idle(GUARD * 2),
        "the job never finished after the failover"
    );
    assert_eq!(h.result(), Some(n));
    println!(
        "  failover: kill -9 of the worker running a 2 s job → done on the other worker: {:.2} s after the kill (attempt {})",
        killed.elapsed().as_secs_f64(),
        h.attempt()
    );
}
