//! `POST /click`: the checks a click passes (cookie, size, type, token), then the
//! inputs it carries, the button's handler, a rerun and a push, in the session's lane.
//!
//! One route for both changes, with one token: a form post carries the page-wide form's
//! inputs as `in.<key>=<value>` fields (the last value of a repeated name wins: a
//! checkbox posts a hidden `false` before its `true`) and, when a button was clicked,
//! `key=<address>`; the script posts a changed input as JSON
//! `{"token": .., "input": <key>, "value": ..}` and a click as `{"token": .., "key": ..}`.
//! Inputs are applied all or nothing (`Session::set_inputs`) before the handler runs.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::MAX_CLICK_BODY;
use super::live::RunError;
use super::registry::Shared;
use super::routes::{failure, see_other, session_id, text};
use crate::session::ClickError;
use crate::session::input::{InputError, InputErrorKind};

/// A click or a changed input as the script sends it.
#[derive(Deserialize)]
struct ClickJson {
    token: Option<String>,
    key: Option<String>,
    input: Option<String>,
    value: Option<String>,
}

/// What a post asks for: inputs to set, then a button to click.
struct Post {
    token: Option<String>,
    key: Option<String>,
    inputs: Vec<(String, String)>,
}

/// Why the lane did not click: a refused input or a refused click.
enum Refused {
    Input(InputError),
    Click(ClickError),
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
    let Some(live) = shared.lookup(id) else {
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
    let Post { token, key, inputs } = match parse_click(&kind, &bytes) {
        Ok(post) => post,
        Err(message) => return text(StatusCode::BAD_REQUEST, message),
    };
    if !token.is_some_and(|t| same_secret(t.as_bytes(), live.token.as_bytes())) {
        return text(
            StatusCode::FORBIDDEN,
            "Missing or stale anti-forgery token: reload the page, then click again.",
        );
    }
    let app = shared.clone();
    let outcome = live
        .run(None, move |live, seq| {
            let pairs = inputs.iter().map(|(k, v)| (k.as_str(), v.as_str()));
            // A refused input changed nothing: no handler, no rerun.
            live.session.set_inputs(pairs).map_err(Refused::Input)?;
            let result = match &key {
                Some(key) => live.session.click(key),
                None => Ok(()),
            };
            // A failed lookup changed nothing (unless inputs did); a panicked handler may
            // have, so show it.
            if inputs.is_empty()
                && matches!(
                    result,
                    Err(ClickError::UnknownKey(_) | ClickError::Disabled(_))
                )
            {
                return result.map_err(Refused::Click);
            }
            live.render_locked(seq, &*app.cfg.root, &app.cfg.title);
            result.map_err(Refused::Click)
        })
        .await;
    match outcome {
        Ok(Err(Refused::Input(err))) => {
            let status = match err.kind {
                InputErrorKind::UnknownKey => StatusCode::NOT_FOUND,
                InputErrorKind::Disabled => StatusCode::CONFLICT,
                _ => StatusCode::BAD_REQUEST,
            };
            text(status, format!("{err}."))
        }
        Ok(Err(Refused::Click(err))) => click_refused(&shared, &live, err),
        Ok(Ok(())) => match kind {
            Kind::Form => see_other(&format!("{}/", shared.cfg.base_path)),
            Kind::Json => StatusCode::NO_CONTENT.into_response(),
        },
        Err(RunError::Closed) => text(
            StatusCode::FORBIDDEN,
            "This session has ended: reload the page, then click again.",
        ),
        Err(RunError::Panicked(message)) => failure(&shared, &live, "The click", &message),
    }
}

fn click_refused(shared: &Shared, live: &super::live::Live, err: ClickError) -> Response {
    match err {
        err @ ClickError::UnknownKey(_) => {
            text(StatusCode::NOT_FOUND, format!("{err}: reload the page."))
        }
        err @ ClickError::Disabled(_) => text(StatusCode::CONFLICT, err.to_string()),
        ClickError::Panicked { key, message } => failure(
            shared,
            live,
            &format!("The click handler of button `{key}`"),
            &message,
        ),
    }
}

/// The post in a click body; the token may be missing (a `403` later), but a post names a
/// button, an input, or both.
fn parse_click(kind: &Kind, bytes: &Bytes) -> Result<Post, String> {
    let post = match kind {
        Kind::Form => {
            if std::str::from_utf8(bytes).is_err() {
                return Err("The click form is not valid UTF-8.".to_owned());
            }
            let (mut token, mut key) = (None, None);
            let mut inputs: Vec<(String, String)> = Vec::new();
            for (name, value) in form_urlencoded::parse(bytes) {
                if let Some(input) = name.strip_prefix("in.") {
                    // The last value of a name wins (a checkbox's `true` after its `false`).
                    match inputs.iter_mut().find(|(k, _)| k == input) {
                        Some((_, v)) => *v = value.into_owned(),
                        None => inputs.push((input.to_owned(), value.into_owned())),
                    }
                    continue;
                }
                let slot = match &*name {
                    "token" => &mut token,
                    "key" => &mut key,
                    _ => continue,
                };
                if slot.replace(value.into_owned()).is_some() {
                    return Err(format!("The click form has field `{name}` twice."));
                }
            }
            Post { token, key, inputs }
        }
        Kind::Json => {
            let click: ClickJson = serde_json::from_slice(bytes).map_err(|e| {
                format!(
                    "The click is not JSON of the form {{\"token\": .., \"key\": ..}} or \
                     {{\"token\": .., \"input\": .., \"value\": ..}}: {e}"
                )
            })?;
            let inputs = match (click.input, click.value) {
                (Some(input), Some(value)) => vec![(input, value)],
                (None, None) => Vec::new(),
                (Some(input), None) => {
                    return Err(format!("The change of input `{input}` has no `value`."));
                }
                (None, Some(_)) => return Err("A `value` needs an `input` key.".to_owned()),
            };
            Post {
                token: click.token,
                key: click.key,
                inputs,
            }
        }
    };
    if post.key.is_none() && post.inputs.is_empty() {
        return Err("The click names no button or input: field `key` is missing.".to_owned());
    }
    Ok(post)
}

/// Compares without an early exit, so the time taken does not tell how much matched.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
