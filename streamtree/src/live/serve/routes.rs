//! The router and its handlers (`GET`/`HEAD /`, `/healthz`, `GET /events`, the fallback;
//! `POST /click` is in `click.rs`), with the layers every response passes through and the
//! cookie and reply helpers the handlers share.

use std::convert::Infallible;
use std::fmt::Write as _;
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, Uri, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};

use super::SESSION_COOKIE;
use super::click::click;
use super::gzip::Gzip;
use super::live::{Live, RunError};
use super::panics;
use super::registry::{Shared, StreamRefused};
use super::visitor;
use crate::render::html;

/// The inline client: applies pushes, posts clicks as JSON. No timers, no polling.
const SCRIPT: &str = include_str!("script.js");

/// Without JavaScript, the form's first submit button, so Enter in a text field applies
/// the inputs instead of clicking the app's first button. With JavaScript `<noscript>` is
/// inert, and the script posts each change (Enter in a field included).
const APPLY: &str = "<noscript><button class=\"st-button st-apply\" type=\"submit\" \
                     name=\"apply\" value=\"1\">Apply changes</button></noscript>";

/// Where [`Server::inspector`](super::Server::inspector) serves the task inspector, under
/// the base path.
const TASKS_PATH: &str = "/_streamtree/tasks";

/// Which of a session's pages a request shows (and which pushes its stream carries).
#[derive(Clone, Copy, PartialEq, Eq)]
enum PageKind {
    App,
    Tasks,
}

/// Every route under the base path, and the layers: access log, request timeout,
/// `nosniff` and `Referrer-Policy` on every response, gzip on the pages.
pub(super) fn router(shared: &Arc<Shared>) -> Router {
    let base = shared.cfg.base_path.clone();
    let mut router = Router::new()
        .route(
            &format!("{base}/"),
            get(page).head(head).layer(compression()),
        )
        .route(&format!("{base}/healthz"), get(health))
        .route(&format!("{base}/events"), get(events))
        .route(&format!("{base}/click"), post(click));
    if shared.cfg.inspector {
        router = router.route(
            &format!("{base}{TASKS_PATH}"),
            get(tasks_page).layer(compression()),
        );
    }
    if !base.is_empty() {
        let to = format!("{base}/");
        router = router.route(&base, get(move || async move { see_other(&to) }));
    }
    router
        .fallback(not_found)
        .with_state(shared.clone())
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            shared.cfg.request_timeout,
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(tracing::Level::INFO))
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
}

/// gzip for the pages, when the request's `Accept-Encoding` allows it (bodies under 32
/// bytes stay plain). Not for `/events`: tower-http's encoder writes compressed bytes out
/// only when its buffer fills or the body ends, not per event, so it would hold pushes
/// back; event streams get `gzip.rs`'s encoder, which flushes per event.
fn compression() -> CompressionLayer {
    CompressionLayer::new().gzip(true)
}

pub(super) fn random_u128() -> u128 {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the operating system's random source is available");
    u128::from_le_bytes(bytes)
}

/// The values of the request's session cookies.
pub(super) fn cookie_values(headers: &HeaderMap) -> impl Iterator<Item = &str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().strip_prefix(SESSION_COOKIE)?.strip_prefix('='))
}

/// The session id from the `Cookie` headers (the first 32 hex digits of a minted value,
/// see `visitor.rs`), if one is well formed.
pub(super) fn session_id(headers: &HeaderMap) -> Option<u128> {
    cookie_values(headers).find_map(|value| {
        let id = value.get(..32)?;
        (matches!(value.len(), 32 | 48) && value.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| u128::from_str_radix(id, 16).ok())
            .flatten()
    })
}

pub(super) fn text(status: StatusCode, message: impl Into<String>) -> Response {
    let mut body = message.into();
    body.push('\n');
    (
        status,
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

pub(super) fn see_other(location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(value) => (StatusCode::SEE_OTHER, [(header::LOCATION, value)]).into_response(),
        Err(_) => text(StatusCode::INTERNAL_SERVER_ERROR, "bad redirect target"),
    }
}

/// The answer to a panic in a render or click (`what` failed): the panic's message, or
/// only a reference id to quote when
/// [`Server::show_error_details`](super::Server::show_error_details) is off. Logged once
/// per session and message, under that id.
pub(super) fn failure(shared: &Shared, live: &Live, what: &str, message: &str) -> Response {
    let reference = panics::report(live, "request", message);
    let body = if shared.cfg.show_error_details {
        format!("{what} panicked: {message} (reference {reference})")
    } else {
        format!("{what} failed. Reference for the server's log: {reference}")
    };
    text(StatusCode::INTERNAL_SERVER_ERROR, body)
}

/// Whether the session cookie gets `Secure`: configured so, or a trusted proxy says the
/// request came over https.
fn secure(shared: &Shared, headers: &HeaderMap) -> bool {
    shared.cfg.secure_cookies
        || (shared.cfg.trust_proxy
            && headers
                .get("x-forwarded-proto")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(',').next())
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("https")))
}

