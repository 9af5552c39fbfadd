//! How the web side follows its runs: the backend's watcher routes each stored write of a
//! followed key to a [`Follow`], and one delivery thread applies what the follows learn
//! to their tasks (progress, attempt, the end).
//!
//! Invariants:
//! - a follow is listed (`Routes::add`) before its run's state is read or written, so no
//!   write after that read is missed; a follow applies only writes stored after the one
//!   its start wrote or read (revisions), so a write still in flight from before (the
//!   echo of its own create, an ended run it replaced) never shows;
//! - each follow ends its task once: on the first ended state, on a failed start, or (the
//!   backend dropped) with its `StartedRun` dropped;
//! - the watcher and the start tasks only decode and send: task code (an output's
//!   decoder, a `Drop` of the value a task lets go of, session notifications) runs on the
//!   delivery thread, never on the backend's network runtime, and never under `Routes`'
//!   lock.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use crossbeam_channel::{Receiver, Sender};

use super::{RunState, Status};
use crate::jobs::StartedRun;
use crate::runtime::Progress;

/// A follow's id, unique per backend.
pub(super) type Id = u64;

/// A stored write's revision (its stream sequence): [`SYNTHETIC`] for a state made here
/// (a publish that failed where the server could not record it).
pub(super) type Rev = u64;

/// The revision of a state no write carries: always newer.
pub(super) const SYNTHETIC: Rev = u64::MAX;

/// What the delivery thread hears.
pub(super) enum Event {
    /// Follow the run at `key` for `sink` (sent before the follow is routed to).
    Follow { id: Id, key: String, sink: Sink },
    /// The run the follow's start made or joined: its state, at revision `rev`.
    Started { id: Id, state: RunState, rev: Rev },
    /// The start failed: the run ends with this error.
    Failed { id: Id, error: String },
    /// A stored write of the follow's key.
    Update { id: Id, state: RunState, rev: Rev },
    /// The follow's task asked for a cancel.
    Cancel { id: Id },
    /// The backend is gone: every follow ends (its sink dropped), the thread exits.
    Stop,
}

/// Where a follow's news goes.
pub(super) enum Sink {
    /// A task whose attempt `JobBackend::start` took.
    Task(StartedRun),
    /// A thread blocked in `JobBackend::execute`, applying it to its own context.
    Caller(Sender<Shown>),
}

/// What [`Sink::Caller`] receives.
pub(super) enum Shown {
    Progress(Progress),
    Attempt(u32),
    /// The run ended.
    End(Result<Vec<u8>, String>),
}

impl Sink {
    fn progress(&self, p: Progress) {
        match self {
            Sink::Task(run) => run.set_progress(p),
            Sink::Caller(tx) => drop(tx.send(Shown::Progress(p))),
        }
    }

    fn attempt(&self, n: u32) {
        match self {
            Sink::Task(run) => run.set_attempt(n),
            Sink::Caller(tx) => drop(tx.send(Shown::Attempt(n))),
        }
    }

    /// Ends the run with `result`; `cancelled`: the run ended Cancelled (asked here or
    /// by another replica), which a task shows as Cancelled (a blocked caller gets the
    /// error, which its task honours only if it asked).
    fn end(self, result: Result<Vec<u8>, String>, cancelled: bool) {
        match (self, result) {
            (Sink::Task(run), Err(message)) if cancelled => run.finish_cancelled(message),
            (Sink::Task(run), result) => run.finish(result),
            (Sink::Caller(tx), result) => drop(tx.send(Shown::End(result))),
        }
    }
}

/// Followed keys → the follows on each: written by the start tasks (add) and the
/// delivery thread (remove), read by the watcher. Never held across a send that could
/// block (the channel is unbounded) nor while task code runs.
#[derive(Default)]
pub(super) struct Routes {
    by_key: Mutex<HashMap<String, Vec<Id>>>,
}

impl Routes {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Vec<Id>>> {
        self.by_key.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn add(&self, key: &str, id: Id) {
        self.lock().entry(key.to_owned()).or_default().push(id);
    }

    fn remove(&self, key: &str, id: Id) {
        let mut map = self.lock();
        if let Some(ids) = map.get_mut(key) {
            ids.retain(|i| *i != id);
            if ids.is_empty() {
                map.remove(key);
            }
        }
    }

