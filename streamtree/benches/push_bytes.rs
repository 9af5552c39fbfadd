//! Bytes and server CPU per push for a progress tick on a page holding a 100 × 100 table,
//! with whole-page pushes (`Server::partial_updates(false)`, the old behaviour) and with
//! keyed partial updates, in one run; then the push latency of such ticks with 100
//! sessions, each with its page, its table and an open event stream.
//!
//! Each session's task reports progress `tick=<i>;` and waits for the bench to release
//! the next tick; the bench releases one tick, reads the event that shows it, and so on.
//! Bytes are the event's `data:` as sent (uncompressed). CPU is the process's user and
//! system time over the ticks (`/proc/self/stat`) divided by the ticks: the server's
//! rerun, render, diff and write, plus this process's loopback client reading the bytes.
//!
//! The server caps pushes at 30 per second and session: the bytes and CPU part waits for
//! each event before releasing the next tick (idle time costs no CPU); the latency part
//! visits 100 sessions in turn, so each session's previous push is far older than 1/30 s.
//!
//! Run: `cargo bench -p streamtree --features serve --bench push_bytes` (part of
//! `cargo xtask bench`).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

#[path = "common/slot_gate.rs"]
mod slot_gate;

use slot_gate::{gate, release};
use streamtree::prelude::*;
use streamtree::{Runtime, serve};

/// Time limit for any one read.
const LIMIT: Duration = Duration::from_secs(60);
/// Ticks measured per mode for bytes and CPU.
const TICKS: u64 = 150;
/// Sessions, and rounds over them, for the latency part.
const SESSIONS: usize = 100;
const ROUNDS: u64 = 3;
/// The budget per tick (issue 12) and the latency goal at 100 sessions.
const BYTES_GOAL: usize = 2048;
const P99_GOAL: Duration = Duration::from_millis(10);

/// Ends the slot's task.
const STOP: u64 = u64::MAX;

fn stop(slot: usize) {
    release(slot, STOP - 1);
}

static NEXT_SLOT: AtomicUsize = AtomicUsize::new(0);

/// A progress bar fed by a stepped task, beside a 100 × 100 table.
fn tick_app() -> Element {
    let slot = session_state("slot", || NEXT_SLOT.fetch_add(1, Ordering::SeqCst)).get();
    let task = submit_with("ticks", move |ctx: &TaskContext| {
        let g = gate(slot);
        for i in 0..u64::MAX {
            ctx.set_progress(((i % 1000) as f64 / 1000.0, format!("tick={i};")));
            let released = g.released.lock().unwrap();
            let (released, timeout) = g
                .changed
                .wait_timeout_while(released, LIMIT, |r| *r <= i)
                .unwrap();
            if timeout.timed_out() || *released == STOP {
                return;
            }
        }
    });
    let status: Element = match_task(&task)
        .loading_with(|p| match p {
            Some(p) => ProgressBar(p),
            None => Text("Queued…"),
        })
        .ready(|()| Text("Stopped."))
        .into();
    let rows = (0..100).map(|r| (0..100).map(move |c| format!("r{r}c{c}")));
    Page([
        Text(format!("slot={slot};")),
        Card([Markdown("### Ticks"), status]),
        Table(rows),
    ])
    .title("Ticks")
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let from = text.find(start).expect("marker in page") + start.len();
    let len = text[from..].find(end).expect("end marker in page");
    &text[from..from + len]
}

fn exchange(addr: SocketAddr, request: &str) -> String {
    let mut tcp = TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(LIMIT)).unwrap();
    tcp.write_all(request.as_bytes()).unwrap();
    let mut reply = String::new();
    tcp.read_to_string(&mut reply).unwrap();
    reply
}

/// One session: its slot and open event stream.
struct Client {
    slot: usize,
    events: BufReader<TcpStream>,
}