/// `GET /`: the page; a session is created only for a cookie this server minted (see
/// `visitor.rs`), other first visits get the small page that mints one.
async fn page(State(shared): State<Arc<Shared>>, uri: Uri, headers: HeaderMap) -> Response {
    page_of(shared, uri, headers, PageKind::App).await
}

/// `GET /_streamtree/tasks`: the session's task inspector, a live page like `/` (a first
/// visit gets the same cookie-minting page).
async fn tasks_page(State(shared): State<Arc<Shared>>, uri: Uri, headers: HeaderMap) -> Response {
    page_of(shared, uri, headers, PageKind::Tasks).await
}

/// The app's page or the inspector's: both render the session in one rerun.
async fn page_of(shared: Arc<Shared>, uri: Uri, headers: HeaderMap, kind: PageKind) -> Response {
    let (live, new) = match session_id(&headers).and_then(|id| shared.lookup(id)) {
        Some(live) => (live, false),
        None => {
            let Some(id) = visitor::proven(&shared, &headers) else {
                return visitor::first_visit(
                    &shared,
                    uri.query(),
                    &headers,
                    secure(&shared, &headers),
                );
            };
            match shared.create(id) {
                Some(live) => (live, true),
                None => {
                    return text(
                        StatusCode::SERVICE_UNAVAILABLE,
                        format!(
                            "This server already holds its limit of {} sessions, each with \
                             an open page. Try again when one closes.",
                            shared.cfg.max_sessions,
                        ),
                    );
                }
            }
        }
    };
    let app = shared.clone();
    // A new session's first render waits for a render permit (arrival order), so a flood
    // of new visitors takes a bounded number of blocking threads; known sessions do not
    // queue behind it.
    let permits = new.then_some(&shared.renders);
    let rendered = live
        .run(permits, move |live, seq| {
            live.render_locked(seq, &*app.cfg.root, &app.cfg.title)
        })
        .await;
    let snapshot = match rendered {
        Ok((snapshot, _)) => snapshot,
        Err(RunError::Closed) => {
            return text(
                StatusCode::SERVICE_UNAVAILABLE,
                "This session has just ended: reload the page.",
            );
        }
        Err(RunError::Panicked(message)) => {
            return failure(&shared, &live, "Rendering the page", &message);
        }
    };
    let base = &shared.cfg.base_path;
    let (html, title, events) = match kind {
        PageKind::App => (&snapshot.app.html, snapshot.title.as_str(), ""),
        PageKind::Tasks => (&snapshot.tasks.html, "Tasks", "?page=tasks"),
    };
    let nonce = format!("{:032x}", random_u128());
    let head = if snapshot.busy {
        // Without JavaScript, reload while tasks run; with it, `<noscript>` is inert.
        "<noscript><meta http-equiv=\"refresh\" content=\"1\"></noscript>\n"
    } else {
        ""
    };
    let mut body_start = String::with_capacity(256);
    let _ = write!(
        body_start,
        "<form id=\"st-form\" method=\"post\" action=\"{base}/click\" \
         data-st-events=\"{base}/events{events}\">\
         <input type=\"hidden\" name=\"token\" value=\"{}\">{}\
         <div id=\"st-note\" class=\"st-error\" role=\"status\" hidden></div>\
         <div id=\"st-root\" data-st-seq=\"{}\">",
        live.token,
        if snapshot.inputs { APPLY } else { "" },
        snapshot.seq
    );
    let body_end = format!("</div></form>\n<script nonce=\"{nonce}\">\n{SCRIPT}</script>");
    let document = html::document_with(
        html,
        title,
        &html::Shell {
            head,
            body_start: &body_start,
            body_end: &body_end,
        },
    );
    let csp = format!(
        "default-src 'none'; script-src 'nonce-{nonce}'; style-src 'unsafe-inline'; \
         img-src 'self' https: data:; connect-src 'self'; form-action 'self'; \
         base-uri 'none'; frame-ancestors 'none'"
    );
    let mut response = (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        document,
    )
        .into_response();
    let out = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&csp) {
        out.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    if new {
        let cookie = visitor::set_cookie(&shared, live.id, secure(&shared, &headers));
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            out.insert(header::SET_COOKIE, value);
        }
    }
    response
}

/// `HEAD /`: what a page's headers say, without creating a session (probes and floods
/// of `HEAD` cost nothing).
async fn head() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        "",
    )
        .into_response()
}

/// `GET /healthz`: `ok` while the server runs; creates no session.
async fn health() -> Response {
    text(StatusCode::OK, "ok")
}