    /// Sends `state` (revision `rev`) to the follows of `key`.
    pub(super) fn route(&self, key: &str, state: &RunState, rev: Rev, tx: &Sender<Event>) {
        if let Some(ids) = self.lock().get(key) {
            for &id in ids {
                let state = state.clone();
                let _ = tx.send(Event::Update { id, state, rev });
            }
        }
    }

    /// Whether `key` is followed here (the other replicas' runs are not: their writes
    /// need no decoding).
    pub(super) fn follows(&self, key: &str) -> bool {
        self.lock().contains_key(key)
    }

    /// The followed keys (read again after a reconnection).
    pub(super) fn keys(&self) -> Vec<String> {
        self.lock().keys().cloned().collect()
    }
}

/// One run followed for one task (or blocked caller).
struct Follow {
    key: String,
    sink: Sink,
    /// The revision its start wrote or read: only later writes apply. `None` until the
    /// start reports; writes that come first wait in `early`.
    from: Option<Rev>,
    early: Vec<(RunState, Rev)>,
    /// The run followed now (a refresh elsewhere may replace it): what a cancel names.
    run: Option<String>,
    /// (fraction, message, attempt) last shown.
    shown: (Option<f64>, Option<String>, u32),
    /// A cancel was asked and not yet sent (the run was not known yet).
    cancel_asked: bool,
}

/// What the delivery thread needs of the backend: sending a cancel.
pub(super) trait Canceller: Send + Sync + 'static {
    /// Asks (asynchronously) for the cancel of run `run` at `key`.
    fn cancel(&self, key: &str, run: &str);
}

/// The delivery thread's loop: applies events until [`Event::Stop`] or every sender is
/// gone. Each event's task code is contained: a panicking `Drop` ends nothing else.
fn deliver(tx: &Sender<Event>, rx: &Receiver<Event>, routes: &Routes, canceller: &dyn Canceller) {
    let mut follows: HashMap<Id, Follow> = HashMap::new();
    while let Ok(event) = rx.recv() {
        if matches!(event, Event::Stop) {
            break;
        }
        if let Event::Follow {
            id,
            sink: Sink::Task(run),
            ..
        } = &event
        {
            // Asked here, once the follow is about to be listed: a cancel event always
            // comes after its follow (one asked before fires at once, from here).
            let (tx, id) = (tx.clone(), *id);
            run.on_cancel(move || {
                let _ = tx.send(Event::Cancel { id });
            });
        }
        let _ = crate::runtime::halt_unwinding(|| {
            apply(&mut follows, event, routes, canceller);
        });
    }
    // The backend is gone: each remaining task ends (its StartedRun dropped: Error).
    for (id, f) in follows.drain() {
        routes.remove(&f.key, id);
        drop(f);
    }
}

fn apply(follows: &mut HashMap<Id, Follow>, event: Event, routes: &Routes, c: &dyn Canceller) {
    match event {
        Event::Follow { id, key, sink } => {
            follows.insert(
                id,
                Follow {
                    key,
                    sink,
                    from: None,
                    early: Vec::new(),
                    run: None,
                    shown: (None, None, 0),
                    cancel_asked: false,
                },
            );
        }
        Event::Started { id, state, rev } => {
            let Some(f) = follows.get_mut(&id) else {
                return;
            };
            f.from = Some(rev);
            if state.status == Status::Done {
                // A run found finished shows its output alone, as a kept result does: no
                // progress or attempt of a run this task never waited on.
                f.shown = (state.fraction, state.message.clone(), state.attempt);
            }
            let mut early = std::mem::take(&mut f.early);
            if show(follows, id, state, routes, c) {
                return;
            }
            early.sort_by_key(|(_, rev)| *rev);
            for (state, rev) in early {
                if update(follows, id, state, rev, routes, c) {
                    return;
                }
            }
        }
        Event::Failed { id, error } => {
            if let Some(f) = follows.remove(&id) {
                routes.remove(&f.key, id);
                f.sink.end(Err(error), false);
            }
        }
        Event::Update { id, state, rev } => {
            update(follows, id, state, rev, routes, c);
        }
        Event::Cancel { id } => {
            if let Some(f) = follows.get_mut(&id) {
                match &f.run {
                    Some(run) => c.cancel(&f.key, run),
                    None => f.cancel_asked = true,
                }
            }
        }
        Event::Stop => {}
    }
}

