//! One browser's session ([`Live`]): its push state, the one-at-a-time lane its reruns,
//! clicks and renders run in, and closing it.
//!
//! Invariants:
//! - reruns, clicks and renders of one session run one at a time (`work`, an async mutex:
//!   waiting requests hold no thread) on a blocking thread, never on the async reactor;
//!   so one session occupies at most one blocking thread, however many requests it sends;
//! - the seq they stamp grows with the content, so a client applies only newer pushes;
//! - once `work.closed` is set no more user code of this session runs here; `closed`
//!   (the watch) is set first, so streams and the pusher end without waiting for `work`.

use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::{Notify, Semaphore, watch};

use super::panics::{PanicLog, in_lane, panic_text, report};
use super::patch::{self, Outline};
use super::server::Config;
use crate::element::Element;
use crate::elements::{Fragment, Page};
use crate::live::TaskInspector;
use crate::render::html;
use crate::session::{OnChange, Session};

/// One browser's session and its push state.
pub(super) struct Live {
    /// The cookie id (a secret: never logged; logs use `session.id()`).
    pub(super) id: u128,
    pub(super) session: Session,
    /// The anti-forgery token every `POST /click` must echo; 32 hex digits.
    pub(super) token: String,
    /// Whether each rerun also resolves the task inspector's page
    /// ([`Server::inspector`](super::Server::inspector)), in the same rerun as the app.
    inspector: bool,
    /// Whether pushes may be patches ([`Server::partial_updates`](super::Server::partial_updates)).
    partial_updates: bool,
    /// The lane: one rerun, click or render of this session at a time.
    work: Arc<tokio::sync::Mutex<Work>>,
    /// The latest render, for the event streams. Written only inside `work`.
    pub(super) page: watch::Sender<Arc<Snapshot>>,
    /// Woken by the session's task changes (and by a new event stream).
    pub(super) changed: Arc<Notify>,
    /// Keeps the `changed` hook registered for the session's life.
    _on_change: OnChange,
    /// Written by lookups and stream opens (under the sessions lock) and by closing
    /// streams; read by the sweeper and eviction (under the sessions lock).
    pub(super) activity: Mutex<Activity>,
    /// Becomes `true` once, when the session is closed.
    pub(super) closed: watch::Sender<bool>,
    /// Distinct panics of this session already logged.
    pub(super) panics: Mutex<PanicLog>,
    /// Whether users see panics' details in the page (`Server::show_error_details`);
    /// off, each contained panic shows only a reference to the log.
    show_error_details: bool,
}

/// What the `work` lane guards.
struct Work {
    /// The last seq stamped on a render.
    seq: u64,
    /// Set once by `close`; nothing runs in the lane after.
    closed: bool,
}

pub(super) struct Activity {
    pub(super) last_seen: Instant,
    /// Open event streams; changed only with a stream's guard.
    pub(super) streams: usize,
}

/// One rendered rerun.
pub(super) struct Snapshot {
    pub(super) seq: u64,
    pub(super) title: String,
    pub(super) busy: bool,
    /// Whether the rerun rendered inputs (the page then gets a no-JavaScript "Apply").
    pub(super) inputs: bool,
    /// The app's page.
    pub(super) app: Pushed,
    /// The task inspector's page from the same rerun; empty unless it is on.
    pub(super) tasks: Pushed,
}

/// One page of a render, as the event streams push it.
pub(super) struct Pushed {
    pub(super) html: String,
    /// The whole page's push event data, `{"seq":..,"title":..,"busy":..,"html":..}`,
    /// made on first use: with partial updates most renders never need it.
    json: OnceLock<String>,
    /// What the event data says besides the page.
    seq: u64,
    title: String,
    busy: bool,
    /// The page as a patch against the snapshot published before this one: that one's
    /// seq and the event data `{"seq":..,"base":..,"title":..,"busy":..,"patch":[[path,
    /// html],..]}`. `None` for the first render, with partial updates off, when the
    /// page's root structure changed, or when the patch is not smaller than the page.
    pub(super) patch: Option<(u64, String)>,
    /// `html`'s element tree, the base of the next render's patch; `None` with partial
    /// updates off or when it does not parse (then the next push is whole).
    outline: Option<Outline>,
}

impl Pushed {
    fn empty() -> Pushed {
        Pushed {
            html: String::new(),
            json: OnceLock::new(),
            seq: 0,
            title: String::new(),
            busy: false,
            patch: None,
            outline: None,
        }
    }

