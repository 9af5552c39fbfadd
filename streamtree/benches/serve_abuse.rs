//! `serve_abuse`: the demo server (a separate release process) under hostile clients on
//! loopback. For each attack, a victim session's fresh-connection `GET /` latency (p50,
//! p99, timeouts), whether a new visitor (no cookie) gets the app, and the server's
//! resident memory during the attack.
//!
//! The server binary comes from `STREAMTREE_DEMO_BIN` (`cargo xtask bench` builds the
//! gallery example in release and sets it), so the same load can be aimed at any
//! version of the server. Counts are bounded and set by `STREAMTREE_ABUSE_N` (default
//! 1,000 connections per attack) and the server starts with a soft open-file limit of
//! `STREAMTREE_ABUSE_NOFILE` (default 1,024); every wait has a time limit, so a run ends in about
//! two minutes whatever the server does. The load talks only to 127.0.0.1.
//!
//! Run: `cargo xtask bench -- serve_abuse` (or set `STREAMTREE_DEMO_BIN` and
//! `cargo bench -p streamtree --features serve --bench serve_abuse`).

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinSet;

/// Time limit for one request of the measuring client.
const REQUEST_LIMIT: Duration = Duration::from_secs(5);
/// Victim samples per attack, and the time budget for them.
const SAMPLES: usize = 40;
const SAMPLE_BUDGET: Duration = Duration::from_secs(12);
/// Time the attack runs before sampling starts.
const SETTLE: Duration = Duration::from_millis(1500);

/// One HTTP/1.1 exchange on a fresh connection (`Connection: close`), within `limit`:
/// the status and the whole reply, or `None` on timeout or error.
async fn exchange(addr: SocketAddr, request: &str, limit: Duration) -> Option<(u16, String)> {
    let run = async {
        let mut tcp = TcpStream::connect(addr).await.ok()?;
        tcp.write_all(request.as_bytes()).await.ok()?;
        let mut reply = Vec::new();
        tcp.read_to_end(&mut reply).await.ok()?;
        let reply = String::from_utf8_lossy(&reply).into_owned();
        let status = reply.get(9..12)?.parse().ok()?;
        Some((status, reply))
    };
    tokio::time::timeout(limit, run).await.ok().flatten()
}

fn get(cookie: Option<&str>) -> String {
    let cookie = cookie
        .map(|c| format!("Cookie: {c}\r\n"))
        .unwrap_or_default();
    format!("GET / HTTP/1.1\r\nHost: b\r\nConnection: close\r\n{cookie}\r\n")
}

/// A new session's cookie (`st_session=..`), if the server gives one.
async fn new_session(addr: SocketAddr) -> Option<String> {
    let (status, reply) = exchange(addr, &get(None), REQUEST_LIMIT).await?;
    if status != 200 {
        return None;
    }
    let from = reply.to_ascii_lowercase().find("set-cookie: ")? + "set-cookie: ".len();
    let rest = &reply[from..];
    Some(rest[..rest.find(';')?].to_owned())
}

fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0.0);
    kb / 1024.0
}

fn percentile(sorted: &[Duration], p: usize) -> Option<Duration> {
    (!sorted.is_empty()).then(|| sorted[(sorted.len() * p / 100).min(sorted.len() - 1)])
}

/// The attacks; each runs in the background until its `stop` flag is set.
#[derive(Clone, Copy)]
enum Attack {
    None,
    /// No attack, after all the others: does memory come back?
    After,
    Slowloris,
    OpenConnections,
    CookielessGet,
    CookielessHead,
    StreamsOneSession,
    GetsOneSession,
}

impl Attack {
    fn name(self, n: usize) -> String {
        match self {
            Attack::None => "no attack".to_owned(),
            Attack::After => "no attack, after the others".to_owned(),
            Attack::Slowloris => format!("{n} slowloris connections"),
            Attack::OpenConnections => format!("{} idle connections", n + n / 10),
            Attack::CookielessGet => format!("cookieless GET / flood ({n} at a time)"),
            Attack::CookielessHead => format!("cookieless HEAD / flood ({n} at a time)"),
            Attack::StreamsOneSession => format!("{n} event streams on one session"),
            Attack::GetsOneSession => format!("{} concurrent GET / on one session", n * 6 / 10),
        }
    }

