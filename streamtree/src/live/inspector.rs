//! The task inspector: a component listing the current session's tasks (and the shared
//! tasks it reads) with their life-cycle data and Cancel / Refresh / Dismiss buttons. It
//! is a plain component, so an app can place it anywhere; the live server serves it at
//! `/_streamtree/tasks` and the terminal runner can toggle it.
//!
//! It only reads [`summarize_async_tasks`] and acts by key through the public task API
//! ([`cancel_task`], [`refresh_task`], [`dismiss_task`]): what any app could write.

use crate::asyncio::{
    TaskStatus, TaskSummary, cancel_task, dismiss_task, refresh_task, summarize_async_tasks,
};
use crate::element::{self, Element};
use crate::elements::{Button, Card, Fragment, HStack, Markdown, Table, Text};

/// The columns of the inspector's table, in order.
const HEADER: [&str; 10] = [
    "key", "input", "status", "attempt", "progress", "elapsed", "ETA", "queue", "error", "shared",
];

/// The task inspector: a card with a table of the session's tasks (key, input
/// fingerprint, status, attempt, progress, elapsed, ETA, queue position, error, shared)
/// and, per task, Cancel (Pending or Running), Refresh (finished) and Dismiss (finished)
/// buttons. Button keys are derived from the task's key (escaped) and input, so they are
/// unique on a page. It reads the session it is rendered in; place it in an app, serve it
/// with [`Server::inspector`](crate::Server::inspector), or show it from a runner (a plain
/// function returning an [`Element`]).
///
/// # Example
/// ```
/// use streamtree::live::TaskInspector;
/// use streamtree::prelude::*;
/// let mut app = AppTest::new(|| Page([TaskInspector()]));
/// assert!(app.run().text().contains("No tasks"));
/// ```
#[allow(non_snake_case)]
pub fn TaskInspector() -> Element {
    element::component("TaskInspector", Some("st-inspector".into()), inspector_body)
}

/// A runner's root with the task inspector toggled: `app` followed by the
/// [`TaskInspector`] when `shown`. For the terminal runner's `t` key: rerun with
/// `with_task_inspector(root(), shown)` on *every* rerun, shown or not, so the app keeps
/// its render paths (and so its state) when the panel is toggled, and the inspector's
/// buttons belong to the same rerun as the app's (a press reaches them through
/// [`Session::click`](crate::Session::click) like any button). Hidden, it renders as
/// `app` alone.
///
/// # Example
/// ```
/// use streamtree::live::inspector::with_task_inspector;
/// use streamtree::prelude::*;
/// let session = Session::new();
/// let hidden = session.rerun(|| with_task_inspector(Text("app"), false));
/// assert_eq!(render_text(&hidden), "app\n");
/// let shown = session.rerun(|| with_task_inspector(Text("app"), true));
/// assert!(render_text(&shown).contains("No tasks in this session."));
/// ```
pub fn with_task_inspector(app: Element, shown: bool) -> Element {
    Fragment([
        app,
        if shown {
            TaskInspector()
        } else {
            Element::empty()
        },
    ])
}

/// The component's body: runs on each rerun, in the session.
fn inspector_body() -> Element {
    let rows = summarize_async_tasks();
    let mut children = vec![Markdown(format!("### Tasks ({})", rows.len()))];
    if rows.is_empty() {
        children.push(Text("No tasks in this session."));
        return Card(children);
    }
    children.push(Table(rows.iter().map(cells)).header(HEADER));
    children.extend(rows.iter().map(actions));
    Card(children)
}

/// One task's table row, in [`HEADER`]'s order.
fn cells(row: &TaskSummary) -> [String; 10] {
    let mut status = row.status.to_string();
    if row.cancel_requested {
        status.push_str(" (cancel requested)");
    } else if row.refreshing {
        status.push_str(" (refreshing)");
    } else if row.stale {
        status.push_str(" (stale)");
    }
    [
        row.key.clone(),
        row.input.clone().unwrap_or_default(),
        status,
        row.attempt.to_string(),
        row.progress.clone(),
        row.elapsed_ms.map(ms).unwrap_or_default(),
        row.eta_ms.map(ms).unwrap_or_default(),
        row.queue_position
            .map(|p| format!("#{}", p + 1))
            .unwrap_or_default(),
        row.error_preview.clone().unwrap_or_default(),
        if row.shared { "yes" } else { "" }.to_owned(),
    ]
}

/// A duration in whole milliseconds.
fn ms(ms: f64) -> String {
    format!("{ms:.0} ms")
}

/// The buttons for one task: Cancel while unfinished, Refresh and Dismiss once finished.
fn actions(row: &TaskSummary) -> Element {
    let id = button_id(row);
    let key = row.key.clone();
    let mut buttons = vec![Text(format!("{}:", row.key))];
    if matches!(row.status, TaskStatus::Pending | TaskStatus::Running) {
        buttons.push(
            Button(if row.cancel_requested {
                "Cancelling…"
            } else {
                "Cancel"
            })
            .key(format!("st-cancel-{id}"))
            .disabled(row.cancel_requested)
            .on_click(move || {
                cancel_task(&key);
            }),
        );
    } else {
        let refresh = key.clone();
        buttons.push(
            Button("Refresh")
                .key(format!("st-refresh-{id}"))
                .disabled(row.refreshing || row.stale)
                .on_click(move || {
                    refresh_task(&refresh);
                }),
        );
        buttons.push(
            Button("Dismiss")
                .key(format!("st-dismiss-{id}"))
                .on_click(move || {
                    dismiss_task(&key);
                }),
        );
    }
    HStack(buttons)
}

/// A key-safe id for `row`: the task key with every byte outside `[A-Za-z0-9_]`
/// percent-escaped (so distinct keys give distinct ids), then the input fingerprint and
/// whether the task is shared (one key may hold several tasks).
fn button_id(row: &TaskSummary) -> String {
    let mut id = String::with_capacity(row.key.len() + 24);
    for b in row.key.bytes() {
        if b.is_ascii_alphanumeric() || b == b'_' {
            id.push(char::from(b));
        } else {
            id.push_str(&format!("%{b:02X}"));
        }
    }
    if let Some(input) = &row.input {
        id.push('-');
        id.push_str(input);
    }
    if row.shared {
        id.push_str("-shared");
    }
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(key: &str) -> TaskSummary {
        let session = crate::Session::new();
        session.enter(|| crate::asyncio::submit(key, || ()));
        session.wait_idle(std::time::Duration::from_secs(10));
        session.enter(summarize_async_tasks).remove(0)
    }

    #[test]
    fn button_ids_escape_and_stay_distinct() {
        assert_eq!(button_id(&row("a b")), "a%20b");
        assert_ne!(button_id(&row("a-b")), button_id(&row("a%2Db")));
        assert_eq!(button_id(&row("a-b")), "a%2Db");
    }
}
