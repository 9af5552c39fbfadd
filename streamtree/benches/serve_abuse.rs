//! `serve_abuse`: servers under hostile clients on loopback, in two phases.
//!
//! 1. The demo gallery (a separate release process from `STREAMTREE_DEMO_BIN`, which
//!    `cargo xtask bench` builds and sets, so the same load can be aimed at any version of
//!    the server; started at a soft open-file limit of `STREAMTREE_ABUSE_NOFILE`, default
//!    1,024): slowloris, idle connections, cookieless `GET`/`HEAD` floods, event streams
//!    and concurrent `GET`s on one session.
//! 2. Slow app code (this bench re-run as the server, on the streamtree it was built
//!    with): a 5 s handler clicked in a loop beside concurrent `GET`s of its session, and
//!    two sessions whose rerun takes 3 s.
//!
//! For each attack: a victim session's fresh-connection `GET /` latency (p50, p99,
//! failures), whether a new visitor (no cookie) gets the app, the server's resident
//! memory during the attack, and in phase 2 the pushes per second the victim's own
//! stream receives (its task ticks 20 times a second). Counts are bounded and set by
//! `STREAMTREE_ABUSE_N` (default 1,000 connections per attack); every wait has a time
//! limit, so a run ends in a few minutes whatever the server does. The load talks only
//! to 127.0.0.1.
//!
//! Run: `cargo xtask bench --bench serve_abuse`.

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

/// The `st_session=..` pair of a reply's `Set-Cookie`.
fn set_cookie(reply: &str) -> Option<String> {
    let from = reply.to_ascii_lowercase().find("set-cookie: ")? + "set-cookie: ".len();
    let rest = &reply[from..];
    Some(rest[..rest.find(';')?].to_owned())
}

/// A new visitor's `GET /` as a browser makes it: a server that answers a first visit
/// with a cookie-setting page that reloads (`data-st-first-visit`) is asked again with
/// that cookie. The app's page and its session cookie, if the server gives them.
async fn visit(addr: SocketAddr) -> Option<(u16, String, Option<String>)> {
    let (status, reply) = exchange(addr, &get(None), REQUEST_LIMIT).await?;
    let cookie = set_cookie(&reply);
    if status != 200 || !reply.contains("data-st-first-visit") {
        return Some((status, reply, cookie));
    }
    let minted = cookie?;
    let (status, reply) = exchange(addr, &get(Some(&minted)), REQUEST_LIMIT).await?;
    Some((status, reply, Some(minted)))
}

/// A new session's cookie (`st_session=..`), if the server gives one.
async fn new_session(addr: SocketAddr) -> Option<String> {
    new_session_page(addr).await.map(|(cookie, _)| cookie)
}

/// A new session's cookie and anti-forgery token.
async fn new_session_page(addr: SocketAddr) -> Option<(String, String)> {
    let (status, reply, cookie) = visit(addr).await?;
    if status != 200 {
        return None;
    }
    let marker = "name=\"token\" value=\"";
    let from = reply.find(marker)? + marker.len();
    Some((cookie?, reply.get(from..from + 32)?.to_owned()))
}