    /// The page `html` as pushed, with its outline and a patch as `against` says.
    fn new(head: Head<'_>, html: String, against: Against<'_>) -> Pushed {
        let (outline, prev) = match against {
            Against::Nothing => (None, None),
            Against::Outline => (Outline::parse(&html), None),
            Against::Prev(base, prev) => {
                let outline = match &prev.outline {
                    Some(outline) => outline.reparse(&prev.html, &html),
                    None => Outline::parse(&html),
                };
                (outline, Some((base, prev)))
            }
        };
        let patch = prev.and_then(|(base, prev)| {
            debug_assert!(
                base < head.seq,
                "a patch's base is an earlier published render"
            );
            let ops = patch::diff(prev.outline.as_ref()?, &prev.html, outline.as_ref()?, &html)?;
            let ops: Vec<(&[u32], &str)> = ops
                .iter()
                .map(|op| (&op.path[..], &html[op.html.clone()]))
                .collect();
            let data = serde_json::to_string(&PatchJson {
                seq: head.seq,
                base,
                title: head.title,
                busy: head.busy,
                patch: &ops,
            })
            .expect("a struct of strings, bools and numbers serializes");
            // The whole page's data is at least the page (escaping only adds).
            (data.len() < html.len()).then_some((base, data))
        });
        Pushed {
            html,
            json: OnceLock::new(),
            seq: head.seq,
            title: head.title.to_owned(),
            busy: head.busy,
            patch,
            outline,
        }
    }

    /// The whole page's push event data.
    pub(super) fn json(&self) -> &str {
        self.json
            .get_or_init(|| push_json(self.seq, &self.title, self.busy, &self.html))
    }
}

/// What a render's page is diffed against.
enum Against<'a> {
    /// Nothing: partial updates are off, or the render will not be published.
    Nothing,
    /// Nothing yet (no page was published), but its outline is kept for the next one.
    Outline,
    /// The published page of seq `.0`.
    Prev(u64, &'a Pushed),
}

/// What every push event of one render carries besides the page.
#[derive(Clone, Copy)]
struct Head<'a> {
    seq: u64,
    title: &'a str,
    busy: bool,
}

#[derive(Serialize)]
struct PushJson<'a> {
    seq: u64,
    title: &'a str,
    busy: bool,
    html: &'a str,
}

#[derive(Serialize)]
struct PatchJson<'a> {
    seq: u64,
    base: u64,
    title: &'a str,
    busy: bool,
    patch: &'a [(&'a [u32], &'a str)],
}

/// One push event's data.
fn push_json(seq: u64, title: &str, busy: bool, html: &str) -> String {
    serde_json::to_string(&PushJson {
        seq,
        title,
        busy,
        html,
    })
    .expect("a struct of strings, bools and numbers serializes")
}

/// Why [`Live::run`] did not return the closure's result.
pub(super) enum RunError {
    /// The session was closed before the work could start.
    Closed,
    /// The work panicked outside the session's own containment; the panic's text.
    Panicked(String),
}

