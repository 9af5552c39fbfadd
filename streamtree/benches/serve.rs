//! Push latency of the live server: from a task finishing (its gate opened) to the Server-
//! Sent Event showing it arriving at a client on loopback, with 1, 100 and 1,000
//! concurrent sessions, each holding an open push connection and a running task; plus the
//! process's resident memory (`VmRSS`) with all sessions up.
//!
//! Two modes: `one at a time` opens one gate and waits for its event before the next;
//! `all at once` opens every gate of a round together (a burst of n reruns). Sessions with
//! few samples repeat rounds (a click on `next` re-arms the task).
//!
//! The server caps pushes at 60 per second and session by default, so a task finishing within 1/60 s
//! of that session's previous push waits for the interval: the load generator paces each
//! session to stay under the cap (it measures latency, not the throttle).
//!
//! The load generator talks only to 127.0.0.1, is bounded in count, and every round has a
//! time limit; it stops by itself. RSS covers the whole process: server, task workers and
//! the client side (one socket and buffer per session).
//!
//! Run: `cargo bench -p streamtree --features serve --bench serve`.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

#[path = "common/slot_gate.rs"]
mod slot_gate;

use slot_gate::{gate, release};
use streamtree::prelude::*;
use streamtree::{Runtime, serve};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// Time limit for one round (all its samples), and for setting up all sessions.
const LIMIT: Duration = Duration::from_secs(120);
/// Samples wanted per configuration; fewer sessions repeat rounds.
const SAMPLES: usize = 200;
/// Over the server's push interval (1/60 s by default; kept at the 1/30 s pace the
/// figures were first taken with, so they stay comparable).
const PACE: Duration = Duration::from_millis(40);

/// Counts tasks that started, so rounds begin with every task running.
static STARTED: (Mutex<u64>, Condvar) = (Mutex::new(0), Condvar::new());
static NEXT_SLOT: AtomicUsize = AtomicUsize::new(0);

fn wait_started(total: u64) {
    let (count, changed) = &STARTED;
    let (count, timeout) = changed
        .wait_timeout_while(count.lock().unwrap(), LIMIT, |c| *c < total)
        .unwrap();
    assert!(
        !timeout.timed_out(),
        "only {} of {total} tasks started",
        *count
    );
}

/// Each session: its slot, and a task per round that finishes when the bench opens its gate.
fn bench_app() -> Element {
    let slot = session_state("slot", || NEXT_SLOT.fetch_add(1, Ordering::SeqCst)).get();
    let round = session_state("round", || 0u64);
    let r = round.get();
    let job = submit(&format!("job{r}"), move || {
        *STARTED.0.lock().unwrap() += 1;
        STARTED.1.notify_all();
        let g = gate(slot);
        let released = g.released.lock().unwrap();
        drop(
            g.changed
                .wait_while(released, |released| *released <= r)
                .unwrap(),
        );
        r
    });
    let next = round.clone();
    let status: Element = match_task(&job)
        .ready(|r| Text(format!("finished {r};")))
        .into();
    VStack([
        Text(format!("slot={slot};")),
        status,
        Button("next").on_click(move || next.update(|r| *r += 1)),
    ])
}

/// One client: its session's cookie, token, slot and open event stream.
struct Client {
    cookie: String,
    token: String,
    slot: usize,
    events: BufReader<TcpStream>,
    /// When this session last changed (an event or a click): the pacing reference.
    last_change: tokio::time::Instant,
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let from = text.find(start).expect("marker in page") + start.len();
    let len = text[from..].find(end).expect("end marker in page");
    &text[from..from + len]
}

async fn exchange(addr: SocketAddr, request: String) -> String {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut reply = String::new();
    tcp.read_to_string(&mut reply).await.unwrap();
    reply
}

impl Client {
    async fn connect(addr: SocketAddr) -> Client {
        // A first visit gets a minted cookie; bringing it back creates the session.
        let visit = exchange(
            addr,
            "GET / HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n".to_owned(),
        )
        .await;
        let minted = between(&visit, "set-cookie: ", ";").to_owned();
        let page = exchange(
            addr,
            format!("GET / HTTP/1.1\r\nHost: b\r\nConnection: close\r\nCookie: {minted}\r\n\r\n"),
        )
        .await;
        assert!(
            page.starts_with("HTTP/1.1 200"),
            "{}",
            &page[..page.len().min(300)]
        );
        let cookie = between(&page, "set-cookie: ", ";").to_owned();
        let token = between(&page, "name=\"token\" value=\"", "\"").to_owned();
        let slot = between(&page, "slot=", ";").parse().unwrap();
        // HTTP/1.0: the event stream is close-delimited, not chunked.
        let mut tcp = TcpStream::connect(addr).await.unwrap();
        let req = format!("GET /events HTTP/1.0\r\nHost: b\r\nCookie: {cookie}\r\n\r\n");
        tcp.write_all(req.as_bytes()).await.unwrap();
        let mut events = BufReader::new(tcp);
        let mut line = String::new();
        loop {
            line.clear();
            events.read_line(&mut line).await.unwrap();
            if line == "\r\n" {
                break;
            }
        }
        let mut client = Client {
            cookie,
            token,
            slot,
            events,
            last_change: tokio::time::Instant::now(),
        };
        client.until("slot=").await;
        client
    }