/// A stored write (revision `rev`) of follow `id`'s key: kept for later before its start
/// reports, shown when newer than what the follow saw; true when the follow ended.
fn update(
    follows: &mut HashMap<Id, Follow>,
    id: Id,
    state: RunState,
    rev: Rev,
    routes: &Routes,
    c: &dyn Canceller,
) -> bool {
    let Some(f) = follows.get_mut(&id) else {
        return true;
    };
    match f.from {
        None => {
            f.early.push((state, rev));
            false
        }
        Some(from) if rev > from => {
            if rev != SYNTHETIC {
                f.from = Some(rev);
            }
            show(follows, id, state, routes, c)
        }
        Some(_) => false,
    }
}

/// Shows `state` to follow `id`'s sink; ends the follow on an ended state (true then).
fn show(
    follows: &mut HashMap<Id, Follow>,
    id: Id,
    state: RunState,
    routes: &Routes,
    c: &dyn Canceller,
) -> bool {
    let Some(f) = follows.get_mut(&id) else {
        return true;
    };
    if f.run.as_deref() != Some(state.run.as_str()) {
        f.run = Some(state.run.clone());
        if std::mem::take(&mut f.cancel_asked) {
            c.cancel(&f.key, &state.run);
        }
    }
    let now = (state.fraction, state.message.clone(), state.attempt);
    if now != f.shown {
        if (now.0, &now.1) != (f.shown.0, &f.shown.1) && (now.0.is_some() || now.1.is_some()) {
            f.sink
                .progress(Progress::new(state.fraction, state.message.clone()));
        }
        if now.2 != f.shown.2 {
            f.sink.attempt(state.attempt);
        }
        f.shown = now;
    }
    let cancelled = state.status == Status::Cancelled;
    let result = match state.status {
        Status::Done => state
            .output
            .map(String::into_bytes)
            .ok_or_else(|| format!("job `{}`: the worker recorded no output", state.job)),
        Status::Error => Err(state.error.unwrap_or_else(|| "failed".to_owned())),
        Status::Cancelled => Err(format!("job `{}`: cancelled", state.job)),
        Status::Queued | Status::Running | Status::Retrying => return false,
    };
    let f = follows.remove(&id).expect("found above");
    routes.remove(&f.key, id);
    f.sink.end(result, cancelled);
    true
}