pub(super) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Live {
    pub(super) fn new(id: u128, session: Session, token: String, cfg: &Config) -> Live {
        let changed = Arc::new(Notify::new());
        let hook = changed.clone();
        let on_change = session.on_change(move || hook.notify_one());
        let (page, _) = watch::channel(Arc::new(Snapshot {
            seq: 0,
            title: String::new(),
            busy: false,
            inputs: false,
            app: Pushed::empty(),
            tasks: Pushed::empty(),
        }));
        Live {
            id,
            session,
            token,
            inspector: cfg.inspector,
            partial_updates: cfg.partial_updates,
            work: Arc::new(tokio::sync::Mutex::new(Work {
                seq: 0,
                closed: false,
            })),
            page,
            changed,
            _on_change: on_change,
            activity: Mutex::new(Activity {
                last_seen: Instant::now(),
                streams: 0,
            }),
            closed: watch::channel(false).0,
            panics: Mutex::new(PanicLog::default()),
            show_error_details: cfg.show_error_details,
        }
    }

    /// Runs `f` on a blocking thread once this session's earlier work is done (and, with
    /// `permits`, once one of them is free: taken after the lane, so a session waits in
    /// the shared queue at most once).
    pub(super) async fn run<R: Send + 'static>(
        self: &Arc<Self>,
        permits: Option<&Arc<Semaphore>>,
        f: impl FnOnce(&Live, &mut u64) -> R + Send + 'static,
    ) -> Result<R, RunError> {
        let mut work = self.work.clone().lock_owned().await;
        if work.closed {
            return Err(RunError::Closed);
        }
        let permit = match permits {
            Some(p) => Some(
                p.clone()
                    .acquire_owned()
                    .await
                    .map_err(|_| RunError::Closed)?,
            ),
            None => None,
        };
        let live = self.clone();
        let outcome = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            in_lane(&live, || f(&live, &mut work.seq))
        })
        .await;
        outcome.map_err(|e| match e.try_into_panic() {
            Ok(payload) => RunError::Panicked(panic_text(&*payload)),
            Err(_) => RunError::Closed,
        })
    }

    /// Like [`close`](Self::close), but after `limit` without the lane (a handler that
    /// never returns) closes the session beside it: `Session::close` is safe to run
    /// alongside a handler, and a server that stops must not wait for ever.
    pub(super) async fn close_within(self: Arc<Self>, limit: Duration) {
        if tokio::time::timeout(limit, self.clone().close())
            .await
            .is_err()
        {
            tracing::warn!(
                session = self.session.id(),
                "a handler or rerun did not finish: closing its session beside it"
            );
            let live = self.clone();
            drop(tokio::task::spawn_blocking(move || live.session.close()));
        }
    }

    /// Closes the session ([`Session::close`]: cancels its tasks, drops its handlers and
    /// state, which may own the session itself) once no work of it runs. Idempotent.
    pub(super) async fn close(self: Arc<Self>) {
        self.closed.send_replace(true);
        let mut work = self.work.clone().lock_owned().await;
        if std::mem::replace(&mut work.closed, true) {
            return;
        }
        let live = self.clone();
        // User `Drop` code may block: a blocking thread, like every other user code here.
        let _ = tokio::task::spawn_blocking(move || {
            in_lane(&live.clone(), || live.session.close());
            drop(work);
        })
        .await;
    }

    /// Reruns, renders and publishes to the event streams when anything visible changed;
    /// returns the render and whether it was published. The caller holds the `render`
    /// lock (`seq`).
    pub(super) fn render_locked(
        &self,
        seq: &mut u64,
        root: &(dyn Fn() -> Element + Send + Sync),
        fallback_title: &str,
    ) -> (Arc<Snapshot>, bool) {
        // With the inspector on, one rerun resolves both pages, so the inspector's
        // buttons are the session's like the app's, and one push updates both.
        let mut tree = if self.inspector {
            self.session
                .rerun(|| Fragment([root(), Page([TaskInspector()]).title("Tasks")]))
        } else {
            self.session.rerun(root)
        };
        if !self.show_error_details {
            // The panic itself was logged by the hook as it happened (same reference).
            tree.rewrite_panics(&mut |text| {
                let reference = report(self, "render", text);
                format!("Something went wrong (reference {reference})")
            });
        }
        let (page, tasks) = match tree.children() {
            [page, tasks] if self.inspector => (page, Some(tasks)),
            // A panic in the app replaced the whole tree: both pages show it.
            _ => (&*tree, self.inspector.then_some(&*tree)),
        };
        let html = html::fragment(page);
        let title = html::title(page).unwrap_or(fallback_title).to_owned();
        let busy = !self.session.wait_idle(Duration::ZERO);
        let inputs = self.session.input_count() > 0;
        let tasks_html = tasks.map(html::fragment).unwrap_or_default();
        *seq += 1;
        // Written only here, in the lane: `prev` stays the published snapshot until the
        // `send_replace` below.
        let prev = self.page.borrow().clone();
        let changed = prev.app.html != html
            || prev.tasks.html != tasks_html
            || prev.busy != busy
            || prev.title != title;
        let head = Head {
            seq: *seq,
            title: &title,
            busy,
        };
        // Patches are made only against a published snapshot, and only for one that will
        // be published: an unchanged render is never pushed.
        let base = |pushed| match (self.partial_updates && changed, prev.seq) {
            (false, _) => Against::Nothing,
            (true, 0) => Against::Outline,
            (true, seq) => Against::Prev(seq, pushed),
        };
        let app = Pushed::new(head, html, base(&prev.app));
        let tasks = if self.inspector {
            Pushed::new(
                Head {
                    title: "Tasks",
                    ..head
                },
                tasks_html,
                base(&prev.tasks),
            )
        } else {
            Pushed::empty()
        };
        let snapshot = Arc::new(Snapshot {
            seq: *seq,
            title,
            busy,
            inputs,
            app,
            tasks,
        });
        if changed {
            self.page.send_replace(snapshot.clone());
        }
        (snapshot, changed)
    }
}
