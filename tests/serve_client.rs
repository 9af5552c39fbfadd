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
/// Fields: the reader, the response head, and the page the pushes so far give (the seq of
/// the last event and its HTML), which a patch applies to.
pub struct Events(
    pub BufReader<TcpStream>,
    pub String,
    pub Option<(u64, String)>,
);

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
        Ok(Events(reader, head, None))
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

    /// The next event's `id:` field, if it has one, and its JSON data. A patch is applied
    /// to the page the stream gave so far (its `base` must be the last event's seq), and
    /// the resulting page is added to the event as `html`, so every event has one.
    pub fn next_with_id(&mut self) -> (Option<String>, serde_json::Value) {
        let (id, (event, _)) = self.next_raw_with_size();
        (id, event)
    }

    /// [`Events::next_with_id`], with the size of the event's data as sent, in bytes.
    pub fn next_raw_with_size(&mut self) -> (Option<String>, (serde_json::Value, usize)) {
        let (id, mut event, size) = self.next_raw();
        let seq = event["seq"].as_u64().expect("every push carries its seq");
        let html = match event.get("patch") {
            Some(patch) => {
                let (last, page) = self.2.as_ref().unwrap_or_else(|| {
                    panic!(
                        "a patch only after a whole page: seq {seq} base {}",
                        event["base"]
                    )
                });
                assert_eq!(
                    event["base"].as_u64(),
                    Some(*last),
                    "a patch applies to the last push"
                );
                apply_patch(page, patch)
            }
            None => event["html"]
                .as_str()
                .expect("a push is a patch or a page")
                .to_owned(),
        };
        event["html"] = html.clone().into();
        self.2 = Some((seq, html));
        (id, (event, size))
    }

    /// The next event's `id:` field, its JSON data as sent, and the data's size.
    pub fn next_raw(&mut self) -> (Option<String>, serde_json::Value, usize) {
        let mut data = String::new();
        let mut id = None;
        // Keep-alive comments arrive within the socket's read timeout: the guard is on the
        // whole wait.
        let started = std::time::Instant::now();
        loop {
            assert!(
                started.elapsed() < GUARD,
                "no event within the guard timeout"
            );
            let mut line = String::new();
            let n = self
                .0
                .read_line(&mut line)
                .expect("an event before the guard timeout");
            assert!(n > 0, "the event stream ended");
            let line = line.trim_end_matches(['\r', '\n']);
            if line.is_empty() {
                if !data.is_empty() {
                    return (id, serde_json::from_str(&data).unwrap(), data.len());
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

/// Applies a push's patch (`[[path, html], ..]`: replace the element at `path`, a list of
/// element-child indexes from the root, by `html`) to `page`, as `script.js` does in a
/// browser. Written apart from the server's own parser, so that one's mistakes show.
pub fn apply_patch(page: &str, patch: &serde_json::Value) -> String {
    let mut page = page.to_owned();
    for op in patch.as_array().expect("a patch is a list of ops") {
        let path: Vec<usize> = op[0]
            .as_array()
            .expect("an op's path")
            .iter()
            .map(|i| i.as_u64().unwrap() as usize)
            .collect();
        let span =
            element_at(&page, &path).unwrap_or_else(|| panic!("no element at {path:?} in {page}"));
        page.replace_range(span, op[1].as_str().expect("an op's html"));
    }
    page
}

/// The byte range of the element at `path` (element-child indexes) in `html`: a plain
/// scan of start and end tags, void elements and `/>` (enough for the pages under test).
pub fn element_at(html: &str, path: &[usize]) -> Option<std::ops::Range<usize>> {
    const VOID: &[&str] = &[
        "br", "hr", "img", "input", "meta", "link", "col", "wbr", "source",
    ];
    // Open elements, the root first: start, element children so far, whether on the path.
    let mut stack: Vec<(usize, usize, bool)> = vec![(0, 0, true)];
    let mut at = 0;
    while let Some(found) = html[at..].find('<') {
        let lt = at + found;
        let gt = lt + html[lt..].find('>')?;
        let tag = &html[lt + 1..gt];
        at = gt + 1;
        if tag.starts_with('!') {
            continue;
        }
        if tag.starts_with('/') {
            let (start, _, on) = stack.pop()?;
            if on && stack.len() == path.len() {
                return Some(start..gt + 1);
            }
            continue;
        }
        let name: String = tag
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        let parent = stack.last_mut()?;
        let (index, parent_on) = (parent.1, parent.2);
        parent.1 += 1;
        let depth = stack.len();
        let on = parent_on && depth <= path.len() && path[depth - 1] == index;
        if tag.ends_with('/') || VOID.contains(&name.as_str()) {
            if on && depth == path.len() {
                return Some(lt..gt + 1);
            }
            continue;
        }
        stack.push((lt, 0, on));
    }
    None
}
