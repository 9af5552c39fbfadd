//! Inputs on the live server over loopback HTTP: a changed input posted as JSON (the
//! script's path) or carried by the page-wide form (the no-JavaScript path, with or
//! without a button click), refused values answered with a 4xx naming key and value and
//! changing nothing, and the token required as for clicks.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use streamtree::prelude::*;
use streamtree::{Running, Runtime, serve};

#[path = "serve_client.rs"]
mod serve_client;
use serve_client::{Events, Reply, get, post_form, request};

fn start(app: impl Fn() -> Element + Send + Sync + 'static) -> Running {
    serve(app)
        .bind(([127, 0, 0, 1], 0))
        .runtime(Runtime::builder().max_workers(4).build())
        .spawn()
        .expect("the server starts on loopback")
}

/// A region select, a days slider, a checkbox, a disabled field and a button whose
/// handler records the inputs it saw.
fn app(seen: Arc<Mutex<Vec<String>>>) -> impl Fn() -> Element + Send + Sync + 'static {
    move || {
        let region = Select("Region", ["EU", "US"]).key("region");
        let days = Slider("Days", 1..=30).key("days").default(7);
        let agree = Checkbox("Agree").key("agree");
        let (r, d, a) = (region.value(), days.value(), agree.value());
        let (rh, dh, ah) = (region.handle(), days.handle(), agree.handle());
        let seen = seen.clone();
        VStack([
            region.into(),
            days.into(),
            agree.into(),
            TextInput("Locked").key("locked").disabled(true).into(),
            Text(format!("showing {r} for {d} days, agreed {a}")),
            Button("Go").key("go").on_click(move || {
                let line = format!("{} {} {}", rh.get(), dh.get(), ah.get());
                seen.lock().unwrap().push(line);
            }),
        ])
    }
}

fn post_json(server: &Running, cookie: &str, json: &str) -> Reply {
    let headers = [("Cookie", cookie), ("Content-Type", "application/json")];
    request(server.addr(), "POST", "/click", &headers, json.as_bytes())
}

#[test]
fn a_changed_input_posted_as_json_reruns_and_pushes() {
    let server = start(app(Arc::default()));
    let page = get(server.addr(), None);
    assert!(
        page.body
            .contains(r#"<select class="st-field" id="st-in-region" name="in.region">"#)
    );
    let (cookie, token) = (page.cookie(), page.token());
    let mut events = Events::open(server.addr(), &cookie);
    events.until("showing EU for 7 days");

    let reply = post_json(
        &server,
        &cookie,
        &format!(r#"{{"token":"{token}","input":"region","value":"US"}}"#),
    );
    assert_eq!(reply.status, 204, "{reply:?}");
    let pushed = events.until("showing US for 7 days");
    assert!(
        pushed["html"]
            .as_str()
            .unwrap()
            .contains(r#"<option value="US" selected>"#)
    );
    assert!(
        get(server.addr(), Some(&cookie))
            .body
            .contains("showing US for 7 days")
    );
}

#[test]
fn the_no_js_form_carries_every_input_with_or_without_a_click() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let server = start(app(seen.clone()));
    let page = get(server.addr(), None);
    // Enter in a field submits with the form's first button: "Apply", not the app's.
    let apply = page.body.find(r#"name="apply""#).expect("an Apply button");
    assert!(apply < page.body.find(r#"name="key""#).unwrap());
    assert!(page.body.contains("<noscript><button"));
    let (cookie, token) = (page.cookie(), page.token());

    // What a browser posts for Apply: every enabled input (the box unticked: only its
    // hidden `false`), no button.
    let reply = post_form(
        server.addr(),
        &cookie,
        &format!("token={token}&apply=1&in.region=US&in.days=12&in.agree=false"),
    );
    assert_eq!(reply.status, 303, "{reply:?}");
    assert_eq!(reply.header("location"), Some("/"));
    let body = get(server.addr(), Some(&cookie)).body;
    assert!(
        body.contains("showing US for 12 days, agreed false"),
        "{body}"
    );

    // A button click carries the inputs too; the handler runs after they are set.
    let reply = post_form(
        server.addr(),
        &cookie,
        &format!("token={token}&in.region=EU&in.days=12&in.agree=false&in.agree=true&key=go"),
    );
    assert_eq!(reply.status, 303, "{reply:?}");
    assert_eq!(*seen.lock().unwrap(), ["EU 12 true"]);
    let body = get(server.addr(), Some(&cookie)).body;
    assert!(
        body.contains("showing EU for 12 days, agreed true"),
        "{body}"
    );
}

#[test]
fn refused_inputs_get_a_4xx_naming_key_and_value_and_change_nothing() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let server = start(app(seen.clone()));
    let addr = server.addr();
    let page = get(addr, None);
    let (cookie, token) = (page.cookie(), page.token());
    let json = |body: &str| post_json(&server, &cookie, body);
    let cases: Vec<(&str, Reply, u16, &str)> = vec![
        (
            "not listed",
            json(&format!(
                r#"{{"token":"{token}","input":"region","value":"Mars"}}"#
            )),
            400,
            "input `region`: `Mars` is not one of the options EU, US",
        ),
        (
            "not a number",
            post_form(addr, &cookie, &format!("token={token}&in.days=soon")),
            400,
            "input `days`: `soon` is not a whole number",
        ),
        (
            "out of range, with a click: neither happens",
            post_form(
                addr,
                &cookie,
                &format!("token={token}&in.region=US&in.days=99&key=go"),
            ),
            400,
            "input `days`: `99` is outside 1..=30",
        ),
        (
            "unknown key",
            json(&format!(
                r#"{{"token":"{token}","input":"nope","value":"1"}}"#
            )),
            404,
            "no input with key `nope` in the last rerun (value `1`)",
        ),
        (
            "disabled",
            post_form(addr, &cookie, &format!("token={token}&in.locked=x")),
            409,
            "input `locked` is disabled",
        ),
        (
            "no value",
            json(&format!(r#"{{"token":"{token}","input":"region"}}"#)),
            400,
            "The change of input `region` has no `value`.",
        ),
        (
            "missing token",
            post_form(addr, &cookie, "in.region=US"),
            403,
            "anti-forgery token",
        ),
        (
            "stale token",
            json(r#"{"token":"00000000000000000000000000000000","input":"region","value":"US"}"#),
            403,
            "anti-forgery token",
        ),
        (
            "nothing named",
            post_form(addr, &cookie, &format!("token={token}&apply=1")),
            400,
            "names no button or input",
        ),
    ];
    for (name, reply, status, message) in cases {
        assert_eq!(reply.status, status, "{name}: {reply:?}");
        assert!(reply.body.contains(message), "{name}: {:?}", reply.body);
    }
    assert!(seen.lock().unwrap().is_empty(), "no refused post clicked");
    let body = get(addr, Some(&cookie)).body;
    assert!(
        body.contains("showing EU for 7 days, agreed false"),
        "{body}"
    );
}

#[test]
fn a_page_without_inputs_has_no_apply_button() {
    let clicks = Arc::new(AtomicU32::new(0));
    let c = clicks.clone();
    let server = start(move || {
        let c = c.clone();
        Button("Add").key("add").on_click(move || {
            c.fetch_add(1, Ordering::SeqCst);
        })
    });
    let page = get(server.addr(), None);
    assert!(!page.body.contains(r#"name="apply""#));
    let reply = post_form(
        server.addr(),
        &page.cookie(),
        &format!("token={}&key=add", page.token()),
    );
    assert_eq!(reply.status, 303);
    assert_eq!(clicks.load(Ordering::SeqCst), 1);
}
