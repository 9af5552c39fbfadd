//! Compression: the page goes out gzipped to a client that accepts it, and decodes to the
//! same page; so does the event stream, flushed per event: a client decoding the stream
//! as it arrives sees every event whole, before the next one is sent.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::mpsc::{Receiver, channel};
use std::sync::{Arc, Mutex};

use flate2::read::GzDecoder;
use streamtree::prelude::*;
use streamtree::serve;

#[path = "serve_client.rs"]
mod serve_client;
use serve_client::{Events, GUARD, get, request};

/// `GET /` over HTTP/1.0 (a close-delimited body, not chunked): the head and the raw body.
fn get_raw(addr: SocketAddr, headers: &[(&str, &str)]) -> (String, Vec<u8>) {
    let mut tcp = TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(GUARD)).unwrap();
    let mut req = String::from("GET / HTTP/1.0\r\nHost: localhost\r\n");
    for (name, value) in headers {
        req.push_str(&format!("{name}: {value}\r\n"));
    }
    req.push_str("\r\n");
    tcp.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    tcp.read_to_end(&mut raw)
        .expect("the whole reply before the guard timeout");
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete HTTP response");
    let head = String::from_utf8(raw[..split].to_vec()).unwrap();
    (head, raw[split + 4..].to_vec())
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// The page with what differs per request (the script nonce, the render's seq) blanked.
fn normalised(page: &str) -> String {
    let mut out = page.to_owned();
    for marker in ["nonce=\"", "data-st-seq=\""] {
        let mut from = 0;
        while let Some(at) = out[from..].find(marker) {
            let start = from + at + marker.len();
            let end = start + out[start..].find('"').unwrap();
            out.replace_range(start..end, "");
            from = start;
        }
    }
    out
}

fn app() -> Element {
    VStack(
        (0..200)
            .map(|i| Text(format!("row {i}: the same words again and again")))
            .collect::<Vec<_>>(),
    )
}

#[test]
fn the_page_is_gzipped_when_accepted_and_decodes_to_the_same_page() {
    let server = serve(app).bind(([127, 0, 0, 1], 0)).spawn().unwrap();
    let cookie = get(server.addr(), None).cookie();
    let plain = request(server.addr(), "GET", "/", &[("Cookie", &cookie)], b"");
    assert_eq!(plain.status, 200);
    assert_eq!(plain.header("content-encoding"), None, "{}", plain.head);

    let (head, body) = get_raw(
        server.addr(),
        &[("Cookie", &cookie), ("Accept-Encoding", "gzip")],
    );
    assert!(head.starts_with("HTTP/1.0 200"), "{head}");
    assert_eq!(header(&head, "content-encoding"), Some("gzip"), "{head}");
    let mut decoded = String::new();
    GzDecoder::new(&body[..])
        .read_to_string(&mut decoded)
        .expect("the body is gzip");
    assert!(
        body.len() * 4 < decoded.len(),
        "{} → {}",
        decoded.len(),
        body.len()
    );
    assert_eq!(normalised(&decoded), normalised(&plain.body));

    // Without `Accept-Encoding` the event stream is plain.
    let mut events = Events::open(server.addr(), &cookie);
    assert_eq!(header(&events.1, "content-encoding"), None, "{}", events.1);
    assert!(events.next()["html"].as_str().unwrap().contains("row 199"));
}

/// A page with a task that moves one step each time the test sends on `steps`.
fn stepped(steps: Receiver<()>) -> impl Fn() -> Element + Send + Sync {
    let steps = Arc::new(Mutex::new(steps));
    move || {
        let steps = steps.clone();
        let task = submit_with("steps", move |ctx: &TaskContext| {
            for i in 0..3u32 {
                ctx.set_progress((f64::from(i) / 3.0, format!("step={i};")));
                let _ = steps.lock().unwrap().recv_timeout(GUARD);
            }
        });
        let status: Element = match_task(&task)
            .loading_with(|p| match p {
                Some(p) => ProgressBar(p),
                None => Text("Queued…"),
            })
            .ready(|()| Text("step=done;"))
            .into();
        Page([status, app()])
    }
}