/// Makes the routes and starts the delivery thread: the sender to give events to.
///
/// # Errors
/// The thread could not start.
pub(super) fn start(
    routes: Arc<Routes>,
    canceller: Arc<dyn Canceller>,
) -> std::io::Result<Sender<Event>> {
    let (tx, rx) = crossbeam_channel::unbounded();
    // The thread's own sender (for cancel events) is weak in effect: `Stop` ends it.
    let own = tx.clone();
    std::thread::Builder::new()
        .name("streamtree-nats-deliver".to_owned())
        .spawn(move || deliver(&own, &rx, &routes, &*canceller))?;
    Ok(tx)
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// Records the cancels asked.
    #[derive(Default)]
    struct Recorded(Mutex<Vec<(String, String)>>);

    impl Canceller for Recorded {
        fn cancel(&self, key: &str, run: &str) {
            self.0
                .lock()
                .unwrap()
                .push((key.to_owned(), run.to_owned()));
        }
    }

    struct Fixture {
        follows: HashMap<Id, Follow>,
        routes: Routes,
        cancels: Recorded,
        shown: Receiver<Shown>,
    }

    impl Fixture {
        /// Follow 1 on key `r.k`, shown to a caller sink.
        fn new() -> Fixture {
            let (tx, shown) = crossbeam_channel::unbounded();
            let mut f = Fixture {
                follows: HashMap::new(),
                routes: Routes::default(),
                cancels: Recorded::default(),
                shown,
            };
            f.routes.add("r.k", 1);
            f.send(Event::Follow {
                id: 1,
                key: "r.k".to_owned(),
                sink: Sink::Caller(tx),
            });
            f
        }

        fn send(&mut self, event: Event) {
            apply(&mut self.follows, event, &self.routes, &self.cancels);
        }

        fn drain(&self) -> Vec<String> {
            self.shown
                .try_iter()
                .map(|s| match s {
                    Shown::Progress(p) => format!("progress {p}"),
                    Shown::Attempt(n) => format!("attempt {n}"),
                    Shown::End(r) => format!("end {r:?}"),
                })
                .collect()
        }
    }

    fn state(run: &str, status: Status) -> RunState {
        let mut s = RunState::queued("j", run.to_owned());
        s.status = status;
        s
    }

    fn done(run: &str, output: &str) -> RunState {
        let mut s = state(run, Status::Done);
        s.output = Some(output.to_owned());
        s
    }

    #[test]
    fn a_write_older_than_the_starts_never_shows() {
        let mut f = Fixture::new();
        // The ended run this start replaced, its write still in flight (revision 5).
        let mut old = state("old", Status::Error);
        old.error = Some("old failure".to_owned());
        f.send(Event::Update {
            id: 1,
            state: old.clone(),
            rev: 5,
        });
        f.send(Event::Started {
            id: 1,
            state: state("new", Status::Queued),
            rev: 6,
        });
        f.send(Event::Update {
            id: 1,
            state: old,
            rev: 5,
        });
        assert_eq!(f.drain(), ["attempt 1"]);
        f.send(Event::Update {
            id: 1,
            state: done("new", "42"),
            rev: 8,
        });
        assert_eq!(
            f.drain(),
            [format!("end {:?}", Ok::<_, String>(b"42".to_vec()))]
        );
        assert!(f.follows.is_empty() && f.routes.keys().is_empty());
    }

    #[test]
    fn writes_before_the_start_reports_apply_after_it_in_revision_order() {
        let mut f = Fixture::new();
        let mut running = state("r1", Status::Running);
        running.message = Some("half".to_owned());
        f.send(Event::Update {
            id: 1,
            state: done("r1", "7"),
            rev: 9,
        });
        f.send(Event::Update {
            id: 1,
            state: running,
            rev: 8,
        });
        assert_eq!(f.drain(), Vec::<String>::new(), "nothing before the start");
        f.send(Event::Started {
            id: 1,
            state: state("r1", Status::Queued),
            rev: 7,
        });
        assert_eq!(
            f.drain(),
            [
                "attempt 1".to_owned(),
                "progress half".to_owned(),
                format!("end {:?}", Ok::<_, String>(b"7".to_vec()))
            ]
        );
    }

    #[test]
    fn a_run_found_finished_shows_its_output_alone() {
        let mut f = Fixture::new();
        let mut found = done("r1", "1");
        found.message = Some("last step".to_owned());
        found.attempt = 3;
        f.send(Event::Started {
            id: 1,
            state: found,
            rev: 4,
        });
        assert_eq!(
            f.drain(),
            [format!("end {:?}", Ok::<_, String>(b"1".to_vec()))]
        );
    }

    #[test]
    fn a_cancel_asked_before_the_run_is_known_is_sent_once_it_is() {
        let mut f = Fixture::new();
        f.send(Event::Cancel { id: 1 });
        assert!(f.cancels.0.lock().unwrap().is_empty());
        f.send(Event::Started {
            id: 1,
            state: state("r1", Status::Queued),
            rev: 2,
        });
        f.send(Event::Cancel { id: 1 });
        assert_eq!(
            *f.cancels.0.lock().unwrap(),
            [
                ("r.k".to_owned(), "r1".to_owned()),
                ("r.k".to_owned(), "r1".to_owned())
            ]
        );
        let mut cancelled = state("r1", Status::Cancelled);
        cancelled.attempt = 1;
        f.send(Event::Update {
            id: 1,
            state: cancelled,
            rev: 3,
        });
        assert_eq!(
            f.drain(),
            [
                "attempt 1".to_owned(),
                format!("end {:?}", Err::<Vec<u8>, _>("job `j`: cancelled"))
            ]
        );
    }

    #[test]
    fn a_synthetic_end_always_applies_and_a_failed_start_ends_the_follow() {
        let mut f = Fixture::new();
        f.send(Event::Started {
            id: 1,
            state: state("r1", Status::Queued),
            rev: 2,
        });
        let mut ended = state("r1", Status::Error);
        ended.error = Some("publish failed".to_owned());
        f.send(Event::Update {
            id: 1,
            state: ended,
            rev: SYNTHETIC,
        });
        assert_eq!(
            f.drain(),
            [
                "attempt 1".to_owned(),
                format!("end {:?}", Err::<Vec<u8>, _>("publish failed"))
            ]
        );
        let mut g = Fixture::new();
        g.send(Event::Failed {
            id: 1,
            error: "NATS: timed out".to_owned(),
        });
        assert_eq!(
            g.drain(),
            [format!("end {:?}", Err::<Vec<u8>, _>("NATS: timed out"))]
        );
        assert!(g.routes.keys().is_empty());
    }
}
