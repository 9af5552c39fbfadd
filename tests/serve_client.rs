//! A plain `TcpStream` HTTP client for the server tests: one request per connection, and
//! an open `GET /events` stream read event by event. Every read has the [`GUARD`] timeout.
#![allow(dead_code, unreachable_pub)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// Failure guard for every wait.
pub const GUARD: Duration = Duration::from_secs(20);

#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub head: String,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }

    /// `st_session=<id>` from `Set-Cookie`.
    pub fn cookie(&self) -> String {
        let set = self.header("set-cookie").expect("a Set-Cookie header");
        set.split(';').next().unwrap().to_owned()
    }

    /// The anti-forgery token in the page's form.
    pub fn token(&self) -> String {
        let marker = "name=\"token\" value=\"";
        let start = self.body.find(marker).expect("a token field") + marker.len();
        self.body[start..start + 32].to_owned()
    }
}

pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Reply {
    let mut tcp = TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(GUARD)).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
    for (name, value) in headers {
        req.push_str(&format!("{name}: {value}\r\n"));
    }
    if method == "POST" {
        req.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    req.push_str("\r\n");
    tcp.write_all(req.as_bytes()).unwrap();
    tcp.write_all(body).unwrap();
    let mut raw = String::new();
    tcp.read_to_string(&mut raw).unwrap();
    let (head, body) = raw
        .split_once("\r\n\r\n")
        .expect("a complete HTTP response");
    let status = head[9..12].parse().unwrap();
    Reply {
        status,
        head: head.to_owned(),
        body: body.to_owned(),
    }
}

/// `GET /`, as a browser: without a cookie, follows the first-visit page (which sets a
/// cookie and reloads) to the app, so the reply is the app's first page.
pub fn get(addr: SocketAddr, cookie: Option<&str>) -> Reply {
    match cookie {
        Some(c) => request(addr, "GET", "/", &[("Cookie", c)], b""),
        None => visit(addr, "/", &[]),
    }
}

/// Whether `reply` is the first-visit page (cookie set, no session yet).
pub fn is_first_visit(reply: &Reply) -> bool {
    reply.body.contains("data-st-first-visit")
}

/// `GET path` with `headers` and no cookie; if the server answers with the first-visit
/// page, sends its cookie back once, as a browser's reload does, and returns that reply.
pub fn visit(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> Reply {
    let first = request(addr, "GET", path, headers, b"");
    if !is_first_visit(&first) {
        return first;
    }
    let cookie = first.cookie();
    let mut again: Vec<(&str, &str)> = headers.to_vec();
    again.push(("Cookie", &cookie));
    request(addr, "GET", &format!("{path}?st-visit"), &again, b"")
}

pub fn post_form(addr: SocketAddr, cookie: &str, body: &str) -> Reply {
    let headers = [
        ("Cookie", cookie),
        ("Content-Type", "application/x-www-form-urlencoded"),
    ];
    request(addr, "POST", "/click", &headers, body.as_bytes())
}

/// An open `GET /events` stream. HTTP/1.0, so the body is close-delimited, not chunked.
pub struct Events(pub BufReader<TcpStream>, pub String);

impl Events {
    pub fn open(addr: SocketAddr, cookie: &str) -> Events {
        Events::try_open(addr, "/events", cookie).unwrap_or_else(|head| panic!("{head}"))
    }

    /// Opens `path` as an event stream, or returns the refusal's status line and headers.
    pub fn try_open(addr: SocketAddr, path: &str, cookie: &str) -> Result<Events, String> {
        Events::try_open_with(addr, path, cookie, &[])
    }

    /// [`Events::try_open`] with extra request headers (`Last-Event-ID` for a reconnect).
    pub fn try_open_with(
        addr: SocketAddr,
        path: &str,
        cookie: &str,
        headers: &[(&str, &str)],
    ) -> Result<Events, String> {
        let mut tcp = TcpStream::connect(addr).unwrap();
        tcp.set_read_timeout(Some(GUARD)).unwrap();
        let mut req = format!("GET {path} HTTP/1.0\r\nHost: localhost\r\nCookie: {cookie}\r\n");
        for (name, value) in headers {
            req.push_str(&format!("{name}: {value}\r\n"));
        }
        req.push_str("\r\n");
        tcp.write_all(req.as_bytes()).unwrap();
        let mut reader = BufReader::new(tcp);
        let mut head = String::new();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if line == "\r\n" || line.is_empty() {
                break;
            }
            head.push_str(&line);
        }
        if !head.starts_with("HTTP/1.0 200") {
            return Err(head);
        }
        assert!(head.contains("text/event-stream"), "{head}");
        Ok(Events(reader, head))
    }

    /// Reads until the server ends the stream; panics if it sends no end within the guard.
    pub fn expect_end(&mut self) {
        let mut rest = Vec::new();
        self.0
            .read_to_end(&mut rest)
            .expect("the server ended the event stream before the guard timeout");
    }

    /// The next event's JSON data (keep-alive comments skipped).
    pub fn next(&mut self) -> serde_json::Value {
        self.next_with_id().1
    }

    /// The next event's `id:` field, if it has one, and its JSON data.
    pub fn next_with_id(&mut self) -> (Option<String>, serde_json::Value) {
        let mut data = String::new();
        let mut id = None;
        loop {
            let mut line = String::new();
            let n = self
                .0
                .read_line(&mut line)
                .expect("an event before the guard timeout");
            assert!(n > 0, "the event stream ended");
            let line = line.trim_end_matches(['\r', '\n']);
            if line.is_empty() {
                if !data.is_empty() {
                    return (id, serde_json::from_str(&data).unwrap());
                }
            } else if let Some(i) = line.strip_prefix("id:") {
                id = Some(i.strip_prefix(' ').unwrap_or(i).to_owned());
            } else if let Some(d) = line.strip_prefix("data:") {
                data.push_str(d.strip_prefix(' ').unwrap_or(d));
            }
        }
    }

    /// Skips events until one's HTML contains `text`.
    pub fn until(&mut self, text: &str) -> serde_json::Value {
        loop {
            let event = self.next();
            if event["html"].as_str().unwrap().contains(text) {
                return event;
            }
        }
    }
}