    /// Starts the attack; its tasks hold their connections until `stop`.
    async fn start(self, addr: SocketAddr, n: usize, stop: Arc<AtomicBool>) -> JoinSet<()> {
        let mut set = JoinSet::new();
        match self {
            Attack::None | Attack::After => {}
            Attack::Slowloris => {
                for _ in 0..n {
                    let stop = stop.clone();
                    set.spawn(async move {
                        let Ok(mut tcp) = TcpStream::connect(addr).await else {
                            return;
                        };
                        let _ = tcp.write_all(b"GET / HTTP/1.1\r\nHost: b\r\n").await;
                        // One more header line every 10 s, as long as the server listens.
                        let mut ticks = 0u32;
                        while !stop.load(Ordering::Relaxed) {
                            tokio::time::sleep(Duration::from_millis(500)).await;
                            ticks += 1;
                            if ticks.is_multiple_of(20)
                                && tcp.write_all(b"X-Slow: 1\r\n").await.is_err()
                            {
                                return;
                            }
                        }
                    });
                }
            }
            Attack::OpenConnections => {
                for _ in 0..n + n / 10 {
                    let stop = stop.clone();
                    set.spawn(async move {
                        let Ok(_tcp) = TcpStream::connect(addr).await else {
                            return;
                        };
                        while !stop.load(Ordering::Relaxed) {
                            tokio::time::sleep(Duration::from_millis(200)).await;
                        }
                    });
                }
            }
            Attack::CookielessGet | Attack::CookielessHead => {
                let method = if matches!(self, Attack::CookielessGet) {
                    "GET"
                } else {
                    "HEAD"
                };
                let request =
                    format!("{method} / HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n");
                for _ in 0..n {
                    let (stop, request) = (stop.clone(), request.clone());
                    set.spawn(async move {
                        while !stop.load(Ordering::Relaxed) {
                            exchange(addr, &request, REQUEST_LIMIT).await;
                        }
                    });
                }
            }
            Attack::StreamsOneSession => {
                let Some(cookie) = new_session(addr).await else {
                    return set;
                };
                let request =
                    format!("GET /events HTTP/1.1\r\nHost: b\r\nCookie: {cookie}\r\n\r\n");
                for _ in 0..n {
                    let (stop, request) = (stop.clone(), request.clone());
                    set.spawn(async move {
                        let Ok(mut tcp) = TcpStream::connect(addr).await else {
                            return;
                        };
                        let _ = tcp.write_all(request.as_bytes()).await;
                        let mut buf = vec![0u8; 4096];
                        while !stop.load(Ordering::Relaxed) {
                            let read = tokio::time::timeout(
                                Duration::from_millis(200),
                                tcp.read(&mut buf),
                            );
                            if let Ok(Ok(0) | Err(_)) = read.await {
                                return;
                            }
                        }
                    });
                }
            }
            Attack::GetsOneSession => {
                let Some(cookie) = new_session(addr).await else {
                    return set;
                };
                let request = get(Some(&cookie));
                for _ in 0..n * 6 / 10 {
                    let (stop, request) = (stop.clone(), request.clone());
                    set.spawn(async move {
                        while !stop.load(Ordering::Relaxed) {
                            exchange(addr, &request, Duration::from_secs(30)).await;
                        }
                    });
                }
            }
        }
        set
    }
}

struct Row {
    attack: String,
    samples: Vec<Duration>,
    timeouts: usize,
    visitor: String,
    rss_mib: f64,
}