fn click(key: &str, cookie: &str, token: &str) -> String {
    let body = format!("token={token}&key={key}");
    format!(
        "POST /click HTTP/1.1\r\nHost: b\r\nConnection: close\r\nCookie: {cookie}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// An open `GET /events` (HTTP/1.0: close-delimited), read line by line.
struct EventStream(tokio::io::BufReader<TcpStream>);

impl EventStream {
    async fn open(addr: SocketAddr, cookie: &str) -> Option<EventStream> {
        let mut tcp = TcpStream::connect(addr).await.ok()?;
        let request = format!("GET /events HTTP/1.0\r\nHost: b\r\nCookie: {cookie}\r\n\r\n");
        tcp.write_all(request.as_bytes()).await.ok()?;
        Some(EventStream(tokio::io::BufReader::new(tcp)))
    }

    /// Reads for up to `limit`; returns how many events (`data:` lines) arrived, or
    /// `None` when the stream ended.
    async fn next(&mut self, limit: Duration) -> Option<usize> {
        use tokio::io::AsyncBufReadExt;
        let deadline = tokio::time::Instant::now() + limit;
        let mut events = 0;
        let mut line = String::new();
        loop {
            line.clear();
            match tokio::time::timeout_at(deadline, self.0.read_line(&mut line)).await {
                Err(_) => return Some(events),
                Ok(Ok(0) | Err(_)) => return None,
                Ok(Ok(_)) => events += usize::from(line.starts_with("data:")),
            }
        }
    }
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
    /// A 5 s button handler clicked in a loop, plus concurrent `GET /`, on one session.
    SlowHandler,
    /// Two sessions whose rerun takes 3 s, each with a stream and a ticking task.
    SlowReruns,
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
            Attack::SlowHandler => format!(
                "5 s handler in a loop + {} concurrent GET / on that session",
                n * 6 / 10
            ),
            Attack::SlowReruns => "two sessions whose rerun takes 3 s".to_owned(),
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
            Attack::SlowHandler => {
                let Some((cookie, token)) = new_session_page(addr).await else {
                    return set;
                };
                let click = click("slow", &cookie, &token);
                let stop_clicks = stop.clone();
                set.spawn(async move {
                    while !stop_clicks.load(Ordering::Relaxed) {
                        exchange(addr, &click, Duration::from_secs(30)).await;
                    }
                });
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
            Attack::SlowReruns => {
                for _ in 0..2 {
                    let Some((cookie, token)) = new_session_page(addr).await else {
                        return set;
                    };
                    exchange(addr, &click("make-slow", &cookie, &token), REQUEST_LIMIT).await;
                    let stop = stop.clone();
                    set.spawn(async move {
                        let Some(mut stream) = EventStream::open(addr, &cookie).await else {
                            return;
                        };
                        while !stop.load(Ordering::Relaxed) {
                            stream.next(Duration::from_millis(200)).await;
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
    /// Pushes per second to the victim's own event stream, when it has one.
    pushes_per_s: Option<f64>,
}

/// The measuring side: a victim session (its cookie, and an open event stream when the
/// app pushes on its own).
struct Victim {
    cookie: String,
    stream: Option<EventStream>,
}

async fn measure(addr: SocketAddr, pid: u32, victim: &mut Victim, attack: Attack, n: usize) -> Row {
    let stop = Arc::new(AtomicBool::new(false));
    let mut attackers = attack.start(addr, n, stop.clone()).await;
    tokio::time::sleep(SETTLE).await;
    // Skip the pushes that queued up while the attack settled.
    if let Some(stream) = &mut victim.stream {
        stream.next(Duration::from_millis(50)).await;
    }
    let (mut samples, mut timeouts) = (Vec::new(), 0);
    let began = Instant::now();
    // Pushes that arrive while sampling, read between samples.
    let mut pushes = 0;
    while samples.len() + timeouts < SAMPLES && began.elapsed() < SAMPLE_BUDGET {
        let t = Instant::now();
        match exchange(addr, &get(Some(&victim.cookie)), REQUEST_LIMIT).await {
            Some((200, _)) => samples.push(t.elapsed()),
            _ => timeouts += 1,
        }
        if let Some(stream) = &mut victim.stream {
            pushes += stream.next(Duration::from_millis(100)).await.unwrap_or(0);
        }
    }
    let pushes_per_s = victim
        .stream
        .is_some()
        .then(|| pushes as f64 / began.elapsed().as_secs_f64());
    // Until it has the app: the first-visit page and its reload, timed together.
    let t = Instant::now();
    let visitor = match visit(addr).await {
        Some((200, reply, _)) if reply.contains("st-root") => {
            format!("200 app, {:.1} ms", t.elapsed().as_secs_f64() * 1e3)
        }
        Some((status, _, _)) => status.to_string(),
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
        pushes_per_s,
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// Starts a server process (`command` must serve on 127.0.0.1:`port`) and waits (up to
/// 60 s) until it listens.
async fn start_server(mut command: Command, port: u16) -> Child {
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start the server: {e}"));
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(addr).await.is_err() {
        assert!(Instant::now() < deadline, "the server never listened");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    child
}

/// Sends SIGTERM and reports how the server ended (killed after 15 s).
async fn stop_server(mut child: Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                println!("server exit after SIGTERM: {status}\n");
                return;
            }
            Ok(None) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            _ => {
                println!("server did not exit within 15 s of SIGTERM: killed\n");
                let _ = child.kill();
                let _ = child.wait();
                return;
            }
        }
    }
}

/// Runs `attacks` against a server started by `command` and prints a table.
async fn run_phase(
    title: &str,
    command: Command,
    port: u16,
    attacks: &[Attack],
    n: usize,
    pushes: bool,
) {
    let child = start_server(command, port).await;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let (cookie, _) = new_session_page(addr)
        .await
        .expect("the server gives a first visitor a session");
    let stream = if pushes {
        EventStream::open(addr, &cookie).await
    } else {
        None
    };
    let mut victim = Victim { cookie, stream };
    println!("{title}");
    println!(
        "| attack | p50 | p99 | failed | new visitor | server RSS | victim pushes/s |\n\
         | --- | --- | --- | --- | --- | --- | --- |"
    );
    for &attack in attacks {
        let row = measure(addr, child.id(), &mut victim, attack, n).await;
        let ms = |d: Option<Duration>| {
            d.map_or("-".to_owned(), |d| {
                format!("{:.1} ms", d.as_secs_f64() * 1e3)
            })
        };
        println!(
            "| {} | {} | {} | {}/{} | {} | {:.0} MiB | {} |",
            row.attack,
            ms(percentile(&row.samples, 50)),
            ms(percentile(&row.samples, 99)),
            row.timeouts,
            row.samples.len() + row.timeouts,
            row.visitor,
            row.rss_mib,
            row.pushes_per_s
                .map_or("-".to_owned(), |p| format!("{p:.1}")),
        );
    }
    stop_server(child).await;
}

/// The app of the second phase: a ticking task (a visible change every 50 ms, so up to
/// 20 pushes a second), a button whose handler takes 5 s, and a button that makes every
/// later rerun of its session take 3 s. The sleeps are the app's slow work.
fn abuse_app() -> streamtree::Element {
    use streamtree::prelude::*;
    let slow = session_state("slow", || false);
    if slow.get() {
        std::thread::sleep(Duration::from_secs(3));
    }
    let tick = submit_with("tick", |ctx: &TaskContext| {
        let mut i = 0u32;
        while !ctx.is_cancel_requested() {
            i += 1;
            ctx.set_progress(f64::from(i % 100) / 100.0);
            std::thread::sleep(Duration::from_millis(50));
        }
        ctx.cancelled();
    });
    let make_slow = slow.clone();
    VStack([
        Text(format!("tick {:?}", tick.progress())),
        Button("slow").on_click(|| std::thread::sleep(Duration::from_secs(5))),
        Button("make-slow").on_click(move || make_slow.set(true)),
    ])
}

fn main() {
    if let Ok(port) = std::env::var("STREAMTREE_ABUSE_SERVE") {
        let port: u16 = port.parse().expect("STREAMTREE_ABUSE_SERVE is a port");
        let runtime = streamtree::Runtime::builder().max_workers(64).build();
        streamtree::serve(abuse_app)
            .bind(([127, 0, 0, 1], port))
            .runtime(runtime)
            .run()
            .expect("the abuse app serves");
        return;
    }
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
        match std::env::var("STREAMTREE_DEMO_BIN") {
            Ok(bin) => {
                let port = free_port();
                let mut demo = Command::new("sh");
                demo.args([
                    "-c",
                    "ulimit -Sn \"$1\" && exec \"$0\" --serve --port \"$2\"",
                    &bin,
                    &nofile.to_string(),
                    &port.to_string(),
                ]);
                let title = format!(
                    "serve_abuse {label}: the demo gallery (release, started at ulimit -n \
                     {nofile}); victim = GET / on a fresh connection with its own session"
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
                run_phase(&title, demo, port, &attacks, n, false).await;
            }
            Err(_) => eprintln!(
                "serve_abuse: demo phase skipped (set STREAMTREE_DEMO_BIN to a gallery \
                 binary; `cargo xtask bench` does)"
            ),
        }
        let port = free_port();
        let mut app = Command::new(std::env::current_exe().expect("this bench's path"));
        app.env("STREAMTREE_ABUSE_SERVE", port.to_string());
        let title = format!(
            "serve_abuse {label}: slow app code (this bench as the server); victim = GET / \
             of its own session, and its pushes (a task ticks 20 times a second)"
        );
        let attacks = [
            Attack::None,
            Attack::SlowHandler,
            Attack::SlowReruns,
            Attack::After,
        ];
        run_phase(&title, app, port, &attacks, n, true).await;
    });
}
