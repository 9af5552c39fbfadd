//! Task runtime benchmarks, run by `cargo xtask bench` (`cargo bench -p streamtree`):
//!
//! 1. `submit_existing_key`: the every-rerun path (goal ≤ 50 ns; reference ≈ 1 µs).
//! 2. `throughput_*`: trivial tasks submitted and all completed, as items/s: streamtree
//!    beside `rayon::spawn` and thread-per-task (`std::thread::spawn`, the reference's
//!    model; fewer tasks, since each costs a thread). Goal ≥ 1,000,000 tasks/s and
//!    within 2× of rayon.
//! 3. Notification latency, task completes → subscriber wakes: p50 and p99, printed after
//!    the table (goal p99 ≤ 100 µs); `notify_round_trip` times the whole round trip.
//! 4. Memory of a finished task's slot, excluding key and result, printed after the table
//!    (goal ≤ 256 bytes).
//! 5. `task_input_existing_key`: `task(..).input(..).run(..)` on an existing (key, input),
//!    the every-rerun path of the life-cycle API (goal ≤ 2× `submit_existing_key`).
//! 6. RSS of 100,000 collected tasks (`gc_after(500 ms)`, distinct keys), printed after the
//!    table: before, with them alive, after their collection (goal: within 10% of before).
//!    "Before" is taken after one warm-up round, so the allocator's and the pool's one-time
//!    growth is not counted as a leak.

use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::channel;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use divan::Bencher;
use divan::counter::ItemsCount;
use streamtree::asyncio::{TASK_SLOT_BYTES, TaskContext, TaskStatus, submit, task};
use streamtree::{Runtime, Session};

const TASKS: usize = 100_000;
const THREAD_TASKS: usize = 10_000;
const LONG: Duration = Duration::from_secs(120);

fn main() {
    divan::main();
    notification_latency();
    collected_tasks_rss();
    println!(
        "task slot (finished, excluding key and result): {TASK_SLOT_BYTES} bytes (goal <= 256)"
    );
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

#[divan::bench(sample_count = 100, sample_size = 2000)]
fn submit_existing_key(bencher: Bencher) {
    let session = Session::new();
    session.enter(|| {
        submit("existing", || 1u64);
        assert!(session.wait_idle(LONG));
        bencher.bench_local(|| submit(black_box("existing"), || 2u64));
    });
}

#[divan::bench(sample_count = 100, sample_size = 2000)]
fn task_input_existing_key(bencher: Bencher) {
    let session = Session::new();
    session.enter(|| {
        task("existing")
            .input(&42u64)
            .run(|_: &TaskContext| Ok::<_, String>(1u64));
        assert!(session.wait_idle(LONG));
        bencher.bench_local(|| {
            task(black_box("existing"))
                .input(black_box(&42u64))
                .run(|_: &TaskContext| Ok::<_, String>(2u64))
        });
    });
}

/// Resident set size of this process, in KiB (Linux `/proc/self/statm`; 0 elsewhere).
fn rss_kib() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4
}

/// One round: `TASKS` tasks with distinct inputs and `gc_after(0)`, run to the end and
/// collected. Returns the RSS with all of them alive (KiB).
fn collect_round(session: &Session, keys: &[String]) -> u64 {
    let mut probes = Vec::new();
    session.enter(|| {
        for (i, key) in keys.iter().enumerate() {
            // Distinct keys: under one key, each new input would supersede (cancel) the
            // previous one before it ran.
            let h = task(key)
                .input(&i)
                .gc_after(Duration::from_millis(500))
                .run(move |_: &TaskContext| Ok::<_, String>(vec![i as u64; 4]));
            if i % 1000 == 999 {
                probes.push(h);
            }
        }
    });
    assert!(session.wait_idle(LONG));
    let alive = rss_kib();
    // Collection runs on the timer thread; a bench may poll (tests never do).
    let deadline = Instant::now() + LONG;
    while probes.iter().any(|h| h.status() != TaskStatus::Missing) {
        assert!(Instant::now() < deadline, "tasks were not collected");
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(
        session
            .enter(streamtree::asyncio::summarize_async_tasks)
            .is_empty()
    );
    alive
}

/// Figure 6: memory of collected tasks returns.
fn collected_tasks_rss() {
    let rt = Runtime::builder().max_workers(cores()).build();
    let session = Session::builder().runtime(rt).build();
    let keys = keys(TASKS);
    let fresh = rss_kib();
    collect_round(&session, &keys); // warm-up: allocator arenas, workers, table capacity
    let before = rss_kib();
    let alive = collect_round(&session, &keys);
    let after = rss_kib();
    let change = (after as f64 - before as f64) / before.max(1) as f64 * 100.0;
    println!(
        "RSS of {TASKS} collected tasks: fresh {fresh} KiB, before {before} KiB, alive {alive} KiB, \
         after collection {after} KiB ({change:+.1}% vs before; goal within 10%)"
    );
}

fn keys(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("task-{i}")).collect()
}

