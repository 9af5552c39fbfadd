//! The task inspector page over loopback HTTP: `/_streamtree/tasks` is off by default,
//! and, with `Server::inspector(true)`, lists the cookie session's tasks, updated by the
//! same pushes, with buttons that post to the same click route.

use streamtree::prelude::*;
use streamtree::{Running, Runtime, serve};

#[path = "serve_client.rs"]
mod serve_client;
use serve_client::{Events, GUARD, get, post_form, request};

/// An app with one task that runs until it is cancelled (or the guard passes).
fn app() -> Element {
    let report = submit_fallible_with("report", |ctx: &TaskContext| {
        ctx.set_progress((0.25, "reading"));
        ctx.wait_cancelled(GUARD);
        ctx.check_cancelled()?;
        Ok::<_, Cancelled>(1)
    });
    Page([Text(format!("report: {}", report.status()))]).title("App")
}

fn start(inspector: bool) -> Running {
    serve(app)
        .bind(([127, 0, 0, 1], 0))
        .runtime(Runtime::builder().max_workers(2).build())
        .inspector(inspector)
        .spawn()
        .expect("the server starts on loopback")
}

fn tasks_page(server: &Running, cookie: &str) -> serve_client::Reply {
    request(
        server.addr(),
        "GET",
        "/_streamtree/tasks",
        &[("Cookie", cookie)],
        b"",
    )
}

#[test]
fn the_inspector_is_off_by_default() {
    let server = start(false);
    let first = get(server.addr(), None);
    assert_eq!(first.status, 200);
    let reply = tasks_page(&server, &first.cookie());
    assert_eq!(reply.status, 404, "{}", reply.body);
    let reply = request(server.addr(), "GET", "/_streamtree/tasks", &[], b"");
    assert_eq!(reply.status, 404, "{}", reply.body);
}

#[test]
fn the_inspector_lists_the_sessions_task_and_cancels_it() {
    let server = start(true);
    let first = get(server.addr(), None);
    assert_eq!(first.status, 200);
    assert!(first.body.contains("report:"), "{}", first.body);
    assert!(
        !first.body.contains("st-inspector"),
        "the app's page does not show the inspector"
    );
    let cookie = first.cookie();

    let page = tasks_page(&server, &cookie);
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("<title>Tasks</title>"), "{}", page.body);
    assert!(page.body.contains("<td>report</td>"), "{}", page.body);
    assert!(
        page.body.contains("/events?page=tasks"),
        "the page listens to the inspector's pushes"
    );
    assert!(
        page.body.contains("action=\"/click\""),
        "the same click route"
    );
    assert!(
        !page.body.contains("report: "),
        "the inspector's page does not show the app"
    );
    assert_eq!(page.token(), first.token(), "one session, one token");

    let mut tasks = Events::try_open(server.addr(), "/events?page=tasks", &cookie)
        .unwrap_or_else(|head| panic!("{head}"));
    let mut app_events = Events::open(server.addr(), &cookie);
    // The task starts on a worker: the inspector's pushes show it running.
    tasks.until("25% reading");

    let reply = post_form(
        server.addr(),
        &cookie,
        &format!("token={}&key=st-cancel-report", page.token()),
    );
    assert_eq!(reply.status, 303, "{}", reply.body);
    let event = tasks.until("<td>cancelled</td>");
    assert_eq!(event["title"], "Tasks");
    assert!(
        event["html"]
            .as_str()
            .unwrap()
            .contains("st-dismiss-report"),
        "a finished task offers Dismiss: {event}"
    );
    // The same push updated the app's page.
    app_events.until("report: cancelled");

    let page = tasks_page(&server, &cookie);
    assert!(page.body.contains("<td>cancelled</td>"), "{}", page.body);
    server.shutdown().expect("the server stops");
}
