//! `POST /click`: the checks a click passes (cookie, size, type, token), then the
//! button's handler, a rerun and a push, in the session's lane.

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
    let outcome = live
        .run(None, move |live, seq| {
            let result = live.session.click(&key);
            // A failed lookup changed nothing; a panicked handler may have, so show it.
            if !matches!(
                result,
                Err(ClickError::UnknownKey(_) | ClickError::Disabled(_))
            ) {
                live.render_locked(seq, &*app.cfg.root, &app.cfg.title);
            }
            result
        })
        .await;
    match outcome {
        Ok(Ok(())) => match kind {
            Kind::Form => see_other(&format!("{}/", shared.cfg.base_path)),
            Kind::Json => StatusCode::NO_CONTENT.into_response(),
        },
        Ok(Err(err @ ClickError::UnknownKey(_))) => {
            text(StatusCode::NOT_FOUND, format!("{err}: reload the page."))
        }
        Ok(Err(err @ ClickError::Disabled(_))) => text(StatusCode::CONFLICT, err.to_string()),
        Ok(Err(ClickError::Panicked { key, message })) => failure(
            &shared,
            &live,
            &format!("The click handler of button `{key}`"),
            &message,
        ),
        Err(RunError::Closed) => text(
            StatusCode::FORBIDDEN,
            "This session has ended: reload the page, then click again.",
        ),
        Err(RunError::Panicked(message)) => failure(&shared, &live, "The click", &message),
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

/// Compares without an early exit, so the time taken does not tell how much matched.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