/// `GET /events`: the session's pushes as Server-Sent Events, each with its seq as the
/// event id, the current render first. A reconnect with `Last-Event-ID: n` gets the
/// current render at once if its seq is past `n`, else the next one. With `?page=tasks`,
/// the task inspector's pushes instead of the app's.
async fn events(State(shared): State<Arc<Shared>>, headers: HeaderMap, uri: Uri) -> Response {
    let kind = if uri.query() == Some("page=tasks") && shared.cfg.inspector {
        PageKind::Tasks
    } else {
        PageKind::App
    };
    let Some(id) = session_id(&headers) else {
        return text(
            StatusCode::FORBIDDEN,
            "No session cookie: open the page first.",
        );
    };
    let guard = match shared.open_stream(id) {
        Ok(guard) => guard,
        Err(StreamRefused::Unknown) => {
            return text(
                StatusCode::FORBIDDEN,
                "Unknown or expired session: reload the page.",
            );
        }
        Err(StreamRefused::SessionFull) => {
            return text(
                StatusCode::TOO_MANY_REQUESTS,
                format!(
                    "This session already has {} open event streams: close a tab.",
                    shared.cfg.max_streams_per_session
                ),
            );
        }
        Err(StreamRefused::ServerFull) => {
            return text(
                StatusCode::SERVICE_UNAVAILABLE,
                "The server holds its limit of event streams: try again later.",
            );
        }
    };
    let live = guard.live.clone();
    // A reconnecting browser says which push it has; it gets only newer ones (the current
    // render at once when it is newer, else the next), never an older page.
    let resume = last_event_id(&headers);
    let mut rx = live.page.subscribe();
    rx.mark_changed();
    // The pusher skipped changes while no stream was open: ask it for a fresh render.
    live.changed.notify_one();
    let stop = shared.stop.subscribe();
    let closed = live.closed.subscribe();
    let dropped = shared.drop_streams.subscribe();
    // `sent`: the newest seq this client has (its `Last-Event-ID`, then each push sent);
    // an event goes out only with a greater seq, so the ids a client sees only grow. The
    // client's page is that push's (or one equal to it: see `script.js`), so a patch
    // whose base is `sent` applies to it; any other push is the whole page.
    let state = (rx, stop, closed, dropped, guard, resume);
    let stream = futures_util::stream::unfold(state, move |mut state| async move {
        let (rx, stop, closed, dropped, _, sent) = &mut state;
        loop {
            tokio::select! {
                changed = rx.changed() => changed.ok()?,
                _ = stop.wait_for(|stopped| *stopped) => return None,
                _ = closed.wait_for(|closed| *closed) => return None,
                _ = dropped.changed() => return None,
            }
            let snapshot = rx.borrow_and_update().clone();
            if sent.is_some_and(|sent| snapshot.seq <= sent) {
                continue;
            }
            let pushed = match kind {
                PageKind::App => &snapshot.app,
                PageKind::Tasks => &snapshot.tasks,
            };
            let data = match &pushed.patch {
                Some((base, patch)) if Some(*base) == *sent => patch,
                _ => pushed.json(),
            };
            *sent = Some(snapshot.seq);
            let event = Event::default().id(snapshot.seq.to_string()).data(data);
            return Some((Ok::<_, Infallible>(event), state));
        }
    });
    let mut response = Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response();
    if accepts_gzip(&headers) {
        response = gzipped(response);
    }
    let out = response.headers_mut();
    out.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // Proxies (nginx) must pass each event on at once.
    out.insert(
        HeaderName::from_static("x-accel-buffering"),
        HeaderValue::from_static("no"),
    );
    response
}

/// Whether the request's `Accept-Encoding` lists `gzip` (or `x-gzip`) with a non-zero
/// weight.
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';').map(str::trim);
            let name = parts.next().unwrap_or_default();
            let zero = parts.any(|p| {
                p.strip_prefix("q=")
                    .is_some_and(|q| q.parse::<f32>().is_ok_and(|q| q <= 0.0))
            });
            (name.eq_ignore_ascii_case("gzip") || name.eq_ignore_ascii_case("x-gzip")) && !zero
        })
}

/// The event stream `response`, gzipped with a flush after every frame (`gzip.rs`).
fn gzipped(response: Response) -> Response {
    use futures_util::StreamExt as _;

    let (mut parts, body) = response.into_parts();
    let frames = body.into_data_stream();
    let state = (frames, Some(Gzip::default()));
    let encoded = futures_util::stream::unfold(state, |(mut frames, gzip)| async move {
        let mut gzip = gzip?;
        match frames.next().await {
            Some(Ok(frame)) => {
                let bytes = Bytes::from(gzip.frame(&frame));
                Some((Ok::<_, axum::Error>(bytes), (frames, Some(gzip))))
            }
            // The stream ended: end the gzip member too.
            None => Some((Ok(Bytes::from(gzip.finish())), (frames, None))),
            Some(Err(e)) => Some((Err(e), (frames, None))),
        }
    });
    parts
        .headers
        .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    parts
        .headers
        .insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from_stream(encoded))
}

/// The `Last-Event-ID` a reconnecting `EventSource` sends: the seq of the last push it
/// received (our event ids are seqs). Anything else is ignored (a full render follows).
fn last_event_id(headers: &HeaderMap) -> Option<u64> {
    headers
        .get("last-event-id")?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

async fn not_found(State(shared): State<Arc<Shared>>, uri: Uri) -> Response {
    text(
        StatusCode::NOT_FOUND,
        format!(
            "No page at {}: the app lives at {}/.",
            uri.path(),
            shared.cfg.base_path
        ),
    )
}
