//! Keyed partial updates over HTTP: on a page holding a 100 × 100 table, each progress
//! tick of a task is pushed as a small patch (the progress bar, not the table), and the
//! page the patches give equals a fresh `GET /` of the same state. A resume gets a patch
//! when the server still has the page the client has, else the whole page.

use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};

use streamtree::prelude::*;
use streamtree::serve;

#[path = "serve_client.rs"]
mod serve_client;
use serve_client::{Events, GUARD, get};

/// Steps of the task; each waits for the test to let it through.
const STEPS: u32 = 5;

/// The most a progress tick may cost on the wire (the event's data).
const TICK_BUDGET: usize = 2048;

/// A page with a task that reports progress one step at a time (each step waits on
/// `steps`) and a 100 × 100 table beside it.
fn app(steps: Receiver<()>) -> impl Fn() -> Element + Send + Sync {
    let steps = Arc::new(Mutex::new(steps));
    move || {
        let steps = steps.clone();
        let task = submit_with("ticks", move |ctx: &TaskContext| {
            for i in 0..STEPS {
                ctx.set_progress((f64::from(i) / f64::from(STEPS), format!("step {i}")));
                steps
                    .lock()
                    .unwrap()
                    .recv_timeout(GUARD)
                    .expect("the test lets each step through");
            }
        });
        let status: Element = match_task(&task)
            .loading_with(|p| match p {
                Some(p) => ProgressBar(p),
                None => Text("Queued…"),
            })
            .ready(|()| Text("All steps done."))
            .into();
        let rows = (0..100).map(|r| (0..100).map(move |c| format!("r{r}c{c}")));
        Page([Card([Markdown("### Ticks"), status]), Table(rows)]).title("Ticks")
    }
}

/// The contents of the page's `#st-root`, which is what pushes carry.
fn root_of(page: &str) -> &str {
    let open = page
        .find("<div id=\"st-root\"")
        .expect("the page has a root");
    let start = open + page[open..].find('>').unwrap() + 1;
    let end = page
        .rfind("</div></form>")
        .expect("the root ends before the form");
    &page[start..end]
}

/// Reads events until one's page shows `text`, checking on the way that every push is a
/// patch within the budget.
fn until_patched(events: &mut Events, text: &str) -> serde_json::Value {
    loop {
        let (_, raw) = events.next_raw_with_size();
        let (event, size) = raw;
        assert!(
            event.get("patch").is_some(),
            "a tick is a patch, not the whole page: {size} bytes"
        );
        assert!(
            size <= TICK_BUDGET,
            "a tick took {size} bytes: {:.300}",
            event["patch"]
        );
        if event["html"].as_str().unwrap().contains(text) {
            return event;
        }
    }
}

#[test]
fn ticks_are_small_patches_that_give_the_page_get_gives() {
    let (step, steps): (Sender<()>, _) = channel();
    let server = serve(app(steps)).bind(([127, 0, 0, 1], 0)).spawn().unwrap();
    let first = get(server.addr(), None);
    let cookie = first.cookie();
    let mut events = Events::open(server.addr(), &cookie);
    let whole = events.next();
    assert!(
        whole.get("patch").is_none(),
        "a new stream starts with the whole page"
    );
    assert!(
        whole["html"].as_str().unwrap().len() > 100 * 100 * 10,
        "the table is on the page"
    );
    if !whole["html"].as_str().unwrap().contains("step 0") {
        events.until("step 0");
    }
    for i in 1..STEPS {
        step.send(()).unwrap();
        let event = until_patched(&mut events, &format!("step {i}"));
        let page = get(server.addr(), Some(&cookie));
        assert!(
            event["html"].as_str().unwrap() == root_of(&page.body),
            "after tick {i}, the patched page is what GET / renders"
        );
    }
    step.send(()).unwrap();
    let event = until_patched(&mut events, "All steps done.");
    let page = get(server.addr(), Some(&cookie));
    assert!(
        event["html"].as_str().unwrap() == root_of(&page.body),
        "the final page is GET /'s"
    );
}

#[test]
fn a_resume_gets_a_patch_only_from_the_page_it_has() {
    let (step, steps) = channel();
    let server = serve(app(steps)).bind(([127, 0, 0, 1], 0)).spawn().unwrap();
    let cookie = get(server.addr(), None).cookie();
    let mut events = Events::open(server.addr(), &cookie);
    let (first_id, first) = loop {
        let (id, event) = events.next_with_id();
        if event["html"].as_str().unwrap().contains("step 0") {
            break (id.expect("events carry ids"), event);
        }
    };
    drop(events);

    // Nothing was pushed since: the resumed stream's next push is a patch on that page.
    step.send(()).unwrap();
    let mut events = Events::try_open_with(
        server.addr(),
        "/events",
        &cookie,
        &[("Last-Event-ID", &first_id)],
    )
    .unwrap_or_else(|head| panic!("{head}"));
    events.2 = Some((
        first_id.parse().unwrap(),
        first["html"].as_str().unwrap().to_owned(),
    ));
    let event = until_patched(&mut events, "step 1");
    let page = get(server.addr(), Some(&cookie));
    assert!(
        event["html"].as_str().unwrap() == root_of(&page.body),
        "the patched page is GET /'s"
    );
    drop(events);

    // A client naming a page older than the one the server's patches start from gets
    // the whole page, then patches again.
    step.send(()).unwrap();
    let old = (first_id.parse::<u64>().unwrap() - 1).to_string();
    let mut events = Events::try_open_with(
        server.addr(),
        "/events",
        &cookie,
        &[("Last-Event-ID", &old)],
    )
    .unwrap_or_else(|head| panic!("{head}"));
    let (event, _) = events.next_raw_with_size().1;
    assert!(
        event.get("patch").is_none(),
        "a resume from an old page gets the whole page"
    );
    if !event["html"].as_str().unwrap().contains("step 2") {
        until_patched(&mut events, "step 2");
    }
    // Let the task finish rather than fail on a closed channel.
    for _ in 3..STEPS {
        step.send(()).unwrap();
    }
}
