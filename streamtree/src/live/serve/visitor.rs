//! First visits: a browser without a session gets a tiny page that sets a minted cookie
//! and reloads itself (`<meta http-equiv="refresh">`, so it works without JavaScript);
//! only a request that brings that cookie back creates a session and renders the app.
//!
//! Why: creating a session costs a full rerun (the app's tasks start), a render and
//! possibly the eviction of another session. A flood of cookieless `GET /` (1,010 in
//! 0.3 s) used to pay all of that per request and slowed every other visitor's page to a
//! p99 of 271 ms; now each flood request costs one small static reply.
//!
//! Invariants:
//! - the cookie value is `<id:32 hex><tag:16 hex>`, where `tag` is a keyed hash of `id`
//!   under a per-process random key: only ids this server minted create sessions, so a
//!   client must make the round trip (keep the cookie) before it costs a rerun;
//! - a minted id maps to at most one session at a time (a second request with the same
//!   cookie finds it in the table), so replaying one cookie creates nothing new;
//! - the tag is a speed bump against cookieless floods, not authentication: the id
//!   itself (128 random bits) is the session's secret, as before.

use std::hash::{BuildHasher, RandomState};

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::SESSION_COOKIE;
use super::registry::Shared;
use super::routes::random_u128;

/// The query the first-visit page reloads with: a request that carries it but no session
/// cookie at all comes from a browser that refuses cookies (no endless reloads). One with
/// a cookie this server did not mint (a stale one, from before a restart) is minted anew.
const RETRY: &str = "st-visit";

/// The key the tags are computed with, random per process.
pub(super) struct Minter(RandomState);

impl Minter {
    pub(super) fn new() -> Minter {
        Minter(RandomState::new())
    }

    fn tag(&self, id: u128) -> u64 {
        self.0.hash_one(id)
    }

    /// The cookie value for `id`.
    pub(super) fn value(&self, id: u128) -> String {
        format!("{id:032x}{:016x}", self.tag(id))
    }

    /// The id in a well-formed cookie value this server minted.
    fn verify(&self, value: &str) -> Option<u128> {
        if value.len() != 48 || !value.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let id = u128::from_str_radix(&value[..32], 16).ok()?;
        let tag = u64::from_str_radix(&value[32..], 16).ok()?;
        (self.tag(id) == tag).then_some(id)
    }
}

/// The minted session id the request's cookie carries, if any.
pub(super) fn proven(shared: &Shared, headers: &HeaderMap) -> Option<u128> {
    super::routes::cookie_values(headers).find_map(|value| shared.minter.verify(value))
}

/// The `Set-Cookie` value for session `id`.
pub(super) fn set_cookie(shared: &Shared, id: u128, secure: bool) -> String {
    let base = &shared.cfg.base_path;
    let path = if base.is_empty() { "/" } else { base };
    let secure = if secure { "; Secure" } else { "" };
    format!(
        "{SESSION_COOKIE}={}; Path={path}; HttpOnly; SameSite=Strict{secure}",
        shared.minter.value(id)
    )
}

/// The answer to a `GET /` without a minted cookie: a page that sets one and reloads, or,
/// when the reload came back without any cookie, a note that the app needs cookies.
pub(super) fn first_visit(
    shared: &Shared,
    query: Option<&str>,
    headers: &HeaderMap,
    secure: bool,
) -> Response {
    let base = &shared.cfg.base_path;
    let retried = query.is_some_and(|q| q.split('&').any(|pair| pair == RETRY))
        && super::routes::cookie_values(headers).next().is_none();
    let headers = [
        (header::CONTENT_TYPE, "text/html; charset=utf-8"),
        (header::CACHE_CONTROL, "no-store"),
    ];
    if retried {
        let body = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
                    <title>Cookies needed</title></head><body><p>This app keeps your \
                    session in a cookie: allow cookies for this site, then reload.</p>\
                    </body></html>\n";
        return (StatusCode::OK, headers, body).into_response();
    }
    // Same-origin reload: a `SameSite=Strict` cookie is sent with it even when the first
    // request came from another site's link.
    let body = format!(
        "<!DOCTYPE html>\n<html lang=\"en\" data-st-first-visit><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"refresh\" content=\"0; url={base}/?{RETRY}\">\
         <title>Loading…</title></head><body><p><a href=\"{base}/?{RETRY}\">Open the app</a>\
         </p></body></html>\n"
    );
    let mut response = (StatusCode::OK, headers, body).into_response();
    let cookie = set_cookie(shared, random_u128(), secure);
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}
