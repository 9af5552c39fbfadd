//! The HTTP handlers: `GET /`, `GET /events`, `POST /click` and the fallback, with the
//! cookie, token and body checks they share.

use std::convert::Infallible;
use std::fmt::Write as _;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::live::{StreamGuard, lock};
use super::registry::Shared;
use super::{MAX_CLICK_BODY, SESSION_COOKIE};
use crate::render::html;
use crate::session::ClickError;

/// The inline client: applies pushes, posts clicks as JSON. No timers, no polling.
const SCRIPT: &str = include_str!("script.js");

pub(super) fn random_u128() -> u128 {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the operating system's random source is available");
    u128::from_le_bytes(bytes)
}

/// The session id from the `Cookie` headers, if one is well formed.
fn session_id(headers: &HeaderMap) -> Option<u128> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().strip_prefix(SESSION_COOKIE)?.strip_prefix('='))
        .find_map(|value| {
            (value.len() == 32 && value.bytes().all(|b| b.is_ascii_hexdigit()))
                .then(|| u128::from_str_radix(value, 16).ok())
                .flatten()
        })
}

fn text(status: StatusCode, message: impl Into<String>) -> Response {
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

/// Compares without an early exit, so the time taken does not tell how much matched.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `GET /`: the page, creating the session on first visit.
pub(super) async fn page(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let (live, new) = match session_id(&headers).and_then(|id| shared.lookup(id, false)) {
        Some(live) => (live, false),
        None => match shared.create() {
            Some(live) => (live, true),
            None => {
                return text(
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!(
                        "This server already holds its limit of {} sessions. Try again after \
                         an idle session expires ({} s without activity).",
                        shared.max_sessions,
                        shared.idle_timeout.as_secs()
                    ),
                );
            }
        },
    };
    let (app, session) = (shared.clone(), live.clone());
    let Ok((snapshot, _)) = tokio::task::spawn_blocking(move || app.render(&session)).await else {
        return text(
            StatusCode::INTERNAL_SERVER_ERROR,
            "rendering the page failed",
        );
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
        "<form id=\"st-form\" method=\"post\" action=\"/click\">\
         <input type=\"hidden\" name=\"token\" value=\"{}\">\
         <div id=\"st-note\" class=\"st-error\" role=\"status\" hidden></div>\
         <div id=\"st-root\" data-st-seq=\"{}\">",
        live.token, snapshot.seq
    );
    let body_end = format!("</div></form>\n<script nonce=\"{nonce}\">\n{SCRIPT}</script>");
    let document = html::document_with(
        &snapshot.html,
        &snapshot.title,
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
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        document,
    )
        .into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&csp) {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    if new {
        let cookie = format!(
            "{SESSION_COOKIE}={:032x}; Path=/; HttpOnly; SameSite=Strict",
            live.id
        );
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            headers.insert(header::SET_COOKIE, value);
        }
    }
    response
}

