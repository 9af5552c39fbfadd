//! Compression: the page goes out gzipped to a client that accepts it, and decodes to the
//! same page; the event stream stays plain (tower-http's encoder does not flush per event).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

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

    // Pushes stay plain even when gzip is accepted, so each event arrives when sent.
    let events = Events::try_open_with(
        server.addr(),
        "/events",
        &cookie,
        &[("Accept-Encoding", "gzip")],
    );
    let mut events = events.unwrap_or_else(|head| panic!("{head}"));
    assert_eq!(header(&events.1, "content-encoding"), None, "{}", events.1);
    assert!(events.next()["html"].as_str().unwrap().contains("row 199"));
}