    /// Reads events until one contains `needle`.
    async fn until(&mut self, needle: &str) {
        let mut line = String::new();
        loop {
            line.clear();
            let n = self.events.read_line(&mut line).await.unwrap();
            assert!(n > 0, "event stream ended");
            if line.starts_with("data:") && line.contains(needle) {
                self.last_change = tokio::time::Instant::now();
                return;
            }
        }
    }

    /// Waits until this session's last change is older than the server's push interval.
    async fn pace(&self) {
        tokio::time::sleep_until(self.last_change + PACE).await;
    }

    async fn click_next(&mut self, addr: SocketAddr) {
        self.last_change = tokio::time::Instant::now();
        let body = format!("token={}&key=next", self.token);
        let req = format!(
            "POST /click HTTP/1.1\r\nHost: b\r\nConnection: close\r\nCookie: {}\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
            self.cookie,
            body.len()
        );
        let reply = exchange(addr, req).await;
        assert!(reply.starts_with("HTTP/1.1 303"), "{reply}");
    }
}

fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0.0);
    kb / 1024.0
}

/// Soft limit on open files, from `/proc/self/limits`.
fn fd_limit() -> Option<usize> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

fn percentile(sorted: &[Duration], p: usize) -> Duration {
    sorted[(sorted.len() * p / 100).min(sorted.len() - 1)]
}

struct Row {
    sessions: usize,
    mode: &'static str,
    samples: Vec<Duration>,
    rss_mib: f64,
}

fn measure(sessions: usize, burst: bool) -> Row {
    let runtime = Runtime::builder().max_workers(sessions + 8).build();
    let server = serve(bench_app)
        .bind(([127, 0, 0, 1], 0))
        .runtime(runtime)
        .max_sessions(sessions)
        .session_idle_timeout(Duration::from_secs(600))
        .spawn()
        .unwrap();
    let addr = server.addr();
    let clients_rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let rounds = SAMPLES.div_ceil(sessions) as u64;
    let started_before = *STARTED.0.lock().unwrap();
    let (samples, rss) = clients_rt.block_on(async {
        let mut clients = tokio::time::timeout(LIMIT, async {
            let mut clients = Vec::with_capacity(sessions);
            for _ in 0..sessions {
                clients.push(Client::connect(addr).await);
            }
            clients
        })
        .await
        .expect("sessions set up in time");
        let mut samples = Vec::new();
        let mut rss = 0.0;
        for round in 0..rounds {
            wait_started(started_before + (round + 1) * sessions as u64);
            rss = rss_mib();
            let needle = format!("finished {round};");
            let timed = tokio::time::timeout(LIMIT, async {
                if burst {
                    for c in &clients {
                        c.pace().await;
                    }
                    let start = Instant::now();
                    for c in &clients {
                        release(c.slot, round);
                    }
                    let mut readers = Vec::new();
                    for mut c in clients.drain(..) {
                        let needle = needle.clone();
                        readers.push(tokio::spawn(async move {
                            c.until(&needle).await;
                            (c, start.elapsed())
                        }));
                    }
                    for r in readers {
                        let (c, latency) = r.await.unwrap();
                        samples.push(latency);
                        clients.push(c);
                    }
                } else {
                    for c in &mut clients {
                        c.pace().await;
                        let start = Instant::now();
                        release(c.slot, round);
                        c.until(&needle).await;
                        samples.push(start.elapsed());
                    }
                }
                if round + 1 < rounds {
                    for c in &mut clients {
                        c.click_next(addr).await;
                    }
                }
            });
            timed.await.expect("round finished in time");
        }
        (samples, rss)
    });
    drop(clients_rt);
    server.shutdown().unwrap();
    Row {
        sessions,
        mode: if burst {
            "all at once"
        } else {
            "one at a time"
        },
        samples,
        rss_mib: rss,
    }
}

fn main() {
    let mut sizes = vec![1, 100, 1000];
    if let Some(limit) = fd_limit() {
        // Each session holds two sockets here (client and server side) plus a few spare.
        let max = limit.saturating_sub(64) / 2;
        if max < 1000 {
            eprintln!("open-file limit {limit}: capping sessions at {max} (raise `ulimit -n`)");
            sizes.retain(|&n| n <= max);
            sizes.push(max);
        }
    }
    println!("live server push latency (task finished -> SSE event at a loopback client)");
    println!(
        "{:>9}  {:<14} {:>8} {:>10} {:>10} {:>10}",
        "sessions", "mode", "samples", "p50", "p99", "RSS"
    );
    for &n in &sizes {
        for burst in [false, true] {
            if n == 1 && burst {
                continue;
            }
            let mut row = measure(n, burst);
            row.samples.sort();
            println!(
                "{:>9}  {:<14} {:>8} {:>10.2?} {:>10.2?} {:>7.1} MiB",
                row.sessions,
                row.mode,
                row.samples.len(),
                percentile(&row.samples, 50),
                percentile(&row.samples, 99),
                row.rss_mib
            );
        }
    }
}
