//! What a production deployment expects of the live server: a base path, `Secure`
//! cookies (also behind a trusted proxy), security headers, graceful shutdown, hidden
//! error details, and one structured log event per distinct panic.

use std::collections::HashMap;
use std::fmt;
use std::sync::mpsc::{Sender, channel};
use std::sync::{Arc, Mutex, Once};

use streamtree::prelude::*;
use streamtree::{Running, serve};
use streamtree_tests::Gate;

#[path = "serve_client.rs"]
mod serve_client;
use serve_client::{Events, GUARD, get, post_form, request, visit};

fn start(server: streamtree::Server) -> Running {
    server
        .bind(([127, 0, 0, 1], 0))
        .spawn()
        .expect("the server starts on loopback")
}

fn counter() -> Element {
    let n = session_state("n", || 0u32);
    let add = n.clone();
    VStack([
        Text(format!("count {}", n.get())),
        Button("add").on_click(move || add.update(|n| *n += 1)),
    ])
}

#[test]
fn base_path_prefixes_every_route_redirect_cookie_and_script_url() {
    let server = start(serve(counter).base_path("/apps/x/"));
    let addr = server.addr();
    let first = request(addr, "GET", "/apps/x/", &[], b"");
    assert!(
        first.body.contains(r#"content="0; url=/apps/x/?st-visit""#),
        "{}",
        first.body
    );
    let page = visit(addr, "/apps/x/", &[]);
    assert_eq!(page.status, 200, "{}", page.body);
    let cookie = page.header("set-cookie").unwrap();
    assert!(cookie.contains("; Path=/apps/x;"), "{cookie}");
    assert!(page.body.contains(r#"action="/apps/x/click""#));
    assert!(page.body.contains(r#"data-st-events="/apps/x/events""#));

    let bare = request(addr, "GET", "/apps/x", &[], b"");
    assert_eq!(
        (bare.status, bare.header("location")),
        (303, Some("/apps/x/"))
    );
    let outside = request(addr, "GET", "/", &[], b"");
    assert_eq!(outside.status, 404);
    assert!(outside.body.contains("/apps/x/"), "{}", outside.body);
    assert_eq!(
        request(addr, "GET", "/apps/x/healthz", &[], b"").status,
        200
    );

    let (cookie, token) = (page.cookie(), page.token());
    let mut events = Events::try_open(addr, "/apps/x/events", &cookie).unwrap();
    let headers = [
        ("Cookie", cookie.as_str()),
        ("Content-Type", "application/x-www-form-urlencoded"),
    ];
    let body = format!("token={token}&key=add");
    let click = request(addr, "POST", "/apps/x/click", &headers, body.as_bytes());
    assert_eq!(
        (click.status, click.header("location")),
        (303, Some("/apps/x/"))
    );
    events.until("count 1");
}

#[test]
fn secure_cookies_by_option_or_from_a_trusted_proxy() {
    let set_cookie = |server: &Running, headers: &[(&str, &str)]| {
        let page = request(server.addr(), "GET", "/", headers, b"");
        page.header("set-cookie").unwrap().to_owned()
    };
    let https = [("X-Forwarded-Proto", "https")];
    let plain = start(serve(counter));
    assert!(
        !set_cookie(&plain, &https).contains("Secure"),
        "proxy not trusted"
    );
    let secure = start(serve(counter).secure_cookies(true));
    assert!(set_cookie(&secure, &[]).ends_with("; Secure"));
    let proxied = start(serve(counter).trust_proxy(true));
    assert!(set_cookie(&proxied, &https).ends_with("; Secure"));
    let http = [("X-Forwarded-Proto", "http")];
    assert!(!set_cookie(&proxied, &http).contains("Secure"));
}

#[test]
fn security_headers_on_every_response() {
    let server = start(serve(counter));
    let addr = server.addr();
    let page = get(addr, None);
    let replies = [
        page.clone(),
        request(addr, "GET", "/nope", &[], b""),
        request(addr, "GET", "/healthz", &[], b""),
        request(addr, "POST", "/click", &[], b""),
    ];
    for reply in &replies {
        assert_eq!(
            reply.header("x-content-type-options"),
            Some("nosniff"),
            "{reply:?}"
        );
        assert_eq!(
            reply.header("referrer-policy"),
            Some("no-referrer"),
            "{reply:?}"
        );
    }
    let events = Events::open(addr, &page.cookie());
    assert!(
        events
            .1
            .to_ascii_lowercase()
            .contains("x-accel-buffering: no"),
        "{}",
        events.1
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
fn graceful_shutdown_finishes_clicks_ends_streams_and_closes_sessions() {
    let hold = Arc::new(Gate::new(false));
    let (entered_tx, entered) = channel();
    let (ended_tx, ended) = channel();
    let (entered_tx, ended_tx) = (Mutex::new(entered_tx), Mutex::new(ended_tx));
    let gate = hold.clone();
    let server = start(serve(move || {
        let ended = Ended(ended_tx.lock().unwrap().clone());
        submit_with("forever", move |ctx: &TaskContext| {
            let _ended = ended;
            Gate::new(false).wait(|| ctx.is_cancel_requested());
            ctx.cancelled();
        });
        let (gate, entered) = (gate.clone(), entered_tx.lock().unwrap().clone());
        Button("hold").on_click(move || {
            let _ = entered.send(());
            gate.wait(|| false);
        })
    }));
    let addr = server.addr();
    let page = get(addr, None);
    let mut events = Events::open(addr, &page.cookie());
    let (cookie, token) = (page.cookie(), page.token());
    let click =
        std::thread::spawn(move || post_form(addr, &cookie, &format!("token={token}&key=hold")));
    entered
        .recv_timeout(GUARD)
        .expect("the click's handler started");
    let stopping = std::thread::spawn(move || server.shutdown());
    events.expect_end();
    hold.open();
    assert_eq!(
        click.join().unwrap().status,
        303,
        "the in-flight click finished"
    );
    stopping.join().unwrap().expect("a clean shutdown");
    ended
        .recv_timeout(GUARD)
        .expect("shutdown closed the session and cancelled its task");
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "no longer accepting"
    );
}

/// Every `tracing` event as `field=value` pairs, for the tests below.
struct Capture(Mutex<Vec<HashMap<String, String>>>);

impl tracing::Subscriber for Capture {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        struct Fields(HashMap<String, String>);
        impl tracing::field::Visit for Fields {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn fmt::Debug) {
                self.0.insert(field.name().to_owned(), format!("{value:?}"));
            }
            fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
                self.0.insert(field.name().to_owned(), value.to_owned());
            }
        }
        let mut fields = Fields(HashMap::new());
        event.record(&mut fields);
        self.0.lock().unwrap().push(fields.0);
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

static CAPTURE: std::sync::OnceLock<Arc<Capture>> = std::sync::OnceLock::new();

/// The events captured so far whose `panic` field contains `needle`.
fn panic_events(needle: &str) -> Vec<HashMap<String, String>> {
    static INIT: Once = Once::new();
    let capture = CAPTURE.get_or_init(|| Arc::new(Capture(Mutex::new(Vec::new()))));
    INIT.call_once(|| {
        tracing::subscriber::set_global_default(ArcSubscriber(capture.clone())).unwrap();
    });
    let events = capture.0.lock().unwrap();
    events
        .iter()
        .filter(|e| e.get("panic").is_some_and(|p| p.contains(needle)))
        .cloned()
        .collect()
}

/// Lets the static capture be the global subscriber.
struct ArcSubscriber(Arc<Capture>);

impl tracing::Subscriber for ArcSubscriber {
    fn enabled(&self, m: &tracing::Metadata<'_>) -> bool {
        self.0.enabled(m)
    }
    fn new_span(&self, a: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        self.0.new_span(a)
    }
    fn record(&self, s: &tracing::span::Id, r: &tracing::span::Record<'_>) {
        self.0.record(s, r);
    }
    fn record_follows_from(&self, s: &tracing::span::Id, f: &tracing::span::Id) {
        self.0.record_follows_from(s, f);
    }
    fn event(&self, e: &tracing::Event<'_>) {
        self.0.event(e);
    }
    fn enter(&self, s: &tracing::span::Id) {
        self.0.enter(s);
    }
    fn exit(&self, s: &tracing::span::Id) {
        self.0.exit(s);
    }
}

/// Two buttons that panic, `bang`'s message tagged so parallel tests tell theirs apart.
fn panicking_buttons(tag: &'static str) -> impl Fn() -> Element + Send + Sync + 'static {
    move || {
        VStack([
            Button("boom").on_click(|| panic!("boom\nINFO forged: a log line from a panic")),
            Button("bang").on_click(move || panic!("bang-{tag}")),
        ])
    }
}

#[test]
fn each_distinct_panic_is_logged_once_per_session_as_a_field() {
    panic_events(""); // install the capture before the server logs anything
    let server = start(serve(panicking_buttons("distinct")));
    let page = get(server.addr(), None);
    let (cookie, token) = (page.cookie(), page.token());
    let mut references = Vec::new();
    for _ in 0..20 {
        let reply = post_form(server.addr(), &cookie, &format!("token={token}&key=boom"));
        assert_eq!(reply.status, 500);
        assert!(
            reply.body.contains("boom"),
            "details shown by default: {}",
            reply.body
        );
        references.push(reply.body.split("reference ").nth(1).unwrap().to_owned());
    }
    references.dedup();
    assert_eq!(
        references.len(),
        1,
        "one reference per distinct panic: {references:?}"
    );
    let reply = post_form(server.addr(), &cookie, &format!("token={token}&key=bang"));
    assert_eq!(reply.status, 500);
    let boom = panic_events("INFO forged");
    assert_eq!(boom.len(), 1, "twenty panics, one event: {boom:?}");
    // The message is a field (escaped by the subscriber), not part of the event text.
    assert!(boom[0]["panic"].contains("boom\nINFO forged"), "{boom:?}");
    assert_eq!(boom[0]["message"], "a session's code panicked");
    assert_eq!(panic_events("bang-distinct").len(), 1);
}

#[test]
fn hidden_error_details_show_a_reference_that_the_log_explains() {
    panic_events("");
    let server = start(serve(panicking_buttons("hidden")).show_error_details(false));
    let page = get(server.addr(), None);
    let (cookie, token) = (page.cookie(), page.token());
    let reply = post_form(server.addr(), &cookie, &format!("token={token}&key=bang"));
    assert_eq!(reply.status, 500);
    assert!(
        !reply.body.contains("bang-hidden"),
        "details hidden: {}",
        reply.body
    );
    let reference = reply.body.trim().rsplit(' ').next().unwrap().to_owned();
    let logged = panic_events("bang-hidden");
    assert!(
        logged.iter().any(|e| e["reference"] == reference),
        "the log names reference {reference}: {logged:?}"
    );
}

/// A component that panicked shows its error box in the page; with details hidden the box
/// keeps its panic marker but shows only a reference, which the one log event explains.
#[test]
fn hidden_error_details_hide_a_panic_shown_in_the_page() {
    panic_events("");
    let shown = start(serve(streamtree_tests::contained_panic));
    let page = get(shown.addr(), None);
    assert!(
        page.body
            .contains("data-st-panic>component `Boom` panicked: kaboom"),
        "details shown by default: {}",
        page.body
    );
    let hidden = start(serve(streamtree_tests::contained_panic).show_error_details(false));
    let page = get(hidden.addr(), None);
    assert_eq!(page.status, 200);
    assert!(
        !page.body.contains("kaboom"),
        "details hidden: {}",
        page.body
    );
    let marker = "data-st-panic>Something went wrong (reference ";
    let start = page
        .body
        .find(marker)
        .unwrap_or_else(|| panic!("{}", page.body))
        + marker.len();
    let reference = &page.body[start..start + 16];
    let again = get(hidden.addr(), Some(&page.cookie()));
    assert!(
        again.body.contains(reference),
        "the same panic, the same reference"
    );
    let logged: Vec<_> = panic_events("kaboom")
        .into_iter()
        .filter(|e| e["reference"] == reference)
        .collect();
    assert_eq!(
        logged.len(),
        1,
        "one event explains the reference: {logged:?}"
    );
    assert!(logged[0]["panic"].contains("<bad> input"), "{logged:?}");
}

/// A contained panic outside any server lane (here a plain rerun) becomes one `tracing`
/// event with the message as a field, however often it repeats: a newline in it cannot
/// start a log line of its own.
#[test]
fn contained_panics_are_tracing_events_with_the_message_as_a_field() {
    panic_events("");
    let _server = start(serve(counter)); // the server's hook above the contained one
    let session = Session::new();
    for _ in 0..5 {
        let tree = session.rerun(|| -> Element { panic!("contained\nWARN fake: line") });
        assert!(render_text(&tree).contains("contained"));
    }
    let logged = panic_events("contained\nWARN fake");
    assert_eq!(logged.len(), 1, "five panics, one event: {logged:?}");
    assert_eq!(logged[0]["message"], "streamtree: contained panic");
    assert!(
        logged[0]["at"].contains("serve_production.rs"),
        "{logged:?}"
    );
}

#[test]
fn shutdown_is_bounded_when_a_handler_never_returns() {
    let hold = Arc::new(Gate::new(false));
    let (entered_tx, entered) = channel();
    let (ended_tx, ended) = channel();
    let (entered_tx, ended_tx) = (Mutex::new(entered_tx), Mutex::new(ended_tx));
    let gate = hold.clone();
    let server = start(
        serve(move || {
            let ended = Ended(ended_tx.lock().unwrap().clone());
            submit_with("forever", move |ctx: &TaskContext| {
                let _ended = ended;
                Gate::new(false).wait(|| ctx.is_cancel_requested());
                ctx.cancelled();
            });
            let (gate, entered) = (gate.clone(), entered_tx.lock().unwrap().clone());
            Button("hold").on_click(move || {
                let _ = entered.send(());
                gate.wait(|| false);
            })
        })
        .shutdown_timeout(std::time::Duration::from_millis(200)),
    );
    let addr = server.addr();
    let page = get(addr, None);
    let (cookie, token) = (page.cookie(), page.token());
    let _click =
        std::thread::spawn(move || post_form(addr, &cookie, &format!("token={token}&key=hold")));
    entered
        .recv_timeout(GUARD)
        .expect("the click's handler started");
    let (done_tx, done) = channel();
    std::thread::spawn(move || done_tx.send(server.shutdown().is_ok()));
    assert_eq!(
        done.recv_timeout(GUARD),
        Ok(true),
        "shutdown returned despite the stuck handler"
    );
    ended
        .recv_timeout(GUARD)
        .expect("the stuck session was closed beside its handler");
    hold.open();
}