async fn measure(addr: SocketAddr, pid: u32, victim: &str, attack: Attack, n: usize) -> Row {
    let stop = Arc::new(AtomicBool::new(false));
    let mut attackers = attack.start(addr, n, stop.clone()).await;
    tokio::time::sleep(SETTLE).await;
    let (mut samples, mut timeouts) = (Vec::new(), 0);
    let began = Instant::now();
    while samples.len() + timeouts < SAMPLES && began.elapsed() < SAMPLE_BUDGET {
        let t = Instant::now();
        match exchange(addr, &get(Some(victim)), REQUEST_LIMIT).await {
            Some((200, _)) => samples.push(t.elapsed()),
            _ => timeouts += 1,
        }
    }
    let visitor = match exchange(addr, &get(None), REQUEST_LIMIT).await {
        Some((status, _)) => status.to_string(),
        None => "timeout".to_owned(),
    };
    let rss_mib = rss_mib(pid);
    stop.store(true, Ordering::Relaxed);
    // Attackers end within their poll interval; a stuck one is dropped after the limit.
    let _ = tokio::time::timeout(Duration::from_secs(10), async {
        while attackers.join_next().await.is_some() {}
    })
    .await;
    attackers.abort_all();
    samples.sort();
    Row {
        attack: attack.name(n),
        samples,
        timeouts,
        visitor,
        rss_mib,
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// Starts the demo server with a soft open-file limit of `nofile` (as `ulimit -n`) and
/// waits (up to 60 s) until it answers.
async fn start_server(bin: &str, port: u16, nofile: u32) -> Child {
    let child = Command::new("sh")
        .args([
            "-c",
            "ulimit -Sn \"$1\" && exec \"$0\" --serve --port \"$2\"",
            bin,
            &nofile.to_string(),
            &port.to_string(),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start the demo server `{bin}`: {e}"));
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(addr).await.is_err() {
        assert!(Instant::now() < deadline, "the demo server never listened");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    child
}

fn main() {
    let Ok(bin) = std::env::var("STREAMTREE_DEMO_BIN") else {
        eprintln!(
            "serve_abuse: skipped (set STREAMTREE_DEMO_BIN to a gallery binary; \
             `cargo xtask bench` does)"
        );
        return;
    };
    let n: usize = std::env::var("STREAMTREE_ABUSE_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000)
        .clamp(1, 5000);
    let label = std::env::var("STREAMTREE_ABUSE_LABEL").unwrap_or_default();
    // The server starts as under a common default `ulimit -n`; it may raise it itself.
    let nofile: u32 = std::env::var("STREAMTREE_ABUSE_NOFILE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024);
    // Our side needs a socket per attacking connection.
    let _ = rlimit::increase_nofile_limit(u64::MAX);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    rt.block_on(async {
        let port = free_port();
        let mut child = start_server(&bin, port, nofile).await;
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let victim = new_session(addr)
            .await
            .expect("the demo server gives a first visitor a session");
        println!(
            "serve_abuse {label}: victim GET / (fresh connection, own session) under each \
             attack; server started at ulimit -n {nofile}"
        );
        println!(
            "| attack | p50 | p99 | failed | new visitor | server RSS |\n| --- | --- | --- | --- | --- | --- |"
        );
        let attacks = [
            Attack::None,
            Attack::Slowloris,
            Attack::OpenConnections,
            Attack::CookielessGet,
            Attack::CookielessHead,
            Attack::StreamsOneSession,
            Attack::GetsOneSession,
            Attack::After,
        ];
        for attack in attacks {
            let row = measure(addr, child.id(), &victim, attack, n).await;
            let ms = |d: Option<Duration>| {
                d.map_or("-".to_owned(), |d| format!("{:.1} ms", d.as_secs_f64() * 1e3))
            };
            println!(
                "| {} | {} | {} | {}/{} | {} | {:.0} MiB |",
                row.attack,
                ms(percentile(&row.samples, 50)),
                ms(percentile(&row.samples, 99)),
                row.timeouts,
                row.samples.len() + row.timeouts,
                row.visitor,
                row.rss_mib
            );
        }
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            match child.try_wait() {
                Ok(Some(status)) => {
                    println!("server exit after SIGTERM: {status}");
                    break;
                }
                Ok(None) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                _ => {
                    println!("server did not exit within 15 s of SIGTERM: killed");
                    let _ = child.kill();
                    let _ = child.wait();
                    break;
                }
            }
        }
    });
}