impl Client {
    fn connect(addr: SocketAddr) -> Client {
        let visit = exchange(
            addr,
            "GET / HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n",
        );
        let minted = between(&visit, "set-cookie: ", ";").to_owned();
        let page = exchange(
            addr,
            &format!("GET / HTTP/1.1\r\nHost: b\r\nConnection: close\r\nCookie: {minted}\r\n\r\n"),
        );
        assert!(page.starts_with("HTTP/1.1 200"), "{:.300}", page);
        let cookie = between(&page, "set-cookie: ", ";").to_owned();
        let slot = between(&page, "slot=", ";").parse().unwrap();
        let mut tcp = TcpStream::connect(addr).unwrap();
        tcp.set_read_timeout(Some(LIMIT)).unwrap();
        let req = format!("GET /events HTTP/1.0\r\nHost: b\r\nCookie: {cookie}\r\n\r\n");
        tcp.write_all(req.as_bytes()).unwrap();
        let mut events = BufReader::new(tcp);
        let mut line = String::new();
        while line != "\r\n" {
            line.clear();
            events.read_line(&mut line).unwrap();
        }
        let mut client = Client { slot, events };
        client.until("tick=0;");
        client
    }

    /// Reads events until one's data contains `needle`; returns that data's size.
    fn until(&mut self, needle: &str) -> usize {
        let mut line = String::new();
        loop {
            line.clear();
            let n = self.events.read_line(&mut line).unwrap();
            assert!(n > 0, "event stream ended");
            if let Some(data) = line.strip_prefix("data:")
                && data.contains(needle)
            {
                return data.trim().len();
            }
        }
    }
}

/// This process's user + system CPU time (`/proc/self/stat`, clock ticks of 10 ms on
/// Linux's usual `CLK_TCK` of 100).
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i)?.parse::<u64>().ok())
        .sum();
    Duration::from_millis(ticks * 10)
}

fn server(partial: bool, sessions: usize) -> streamtree::Running {
    serve(tick_app)
        .bind(([127, 0, 0, 1], 0))
        .runtime(Runtime::builder().max_workers(sessions + 4).build())
        .max_sessions(sessions)
        .session_idle_timeout(Duration::from_secs(600))
        .partial_updates(partial)
        .spawn()
        .unwrap()
}

/// Bytes per tick (mean and max) and CPU per tick, one session.
fn bytes_and_cpu(partial: bool) -> (f64, usize, Duration) {
    let server = server(partial, 1);
    let mut client = Client::connect(server.addr());
    let mut sizes = Vec::new();
    let cpu = cpu_time();
    for tick in 0..TICKS {
        release(client.slot, tick);
        sizes.push(client.until(&format!("tick={};", tick + 1)));
    }
    let cpu = cpu_time().saturating_sub(cpu) / TICKS as u32;
    stop(client.slot);
    server.shutdown().unwrap();
    let mean = sizes.iter().sum::<usize>() as f64 / sizes.len() as f64;
    (mean, *sizes.iter().max().unwrap(), cpu)
}

fn latency_at(sessions: usize) -> Vec<Duration> {
    let server = server(true, sessions);
    let mut clients: Vec<Client> = (0..sessions)
        .map(|_| Client::connect(server.addr()))
        .collect();
    let mut samples = Vec::new();
    for round in 0..ROUNDS {
        for c in &mut clients {
            let start = Instant::now();
            release(c.slot, round);
            c.until(&format!("tick={};", round + 1));
            samples.push(start.elapsed());
        }
    }
    for c in &clients {
        stop(c.slot);
    }
    server.shutdown().unwrap();
    samples.sort();
    samples
}

fn main() {
    println!("push_bytes: a progress tick on a page with a 100 x 100 table");
    let (whole_mean, whole_max, whole_cpu) = bytes_and_cpu(false);
    let (patch_mean, patch_max, patch_cpu) = bytes_and_cpu(true);
    println!("| pushes | bytes per tick (mean) | max | CPU per tick |");
    println!("| --- | ---: | ---: | ---: |");
    println!(
        "| whole page (partial_updates(false)) | {whole_mean:.0} | {whole_max} | {whole_cpu:?} |"
    );
    println!("| keyed partial updates | {patch_mean:.0} | {patch_max} | {patch_cpu:?} |");
    println!(
        "goal <= {BYTES_GOAL} bytes per tick: {}",
        if patch_max <= BYTES_GOAL {
            "met"
        } else {
            "MISSED"
        }
    );
    let samples = latency_at(SESSIONS);
    let p = |q: usize| samples[(samples.len() * q / 100).min(samples.len() - 1)];
    println!(
        "push latency, {SESSIONS} sessions, one tick at a time ({} samples): p50 {:?}, p99 {:?}, max {:?}; goal p99 <= {P99_GOAL:?}: {}",
        samples.len(),
        p(50),
        p(99),
        samples[samples.len() - 1],
        if p(99) <= P99_GOAL { "met" } else { "MISSED" }
    );
}