/// `GET /events`: the session's pushes as Server-Sent Events, the current render first.
pub(super) async fn events(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let Some(id) = session_id(&headers) else {
        return text(
            StatusCode::FORBIDDEN,
            "No session cookie: open the page (GET /) first.",
        );
    };
    let Some(live) = shared.lookup(id, true) else {
        return text(
            StatusCode::FORBIDDEN,
            "Unknown or expired session: reload the page.",
        );
    };
    let guard = StreamGuard(live.clone());
    let mut rx = live.page.subscribe();
    rx.mark_changed();
    // The pusher skipped changes while no stream was open: ask it for a fresh render.
    live.changed.notify_one();
    let stop = shared.stop.subscribe();
    let stream = futures_util::stream::unfold((rx, stop, guard), |mut state| async move {
        let (rx, stop, _) = &mut state;
        tokio::select! {
            changed = rx.changed() => changed.ok()?,
            _ = stop.wait_for(|stopped| *stopped) => return None,
        }
        let event = Event::default().data(&rx.borrow_and_update().json);
        Some((Ok::<_, Infallible>(event), state))
    });
    let mut response = Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A click as the script sends it.
#[derive(Deserialize)]
struct ClickJson {
    token: Option<String>,
    key: Option<String>,
}

enum Kind {
    Form,
    Json,
}

/// `POST /click`: token check, then handler, rerun and push (Streamlit's order).
pub(super) async fn click(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Some(id) = session_id(&headers) else {
        return text(
            StatusCode::FORBIDDEN,
            "No session cookie: open the page (GET /) first, then click.",
        );
    };
    let Some(live) = shared.lookup(id, false) else {
        return text(
            StatusCode::FORBIDDEN,
            "Unknown or expired session: reload the page, then click again.",
        );
    };
    let too_large = || {
        text(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("The click request is larger than {MAX_CLICK_BODY} bytes."),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_CLICK_BODY as u64) {
        return too_large();
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mime = content_type.split(';').next().unwrap_or("").trim();
    let kind = if mime.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        Kind::Form
    } else if mime.eq_ignore_ascii_case("application/json") {
        Kind::Json
    } else {
        return text(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "A click is posted as application/x-www-form-urlencoded or application/json.",
        );
    };
    let Ok(bytes) = axum::body::to_bytes(body, MAX_CLICK_BODY).await else {
        return too_large();
    };
    let (token, key) = match parse_click(&kind, &bytes) {
        Ok(fields) => fields,
        Err(message) => return text(StatusCode::BAD_REQUEST, message),
    };
    if !token.is_some_and(|t| same_secret(t.as_bytes(), live.token.as_bytes())) {
        return text(
            StatusCode::FORBIDDEN,
            "Missing or stale anti-forgery token: reload the page, then click again.",
        );
    }
    let app = shared.clone();
    let session = live.clone();
    let outcome = tokio::task::spawn_blocking(move || {
        let mut seq = lock(&session.render);
        let result = session.session.click(&key);
        // A failed lookup changed nothing; a panicked handler may have, so show it.
        if !matches!(
            result,
            Err(ClickError::UnknownKey(_) | ClickError::Disabled(_))
        ) {
            session.render_locked(&mut seq, &*app.root, &app.title);
        }
        result
    })
    .await;
    match outcome {
        Ok(Ok(())) => match kind {
            Kind::Form => (StatusCode::SEE_OTHER, [(header::LOCATION, "/")]).into_response(),
            Kind::Json => StatusCode::NO_CONTENT.into_response(),
        },
        Ok(Err(err @ ClickError::UnknownKey(_))) => {
            text(StatusCode::NOT_FOUND, format!("{err}: reload the page."))
        }
        Ok(Err(err @ ClickError::Disabled(_))) => text(StatusCode::CONFLICT, err.to_string()),
        Ok(Err(err)) => text(StatusCode::INTERNAL_SERVER_ERROR, err.to_string()),
        Err(_) => text(
            StatusCode::INTERNAL_SERVER_ERROR,
            "running the click failed",
        ),
    }
}

/// `(token, key)` from a click body; the token may be missing (a `403` later), the key not.
fn parse_click(kind: &Kind, bytes: &Bytes) -> Result<(Option<String>, String), String> {
    let (token, key) = match kind {
        Kind::Form => {
            if std::str::from_utf8(bytes).is_err() {
                return Err("The click form is not valid UTF-8.".to_owned());
            }
            let (mut token, mut key) = (None, None);
            for (name, value) in form_urlencoded::parse(bytes) {
                let slot = match &*name {
                    "token" => &mut token,
                    "key" => &mut key,
                    _ => continue,
                };
                if slot.replace(value.into_owned()).is_some() {
                    return Err(format!("The click form has field `{name}` twice."));
                }
            }
            (token, key)
        }
        Kind::Json => {
            let click: ClickJson = serde_json::from_slice(bytes).map_err(|e| {
                format!("The click is not JSON of the form {{\"token\": .., \"key\": ..}}: {e}")
            })?;
            (click.token, click.key)
        }
    };
    let key = key.ok_or_else(|| "The click names no button: field `key` is missing.".to_owned())?;
    Ok((token, key))
}

pub(super) async fn not_found(uri: Uri) -> Response {
    text(
        StatusCode::NOT_FOUND,
        format!("No page at {}: the app lives at /.", uri.path()),
    )
}