/// An event stream opened with `Accept-Encoding: gzip`, decoded as its bytes arrive.
struct GzipEvents {
    tcp: TcpStream,
    decoder: flate2::write::GzDecoder<Vec<u8>>,
    /// Compressed bytes received.
    received: usize,
}

impl GzipEvents {
    fn open(addr: SocketAddr, cookie: &str) -> (String, GzipEvents) {
        let mut tcp = TcpStream::connect(addr).unwrap();
        tcp.set_read_timeout(Some(GUARD)).unwrap();
        let req = format!(
            "GET /events HTTP/1.0\r\nHost: localhost\r\nCookie: {cookie}\r\n\
             Accept-Encoding: gzip, deflate\r\n\r\n"
        );
        tcp.write_all(req.as_bytes()).unwrap();
        // The head, byte by byte, so no body byte is read into a buffer here.
        let mut head = Vec::new();
        while !head.ends_with(b"\r\n\r\n") {
            let mut byte = [0u8];
            tcp.read_exact(&mut byte).expect("a response head");
            head.push(byte[0]);
        }
        let decoder = flate2::write::GzDecoder::new(Vec::new());
        let events = GzipEvents {
            tcp,
            decoder,
            received: 0,
        };
        (String::from_utf8(head).unwrap(), events)
    }

    /// Reads and decodes until the decoded stream holds a complete event (ending in a
    /// blank line) containing `text`; returns the decoded text so far. Reads only what
    /// the server sent: if it held an event back, this times out.
    fn until(&mut self, text: &str) -> String {
        let started = std::time::Instant::now();
        loop {
            let decoded = String::from_utf8_lossy(self.decoder.get_ref()).into_owned();
            if decoded
                .split("\n\n")
                .filter(|_| decoded.ends_with("\n\n"))
                .any(|event| event.contains(text))
            {
                return decoded;
            }
            assert!(
                started.elapsed() < GUARD,
                "no event with {text:?} within the guard"
            );
            let mut buf = [0u8; 16 * 1024];
            let n = self
                .tcp
                .read(&mut buf)
                .expect("bytes before the guard timeout");
            assert!(n > 0, "the event stream ended");
            self.received += n;
            self.decoder.write_all(&buf[..n]).unwrap();
            self.decoder.flush().unwrap();
        }
    }
}

#[test]
fn the_event_stream_is_gzipped_per_event_when_accepted() {
    let (step, steps) = channel();
    let server = serve(stepped(steps))
        .bind(([127, 0, 0, 1], 0))
        .spawn()
        .unwrap();
    let cookie = get(server.addr(), None).cookie();
    let (head, mut events) = GzipEvents::open(server.addr(), &cookie);
    assert!(head.starts_with("HTTP/1.0 200"), "{head}");
    assert_eq!(header(&head, "content-encoding"), Some("gzip"), "{head}");
    assert!(
        header(&head, "content-type")
            .unwrap()
            .starts_with("text/event-stream")
    );
    let first = events.until("step=0;");
    assert!(
        first.contains("row 199"),
        "the first event is the whole page"
    );
    assert!(
        events.received * 4 < first.len(),
        "the page is compressed: {} → {}",
        first.len(),
        events.received
    );
    // Each step's push decodes whole on arrival, though nothing follows it yet.
    for i in 1..3 {
        step.send(()).unwrap();
        events.until(&format!("step={i};"));
    }
    step.send(()).unwrap();
    let all = events.until("step=done;");
    // Every event, in order, each with an id and data.
    let ids: Vec<u64> = all
        .lines()
        .filter_map(|l| l.strip_prefix("id:"))
        .map(|id| id.trim().parse().unwrap())
        .collect();
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "ids only grow: {ids:?}"
    );
    assert_eq!(
        all.lines().filter(|l| l.starts_with("data:")).count(),
        ids.len(),
        "one data line per event"
    );
    server.shutdown().unwrap();
}
