//! The live server under hostile clients, on loopback: slow headers, many connections,
//! the open-file limit, cookieless floods, event-stream caps, a session that hogs its
//! lane, and a slow session beside others' pushes. Bounds are generous; the only timing
//! asserts are "answered within the guard".

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::sync::mpsc::{Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use streamtree::prelude::*;
use streamtree::{Running, serve};
use streamtree_tests::Gate;

#[path = "serve_client.rs"]
mod serve_client;
use serve_client::{Events, GUARD, get, is_first_visit, post_form, request};

fn start(server: streamtree::Server) -> Running {
    server
        .bind(([127, 0, 0, 1], 0))
        .spawn()
        .expect("the server starts on loopback")
}

/// Whether the server closed `tcp` within the guard (a read sees the end or a reset).
fn closed_by_server(tcp: &mut TcpStream) -> bool {
    tcp.set_read_timeout(Some(GUARD)).unwrap();
    let mut buf = [0u8; 512];
    loop {
        match tcp.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return true,
            Err(_) => return false,
        }
    }
}

#[test]
fn slow_headers_are_cut_off_and_fresh_clients_answered() {
    let server = start(
        serve(|| Text("fresh"))
            .header_read_timeout(Duration::from_secs(2))
            .max_connections(1000),
    );
    // Half send part of a request, half nothing at all.
    let mut slow: Vec<TcpStream> = (0..200usize)
        .map(|i| {
            let mut tcp = TcpStream::connect(server.addr()).unwrap();
            if i.is_multiple_of(2) {
                tcp.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: 1\r\n")
                    .unwrap();
            }
            tcp
        })
        .collect();
    let fresh = get(server.addr(), None);
    assert_eq!(fresh.status, 200);
    assert!(fresh.body.contains("fresh"));
    // Without a header-read timeout (and a timer for it), these stay open for ever.
    for (i, tcp) in slow.iter_mut().enumerate() {
        assert!(
            closed_by_server(tcp),
            "slow connection {i} was not closed by the header timeout"
        );
    }
}

#[test]
fn the_open_file_limit_is_raised_at_start() {
    let (soft, hard) = rlimit::getrlimit(rlimit::Resource::NOFILE).unwrap();
    if hard <= 4096 || hard == rlimit::INFINITY {
        eprintln!("skipped: the hard open-file limit ({hard}) is too low or unlimited");
        return;
    }
    let lowered = soft.min(hard - 1).max(4096);
    rlimit::setrlimit(rlimit::Resource::NOFILE, lowered, hard).unwrap();
    let server = start(serve(|| Text("hi")));
    let (raised, _) = rlimit::getrlimit(rlimit::Resource::NOFILE).unwrap();
    assert!(
        raised > lowered,
        "soft limit {lowered} was not raised (now {raised})"
    );
    assert_eq!(get(server.addr(), None).status, 200);
}

#[test]
fn connections_beyond_the_cap_wait_until_one_closes() {
    let server = start(
        serve(|| Text("capped"))
            .max_connections(4)
            .header_read_timeout(Duration::from_secs(60)),
    );
    let mut idle: Vec<TcpStream> = (0..4)
        .map(|_| TcpStream::connect(server.addr()).unwrap())
        .collect();
    // The kernel accepts the fifth into its backlog; the server does not serve it yet.
    let mut fifth = TcpStream::connect(server.addr()).unwrap();
    fifth
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    fifth
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let mut buf = [0u8; 64];
    assert!(
        fifth.read(&mut buf).is_err(),
        "a fifth connection was served beyond the cap of 4"
    );
    idle.pop();
    fifth.set_read_timeout(Some(GUARD)).unwrap();
    let mut reply = String::new();
    fifth.read_to_string(&mut reply).unwrap();
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
}

#[test]
fn head_and_health_create_no_session() {
    let server = start(serve(|| Text("app")));
    for _ in 0..50 {
        let head = request(server.addr(), "HEAD", "/", &[], b"");
        assert_eq!(head.status, 200);
        assert_eq!(head.header("set-cookie"), None);
        let health = request(server.addr(), "GET", "/healthz", &[], b"");
        assert_eq!((health.status, health.body.as_str()), (200, "ok\n"));
    }
    assert_eq!(server.session_count(), 0);
}

/// A cookieless `GET /` flood used to create a session (a rerun, its tasks, a render and
/// an eviction) per request; now each gets the small first-visit page and runs no app
/// code, so the flood cannot slow other visitors or push out their sessions.
#[test]
fn cookieless_get_flood_runs_no_app_code_and_creates_no_session() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static RERUNS: AtomicUsize = AtomicUsize::new(0);
    let server = start(
        serve(|| {
            RERUNS.fetch_add(1, Ordering::SeqCst);
            Text("app")
        })
        .max_sessions(2),
    );
    let kept = get(server.addr(), None).cookie();
    let before = RERUNS.load(Ordering::SeqCst);
    let flood: Vec<_> = (0..4)
        .map(|_| {
            let addr = server.addr();
            std::thread::spawn(move || {
                for _ in 0..50 {
                    let reply = request(addr, "GET", "/", &[], b"");
                    assert_eq!(reply.status, 200);
                    assert!(is_first_visit(&reply), "{}", reply.body);
                }
            })
        })
        .collect();
    for attacker in flood {
        attacker.join().unwrap();
    }
    assert_eq!(
        RERUNS.load(Ordering::SeqCst),
        before,
        "the flood ran app code"
    );
    assert_eq!(server.session_count(), 1, "the flood created sessions");
    let again = get(server.addr(), Some(&kept));
    assert_eq!(
        again.header("set-cookie"),
        None,
        "the earlier session was not evicted"
    );
    let fresh = get(server.addr(), None);
    assert!(fresh.body.contains("app"), "a new visitor gets the app");
    assert_eq!(server.session_count(), 2);
}