/// `TASKS` trivial tasks through a fresh session on a runtime bounded to `max_workers`
/// (the cores, or the default bound for blocking I/O).
#[divan::bench(args = ["workers=cores", "workers=64"], sample_count = 10, sample_size = 1)]
fn throughput_streamtree(bencher: Bencher, bound: &str) {
    let max_workers = match bound {
        "workers=cores" => cores(),
        _ => Runtime::DEFAULT_MAX_WORKERS,
    };
    let rt = Runtime::builder().max_workers(max_workers).build();
    let keys = keys(TASKS);
    bencher
        .counter(ItemsCount::new(TASKS))
        .with_inputs(|| Session::builder().runtime(rt.clone()).build())
        .bench_local_values(|session| {
            session.enter(|| {
                for key in &keys {
                    submit(key, || black_box(()));
                }
            });
            assert!(session.wait_idle(LONG));
            session
        });
}

/// Counts finished jobs; `wait` blocks until `n` finished.
struct Latch {
    done: AtomicUsize,
    lock: Mutex<()>,
    cv: Condvar,
}

impl Latch {
    fn new() -> Arc<Latch> {
        Arc::new(Latch {
            done: AtomicUsize::new(0),
            lock: Mutex::new(()),
            cv: Condvar::new(),
        })
    }
    fn count(&self, n: usize) {
        if self.done.fetch_add(1, Ordering::SeqCst) + 1 == n {
            drop(self.lock.lock().unwrap());
            self.cv.notify_all();
        }
    }
    fn wait(&self, n: usize) {
        let g = self.lock.lock().unwrap();
        drop(
            self.cv
                .wait_while(g, |()| self.done.load(Ordering::SeqCst) < n)
                .unwrap(),
        );
    }
}

#[divan::bench(sample_count = 10, sample_size = 1)]
fn throughput_rayon(bencher: Bencher) {
    bencher.counter(ItemsCount::new(TASKS)).bench_local(|| {
        let latch = Latch::new();
        for _ in 0..TASKS {
            let latch = latch.clone();
            rayon::spawn(move || {
                black_box(());
                latch.count(TASKS);
            });
        }
        latch.wait(TASKS);
    });
}

#[divan::bench(sample_count = 3, sample_size = 1)]
fn throughput_thread_per_task(bencher: Bencher) {
    bencher
        .counter(ItemsCount::new(THREAD_TASKS))
        .bench_local(|| {
            let latch = Latch::new();
            for _ in 0..THREAD_TASKS {
                let latch = latch.clone();
                std::thread::spawn(move || {
                    black_box(());
                    latch.count(THREAD_TASKS);
                });
            }
            latch.wait(THREAD_TASKS);
        });
}

/// One task's whole life seen by a subscriber: submit, run, complete, wake.
#[divan::bench(sample_count = 200)]
fn notify_round_trip(bencher: Bencher) {
    let rt = Runtime::builder().max_workers(1).build();
    let session = Session::builder().runtime(rt).build();
    let sub = session.subscribe();
    let keys = keys(1_000_000);
    let mut next = 0;
    session.enter(|| {
        bencher.bench_local(|| {
            let h = submit(&keys[next % keys.len()], || ());
            next += 1;
            while h.status() != TaskStatus::Done {
                sub.recv();
            }
        });
    });
}

/// Figure 3: from the moment a task's closure returns to the moment a subscriber blocked
/// on its subscription wakes.
fn notification_latency() {
    const SAMPLES: usize = 2_000;
    let rt = Runtime::builder().max_workers(1).build();
    let session = Session::builder().runtime(rt).build();
    let sub = session.subscribe();
    let keys = keys(SAMPLES);
    let mut latencies = Vec::with_capacity(SAMPLES);
    for key in &keys {
        let (go, go_rx) = channel::<()>();
        let (t0_tx, t0_rx) = channel();
        let h = session.enter(|| {
            submit(key, move || {
                go_rx.recv().unwrap();
                t0_tx.send(Instant::now()).unwrap();
            })
        });
        while h.status() != TaskStatus::Running {
            sub.recv();
        }
        while sub.try_recv() {}
        go.send(()).unwrap();
        while h.status() != TaskStatus::Done {
            assert!(sub.recv());
        }
        let woke = Instant::now();
        latencies.push(woke.duration_since(t0_rx.recv().unwrap()));
    }
    latencies.sort();
    let p = |q: f64| latencies[((latencies.len() as f64 - 1.0) * q).round() as usize];
    println!(
        "notification latency (task completes -> subscriber wakes), {SAMPLES} samples: \
         p50 {:.1} µs, p99 {:.1} µs, max {:.1} µs (goal p99 <= 100 µs)",
        p(0.50).as_secs_f64() * 1e6,
        p(0.99).as_secs_f64() * 1e6,
        p(1.0).as_secs_f64() * 1e6,
    );
}
