//! The live HTML server over real loopback HTTP: cookies, isolation, expiry, the session
//! limit, click checks and pushes. A plain `TcpStream` is the client; every wait is on a
//! socket read or a channel, with a timeout only as a failure guard.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use streamtree::prelude::*;
use streamtree::{Running, Runtime, serve};
use streamtree_tests::{Gate, hostile};

#[path = "serve_client.rs"]
mod serve_client;
use serve_client::{Events, GUARD, Reply, get, is_first_visit, post_form, request};

fn start(app: impl Fn() -> Element + Send + Sync + 'static) -> Running {
    serve(app)
        .bind(([127, 0, 0, 1], 0))
        .runtime(Runtime::builder().max_workers(8).build())
        .spawn()
        .expect("the server starts on loopback")
}

#[test]
fn session_cookie_is_random_http_only_and_strict() {
    let server = start(|| Text("hello"));
    // A first visit mints a cookie and creates no session until it comes back.
    let visit = request(server.addr(), "GET", "/", &[], b"");
    assert_eq!(visit.status, 200);
    assert!(is_first_visit(&visit), "{}", visit.body);
    assert!(
        visit
            .body
            .contains(r#"<meta http-equiv="refresh" content="0; url=/?st-visit">"#),
        "the first-visit page reloads without JavaScript: {}",
        visit.body
    );
    assert_eq!(server.session_count(), 0);
    let first = get(server.addr(), None);
    assert_eq!(first.status, 200);
    assert_eq!(
        first.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let set = first.header("set-cookie").unwrap();
    let (pair, attributes) = set.split_once(';').unwrap();
    let id = pair.strip_prefix("st_session=").unwrap();
    assert_eq!(
        id.len(),
        48,
        "128 random bits and a 64-bit tag as hex: {id}"
    );
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(attributes.trim(), "Path=/; HttpOnly; SameSite=Strict");
    let csp = first.header("content-security-policy").unwrap();
    assert!(csp.contains("script-src 'nonce-"), "{csp}");

    let again = get(server.addr(), Some(pair));
    assert_eq!(again.status, 200);
    assert_eq!(
        again.header("set-cookie"),
        None,
        "a known session keeps its cookie"
    );
    assert_eq!(server.session_count(), 1);

    let other = get(server.addr(), None);
    assert_ne!(other.cookie(), pair, "each browser gets its own id");
    assert_ne!(
        other.token(),
        first.token(),
        "each session gets its own token"
    );
    assert_eq!(server.session_count(), 2);

    for forged in [
        "st_session=0123456789abcdef0123456789abcdef",
        "st_session=0123456789abcdef0123456789abcdef0123456789abcdef",
    ] {
        let reply = get(server.addr(), Some(forged));
        assert!(
            is_first_visit(&reply) && reply.header("set-cookie").is_some(),
            "an id this server did not mint gets the first-visit page: {}",
            reply.body
        );
    }
    assert_eq!(server.session_count(), 2, "forged ids create no session");
}

#[test]
fn cookie_refusing_browser_gets_a_note_not_endless_reloads() {
    let server = start(|| Text("hello"));
    let retry = request(server.addr(), "GET", "/?st-visit", &[], b"");
    assert_eq!(retry.status, 200);
    assert!(retry.body.contains("allow cookies"), "{}", retry.body);
    assert!(!retry.body.contains("refresh"), "{}", retry.body);
    assert_eq!(retry.header("set-cookie"), None);
    // A stale cookie (not minted by this server, e.g. before a restart) is replaced.
    let stale = "st_session=0123456789abcdef0123456789abcdef0123456789abcdef";
    let reply = request(
        server.addr(),
        "GET",
        "/?st-visit",
        &[("Cookie", stale)],
        b"",
    );
    assert!(is_first_visit(&reply), "{}", reply.body);
    assert_eq!(server.session_count(), 0);
}

/// Clicking `a` or `b` starts the session's `job`, which reports who started it.
fn isolation_app() -> Element {
    let owner = session_state("owner", || None::<&'static str>);
    let job = owner.get().map(|who| submit("job", move || who));
    let (set_a, set_b) = (owner.clone(), owner);
    VStack([
        Button("a").on_click(move || set_a.set(Some("A"))),
        Button("b").on_click(move || set_b.set(Some("B"))),
        match job {
            Some(h) => match_task(&h)
                .ready(|who| Text(format!("job of {who}")))
                .into(),
            None => Text("no job"),
        },
    ])
}

#[test]
fn sessions_are_isolated() {
    let server = start(isolation_app);
    let a = get(server.addr(), None);
    let b = get(server.addr(), None);
    let (cookie_a, cookie_b) = (a.cookie(), b.cookie());
    let mut events_a = Events::open(server.addr(), &cookie_a);
    let mut events_b = Events::open(server.addr(), &cookie_b);

    let click = post_form(
        server.addr(),
        &cookie_a,
        &format!("token={}&key=a", a.token()),
    );
    assert_eq!(click.status, 303);
    events_a.until("job of A");
    let click = post_form(
        server.addr(),
        &cookie_b,
        &format!("token={}&key=b", b.token()),
    );
    assert_eq!(click.status, 303);
    // Had the sessions shared one task set, B's `job` would be A's finished task.
    events_b.until("job of B");

    // A's token is worthless in B's session.
    let forged = post_form(
        server.addr(),
        &cookie_b,
        &format!("token={}&key=a", a.token()),
    );
    assert_eq!(forged.status, 403);
    assert!(
        get(server.addr(), Some(&cookie_a))
            .body
            .contains("job of A")
    );
    assert!(
        get(server.addr(), Some(&cookie_b))
            .body
            .contains("job of B")
    );
}

/// Sends once when dropped: the end of a task's closure, run or not.
struct Ended(Sender<()>);

impl Drop for Ended {
    fn drop(&mut self) {
        let _ = self.0.send(());
    }
}

#[test]
fn idle_session_expires_and_its_task_is_cancelled() {
    let (ended_tx, ended) = channel();
    let ended_tx = Mutex::new(ended_tx);
    let server = serve(move || {
        let ended = Ended(ended_tx.lock().unwrap().clone());
        let h = submit_with("forever", move |ctx: &TaskContext| {
            let _ended = ended;
            // Runs until cancelled; ends the only way a dropped session ends it.
            Gate::new(false).wait(|| ctx.is_cancel_requested());
            ctx.cancelled();
        });
        Text(format!("task: {}", h.status().as_str()))
    })
    .bind(([127, 0, 0, 1], 0))
    .session_idle_timeout(Duration::from_millis(50))
    .spawn()
    .unwrap();
    let page = get(server.addr(), None);
    assert_eq!(page.status, 200);
    // The closure ends (cancelled while running, or dropped unrun) only once the session
    // is gone: nothing else cancels it.
    ended
        .recv_timeout(GUARD)
        .expect("the expired session's task was cancelled");
    assert_eq!(server.session_count(), 0);
    let late = post_form(
        server.addr(),
        &page.cookie(),
        &format!("token={}&key=x", page.token()),
    );
    assert_eq!(late.status, 403);
    assert!(late.body.contains("expired"), "{}", late.body);
}

#[test]
fn full_table_evicts_the_least_recent_session_without_a_stream_else_503() {
    let server = serve(|| Text("two at a time"))
        .bind(([127, 0, 0, 1], 0))
        .max_sessions(2)
        .spawn()
        .unwrap();
    let first = get(server.addr(), None);
    let second = get(server.addr(), None);
    assert_eq!((first.status, second.status), (200, 200));
    // `first` is the least recently active: a new visitor takes its place.
    let third = get(server.addr(), None);
    assert_eq!(
        third.status, 200,
        "a new visitor gets the app: {}",
        third.body
    );
    assert_eq!(server.session_count(), 2);
    let again = get(server.addr(), Some(&first.cookie()));
    assert!(
        again.header("set-cookie").is_some(),
        "the evicted session is gone: its browser starts a new one"
    );
    // Now `third` and `again` hold event streams: nobody can be evicted.
    let _streams = [
        Events::open(server.addr(), &third.cookie()),
        Events::open(server.addr(), &again.cookie()),
    ];
    let refused = get(server.addr(), None);
    assert_eq!(refused.status, 503);
    assert_eq!(
        refused.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert!(
        refused.body.contains("limit of 2 sessions"),
        "{}",
        refused.body
    );
    assert_eq!(get(server.addr(), Some(&third.cookie())).status, 200);
    assert_eq!(server.session_count(), 2);
}

/// A counter app whose button handler counts clicks.
fn counter(clicks: Arc<AtomicU32>) -> impl Fn() -> Element + Send + Sync + 'static {
    move || {
        let c = clicks.clone();
        VStack([
            Text(format!("clicks: {}", clicks.load(Ordering::SeqCst))),
            Button("Add").key("add").on_click(move || {
                c.fetch_add(1, Ordering::SeqCst);
            }),
            Button("Off").key("off").disabled(true),
        ])
    }
}

#[test]
fn click_checks_reject_with_clear_4xx_and_change_nothing() {
    let clicks = Arc::new(AtomicU32::new(0));
    let server = start(counter(clicks.clone()));
    let addr = server.addr();
    let page = get(addr, None);
    let (cookie, token) = (page.cookie(), page.token());
    let form = "application/x-www-form-urlencoded";

    let cases: Vec<(&str, Reply, u16, &str)> = vec![
        (
            "missing cookie",
            request(
                addr,
                "POST",
                "/click",
                &[("Content-Type", form)],
                format!("token={token}&key=add").as_bytes(),
            ),
            403,
            "No session cookie",
        ),
        (
            "missing token",
            post_form(addr, &cookie, "key=add"),
            403,
            "anti-forgery token",
        ),
        (
            "stale token",
            post_form(
                addr,
                &cookie,
                "token=00000000000000000000000000000000&key=add",
            ),
            403,
            "anti-forgery token",
        ),
        (
            "unknown key",
            post_form(addr, &cookie, &format!("token={token}&key=nope")),
            404,
            "no button with key `nope`",
        ),
        (
            "disabled",
            post_form(addr, &cookie, &format!("token={token}&key=off")),
            409,
            "disabled",
        ),
        (
            "no key",
            post_form(addr, &cookie, &format!("token={token}")),
            400,
            "field `key` is missing",
        ),
        (
            "twice",
            post_form(addr, &cookie, &format!("token={token}&key=add&key=add")),
            400,
            "twice",
        ),
        (
            "bad json",
            request(
                addr,
                "POST",
                "/click",
                &[("Cookie", &cookie), ("Content-Type", "application/json")],
                b"{not json",
            ),
            400,
            "not JSON",
        ),
        (
            "oversized",
            post_form(
                addr,
                &cookie,
                &format!("token={token}&key=add&pad={}", "x".repeat(9000)),
            ),
            413,
            "larger than 8192 bytes",
        ),
        (
            "other type",
            request(
                addr,
                "POST",
                "/click",
                &[("Cookie", &cookie), ("Content-Type", "text/plain")],
                b"add",
            ),
            415,
            "application/x-www-form-urlencoded",
        ),
    ];
    for (name, reply, status, message) in cases {
        assert_eq!(reply.status, status, "{name}: {reply:?}");
        assert!(reply.body.contains(message), "{name}: {:?}", reply.body);
    }
    assert_eq!(
        clicks.load(Ordering::SeqCst),
        0,
        "no rejected click ran the handler"
    );
    assert!(get(addr, Some(&cookie)).body.contains("clicks: 0"));
    assert_eq!(get(addr, None).status, 200, "the server still answers");
    assert_eq!(request(addr, "GET", "/nothing", &[], b"").status, 404);
}

#[test]
fn click_runs_the_callback_then_reruns_and_pushes() {
    let clicks = Arc::new(AtomicU32::new(0));
    let server = start(counter(clicks.clone()));
    let page = get(server.addr(), None);
    let (cookie, token) = (page.cookie(), page.token());
    assert!(
        page.body
            .contains(r#"<form id="st-form" method="post" action="/click" "#)
    );
    assert!(
        page.body
            .contains(r#"type="submit" name="key" value="add""#)
    );
    let mut events = Events::open(server.addr(), &cookie);
    assert!(
        events.next()["html"]
            .as_str()
            .unwrap()
            .contains("clicks: 0")
    );

    // Without JavaScript: a form post, answered by a redirect to the page.
    let reply = post_form(server.addr(), &cookie, &format!("token={token}&key=add"));
    assert_eq!(reply.status, 303);
    assert_eq!(reply.header("location"), Some("/"));
    // The push after the click already shows it: the handler ran before the rerun.
    let pushed = events.next();
    assert!(
        pushed["html"].as_str().unwrap().contains("clicks: 1"),
        "{pushed}"
    );

    // With JavaScript: JSON, answered by 204; the page arrives as a push.
    let json = format!(r#"{{"token":"{token}","key":"add"}}"#);
    let headers = [
        ("Cookie", cookie.as_str()),
        ("Content-Type", "application/json"),
    ];
    let reply = request(server.addr(), "POST", "/click", &headers, json.as_bytes());
    assert_eq!(reply.status, 204, "{reply:?}");
    let next = events.next();
    assert!(
        next["html"].as_str().unwrap().contains("clicks: 2"),
        "{next}"
    );
    assert!(next["seq"].as_u64() > pushed["seq"].as_u64());
    assert_eq!(clicks.load(Ordering::SeqCst), 2);
}

#[test]
fn push_arrives_when_a_task_finishes() {
    let gate = Arc::new(Gate::new(false));
    let task_gate = gate.clone();
    let server = start(move || {
        let g = task_gate.clone();
        let h = submit_with("answer", move |ctx: &TaskContext| {
            g.wait(|| ctx.is_cancel_requested());
            42
        });
        let status: Element = match_task(&h)
            .ready(|v| Text(format!("Ready: result={v}")))
            .into();
        Page([status]).title("Answer")
    });
    let page = get(server.addr(), None);
    assert!(page.body.contains("Loading…"));
    assert!(
        page.body
            .contains("<noscript><meta http-equiv=\"refresh\" content=\"1\"></noscript>"),
        "without JavaScript the page reloads while the task runs"
    );
    let mut events = Events::open(server.addr(), &page.cookie());
    let first = events.next();
    assert_eq!(first["busy"], true);
    assert_eq!(first["title"], "Answer");
    gate.open();
    let ready = events.until("Ready: result=42");
    assert_eq!(ready["busy"], false);
    let reloaded = get(server.addr(), Some(&page.cookie()));
    assert!(reloaded.body.contains("Ready: result=42"));
    assert!(
        !reloaded.body.contains("http-equiv"),
        "no refresh once idle"
    );
}

#[test]
fn served_page_shell() {
    let server = start(|| Page([Text("body"), Button("Go").key("go")]).title("Shell"));
    let page = get(server.addr(), None);
    let nonce_at = page.body.find("nonce=\"").unwrap() + "nonce=\"".len();
    let nonce = page.body[nonce_at..nonce_at + 32].to_owned();
    let (start, end) = (
        page.body.find("<style>").unwrap(),
        page.body.find("</style>").unwrap(),
    );
    let script_open = page.body.find("<script nonce").unwrap();
    let script_body = script_open + page.body[script_open..].find('>').unwrap() + 1;
    let script_end = page.body.find("</script>").unwrap();
    // The stylesheet and script are pinned by their sources; random values are masked.
    let shell = format!(
        "{}<style>/* stylesheet */{}/* script */{}",
        &page.body[..start],
        &page.body[end..script_body],
        &page.body[script_end..],
    )
    .replace(&page.token(), "[token]")
    .replace(&nonce, "[nonce]");
    insta::assert_snapshot!("served_page_shell", shell);
}

#[test]
fn served_output_is_escaped() {
    let server = start(hostile);
    let page = get(server.addr(), None);
    let body_start = page.body.find("<body>").unwrap();
    let script_start = page.body.rfind("<script nonce=").unwrap();
    let app_part = &page.body[body_start..script_start];
    assert!(!app_part.contains("<script>"), "a script tag got through");
    assert!(
        page.body
            .contains("<title>&lt;/title&gt;&lt;script&gt;alert(1)&lt;/script&gt;</title>")
    );
    assert!(
        app_part.contains(r#"value="k&quot;&gt;&lt;script&gt;""#),
        "button address escaped"
    );
    let mut events = Events::open(server.addr(), &page.cookie());
    let pushed = events.next();
    assert!(!pushed["html"].as_str().unwrap().contains("<script>"));
}

#[test]
fn pushes_keep_to_max_pushes_per_second_and_the_last_change_arrives() {
    // The task makes one change per step and the test lets the next step go only once the
    // page showed the last one, so every change needs a push of its own: at 4 pushes a
    // second, 4 steps cannot show in less than 3 intervals, however fast the machine.
    const RATE: u32 = 4;
    const STEPS: u32 = 4;
    let (step_tx, step_rx) = std::sync::mpsc::sync_channel::<()>(1);
    let step_rx = Arc::new(Mutex::new(step_rx));
    let server = serve(move || {
        let steps = step_rx.clone();
        let h = submit_with("steps", move |ctx: &TaskContext| {
            let steps = steps.lock().unwrap();
            for step in 1..=STEPS {
                steps
                    .recv_timeout(GUARD)
                    .expect("the test lets the next step go");
                ctx.set_progress((f64::from(step) / f64::from(STEPS), format!("step {step}")));
            }
            // Held (until the server stops and cancels it), so the page settles here.
            ctx.wait_cancelled(GUARD);
        });
        let status: Element = match_task(&h)
            .loading_with(|p| {
                Text(
                    p.and_then(|p| p.message().map(str::to_owned))
                        .unwrap_or_default(),
                )
            })
            .into();
        Page([status]).title("Steps")
    })
    .bind(([127, 0, 0, 1], 0))
    .runtime(Runtime::builder().max_workers(8).build())
    .max_pushes_per_second(RATE)
    .spawn()
    .expect("the server starts on loopback");
    let page = get(server.addr(), None);
    let mut events = Events::open(server.addr(), &page.cookie());
    events.next();
    let start = std::time::Instant::now();
    for step in 1..=STEPS {
        step_tx.send(()).unwrap();
        events.until(&format!("step {step}<"));
    }
    // Each step's push comes at least one interval after the previous push.
    let least = Duration::from_secs(1) / RATE * (STEPS - 1);
    assert!(
        start.elapsed() >= least,
        "{STEPS} pushes in {:?}: faster than {RATE} a second",
        start.elapsed()
    );
}