#[test]
fn event_streams_are_capped_per_session_and_in_total() {
    let server = start(
        serve(|| Text("streams"))
            .max_streams_per_session(2)
            .max_streams(3),
    );
    let (a, b) = (
        get(server.addr(), None).cookie(),
        get(server.addr(), None).cookie(),
    );
    let mut a_streams = vec![
        Events::open(server.addr(), &a),
        Events::open(server.addr(), &a),
    ];
    let refused = Events::try_open(server.addr(), "/events", &a)
        .err()
        .unwrap();
    assert!(refused.starts_with("HTTP/1.0 429"), "{refused}");
    let _b1 = Events::open(server.addr(), &b);
    let refused = Events::try_open(server.addr(), "/events", &b)
        .err()
        .unwrap();
    assert!(refused.starts_with("HTTP/1.0 503"), "{refused}");
    // A stream that ends gives its place back.
    drop(a_streams.pop());
    // The server notices the closed socket on its own schedule: retry (each try is a
    // round trip, no sleep) until it has, within the guard.
    let deadline = std::time::Instant::now() + GUARD;
    loop {
        match Events::try_open(server.addr(), "/events", &b) {
            Ok(_) => break,
            Err(head) => {
                assert!(head.starts_with("HTTP/1.0 503"), "{head}");
                assert!(
                    std::time::Instant::now() < deadline,
                    "the closed stream's place was never given back"
                );
            }
        }
    }
}

/// A page with a task held by `job` and a button whose handler says it started on
/// `entered`, then waits for `hold`.
fn holding_app(
    hold: Arc<Gate>,
    job: Arc<Gate>,
    entered: Sender<()>,
) -> impl Fn() -> Element + Send + Sync + 'static {
    let entered = Mutex::new(entered);
    move || {
        let (hold, job) = (hold.clone(), job.clone());
        let entered = entered.lock().unwrap().clone();
        let task = submit("job", move || job.wait(|| false));
        VStack([
            Text(format!("job: {}", task.status().as_str())),
            Button("hold").on_click(move || {
                let _ = entered.send(());
                hold.wait(|| false);
            }),
        ])
    }
}

/// Posts a click on `hold` from another thread; the reply comes back on the handle.
fn click_hold(
    addr: std::net::SocketAddr,
    page: &serve_client::Reply,
) -> std::thread::JoinHandle<u16> {
    let (cookie, token) = (page.cookie(), page.token());
    std::thread::spawn(move || post_form(addr, &cookie, &format!("token={token}&key=hold")).status)
}

#[test]
fn a_session_stuck_in_a_handler_stalls_no_other_session() {
    let (hold, job) = (Arc::new(Gate::new(false)), Arc::new(Gate::new(true)));
    let (entered_tx, entered) = channel();
    let server = start(serve(holding_app(hold.clone(), job, entered_tx)));
    let addr = server.addr();
    let (victim, other) = (get(addr, None), get(addr, None));
    let click = click_hold(addr, &victim);
    entered.recv_timeout(GUARD).expect("the handler started");
    // More requests than tokio has blocking threads (512): before the per-session lane
    // each took a thread that waited on the session's lock, and nobody else got one.
    let cookie = victim.cookie();
    let queued: Vec<TcpStream> = (0..600)
        .map(|_| {
            let mut tcp = TcpStream::connect(addr).unwrap();
            write!(
                tcp,
                "GET / HTTP/1.1\r\nHost: x\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"
            )
            .unwrap();
            tcp
        })
        .collect();
    let answer = get(addr, Some(&other.cookie()));
    assert_eq!(answer.status, 200, "another session is answered meanwhile");
    hold.open();
    assert_eq!(click.join().unwrap(), 303);
    for mut tcp in queued {
        tcp.set_read_timeout(Some(GUARD)).unwrap();
        let mut reply = String::new();
        tcp.read_to_string(&mut reply).unwrap();
        assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    }
}

#[test]
fn a_stuck_session_does_not_starve_others_pushes() {
    let (hold, job) = (Arc::new(Gate::new(false)), Arc::new(Gate::new(false)));
    let (entered_tx, entered) = channel();
    // One push render at a time: a stuck session must not hold that place while it
    // waits for its own lane.
    let server =
        start(serve(holding_app(hold.clone(), job.clone(), entered_tx)).max_concurrent_renders(1));
    let addr = server.addr();
    let stuck = get(addr, None);
    let click = click_hold(addr, &stuck);
    entered.recv_timeout(GUARD).expect("the handler started");
    // The new stream wakes the stuck session's pusher: it queues for its lane.
    let _stuck_events = Events::open(addr, &stuck.cookie());
    let other = get(addr, None);
    let mut events = Events::open(addr, &other.cookie());
    job.open();
    events.until("job: done");
    hold.open();
    assert_eq!(click.join().unwrap(), 303);
}
