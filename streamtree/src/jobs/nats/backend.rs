//! [`NatsBackend`]: the web side. `execute` puts a run in the bucket (atomic create, so
//! replicas submitting the same run share it), publishes it to the workers, and waits
//! for the bucket's updates, which the backend's one watcher routes to it.
//!
//! Round trips per new run: one (the create); the publish's acknowledgement is awaited
//! beside the wait on the state (a failed publish still ends the run in Error), and a
//! kept result is read only when the create finds the key taken, so `finished` asks
//! nothing of the server.
//!
//! Invariants:
//! - a waiter is registered before the run's state is read or written, so no update
//!   after that read is lost (after a reconnection the watcher reads every waited key
//!   again); an update written before that read may arrive after it, which at worst
//!   shows older progress for a moment (an ended run is never followed by another write);
//! - a waiter is woken only by an update it would show (see `View`): an ended run
//!   always, a new run, attempt or progress; not a bare status step (queued → running);
//! - user code never runs here: the watcher only decodes and forwards.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_nats::jetstream::kv::{CreateErrorKind, Operation};
use crossbeam_channel::{Receiver, Sender};

use super::{Conn, NatsError, NatsOptions, RunMsg, RunState, Status, new_run_id, run_hash};
use crate::jobs::{JobBackend, JobRun};
use crate::runtime::{Progress, TaskContext};

/// Runs jobs on [`Worker`](crate::worker::Worker) processes through a NATS JetStream
/// server: give it to [`RuntimeBuilder::backend`](crate::RuntimeBuilder::backend). Its
/// handles show the workers' progress and attempts as they happen; a cancel reaches the
/// job at once; two replicas submitting the same shared job get one run; a finished run
/// still in the bucket is shown without running again.
///
/// # Example
/// ```no_run
/// use std::sync::Arc;
/// use streamtree::jobs::nats::{NatsBackend, NatsOptions};
/// let backend = NatsBackend::connect(NatsOptions::new("nats://127.0.0.1:4222"))?;
/// let rt = streamtree::Runtime::builder().backend(Arc::new(backend)).build();
/// # drop(rt);
/// # Ok::<(), streamtree::jobs::nats::NatsError>(())
/// ```
pub struct NatsBackend {
    conn: Arc<Conn>,
    subject: String,
    waiters: Arc<Waiters>,
    /// Dropped without waiting (`shutdown_background`): the backend may be dropped on
    /// any thread, even one inside another tokio runtime.
    rt: Option<tokio::runtime::Runtime>,
}

impl fmt::Debug for NatsBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NatsBackend")
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

impl Drop for NatsBackend {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

/// What an execute shows of a run's state: an update with the same view changes nothing
/// it does (it ignores the steps between queued, running and retrying), so it is not
/// woken for it. An ended run's view never matches: its end is always delivered.
#[derive(Clone, Debug, PartialEq)]
struct View {
    run: String,
    attempt: u32,
    fraction: Option<f64>,
    message: Option<String>,
    ended: bool,
}

impl View {
    fn of(s: &RunState) -> View {
        View {
            run: s.run.clone(),
            attempt: s.attempt,
            fraction: s.fraction,
            message: s.message.clone(),
            ended: s.status.is_terminal(),
        }
    }

    /// Whether a waiter that last saw `self` must see `next`.
    fn wakes_for(&self, next: &View) -> bool {
        next.ended || self != next
    }
}

/// One execute's place in [`Waiters`].
struct Entry {
    id: u64,
    tx: Sender<RunState>,
    /// The view of the last state sent to it, or noted as its own (`None`: none yet):
    /// an update with this view (unless ended) changes nothing the execute shows.
    shown: Option<View>,
    /// `shown` was noted by the execute (the state it is about to write, or holds), not
    /// sent: a later note may replace it. A sent one stays until the next send, since
    /// the execute shows it once it reads its channel.
    own: bool,
}

/// Executes waiting for a key's updates.
#[derive(Default)]
struct Waiters {
    next: AtomicU64,
    /// key → the executes waiting on it. Written by `execute` (register, note, and the
    /// guard's drop) and by the watcher (`shown`); never held across a send that could
    /// block (unbounded channels).
    by_key: Mutex<HashMap<String, Vec<Entry>>>,
}

impl Waiters {
    fn register(self: &Arc<Self>, key: &str) -> Waiter {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = crossbeam_channel::unbounded();
        self.lock().entry(key.to_owned()).or_default().push(Entry {
            id,
            tx,
            shown: None,
            own: false,
        });
        Waiter {
            waiters: Arc::clone(self),
            key: key.to_owned(),
            id,
            rx,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Vec<Entry>>> {
        self.by_key.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Sends `value` (a state) to the waiters on `key` that would show it.
    fn route(&self, key: &str, value: &[u8]) {
        let Some(state) = RunState::decode(value) else {
            return;
        };
        self.send(key, &state);
    }

    fn send(&self, key: &str, state: &RunState) {
        let view = View::of(state);
        if let Some(list) = self.lock().get_mut(key) {
            for e in list {
                if e.shown.as_ref().is_none_or(|s| s.wakes_for(&view)) {
                    e.shown = Some(view.clone());
                    e.own = false;
                    let _ = e.tx.send(state.clone());
                }
            }
        }
    }

    fn keys(&self) -> Vec<String> {
        self.lock().keys().cloned().collect()
    }
}

/// One execute's registration; removes itself when dropped.
struct Waiter {
    waiters: Arc<Waiters>,
    key: String,
    id: u64,
    rx: Receiver<RunState>,
}

impl Waiter {
    /// Records `state` as what this execute shows, or will once its write lands: the
    /// watcher sends it no update with the same view (the echo of its own write, which
    /// reaches the watcher before the write's acknowledgement does; a claim's bare
    /// `running`). Only while nothing was sent: that waits in the channel, to be shown.
    fn note(&self, state: &RunState) {
        if let Some(e) = self
            .waiters
            .lock()
            .get_mut(&self.key)
            .and_then(|list| list.iter_mut().find(|e| e.id == self.id))
            && (e.own || e.shown.is_none())
        {
            e.shown = Some(View::of(state));
            e.own = true;
        }
    }
}

impl Drop for Waiter {
    fn drop(&mut self) {
        let mut map = self.waiters.lock();
        if let Some(list) = map.get_mut(&self.key) {
            list.retain(|e| e.id != self.id);
            if list.is_empty() {
                map.remove(&self.key);
            }
        }
    }
}

impl NatsBackend {
    /// Connects (blocking) and makes or finds the stream and the bucket; starts the one
    /// watcher that routes the bucket's updates. Called inside a tokio runtime (an async
    /// `main`), it connects from a helper thread, since it blocks.
    ///
    /// # Errors
    /// [`NatsError`]: the server is unreachable, refuses the login, or has no JetStream.
    ///
    /// # Example
    /// ```
    /// use streamtree::jobs::nats::{NatsBackend, NatsOptions};
    /// let err = NatsBackend::connect(NatsOptions::new("nats://127.0.0.1:1")).unwrap_err();
    /// assert!(err.to_string().contains("nats://127.0.0.1:1"));
    /// ```
    pub fn connect(opts: NatsOptions) -> Result<NatsBackend, NatsError> {
        if tokio::runtime::Handle::try_current().is_ok() {
            // `block_on` inside a runtime panics: block another thread instead.
            return std::thread::scope(|s| {
                s.spawn(|| Self::connect(opts))
                    .join()
                    .unwrap_or_else(|p| Err(NatsError::Runtime(crate::runtime::panic_message(&*p))))
            });
        }
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("streamtree-nats")
            .enable_all()
            .build()
            .map_err(|e| NatsError::Runtime(e.to_string()))?;
        let conn = rt.block_on(Conn::open(&opts, "streamtree-web"))?;
        let waiters = Arc::new(Waiters::default());
        let conn = Arc::new(conn);
        rt.spawn(watch(Arc::clone(&conn), Arc::clone(&waiters)));
        Ok(NatsBackend {
            subject: super::runs_subject(opts.prefix_str()),
            conn,
            waiters,
            rt: Some(rt),
        })
    }

    fn block_on<F: Future>(&self, f: F) -> F::Output {
        self.rt
            .as_ref()
            .expect("the runtime lives until the backend is dropped")
            .block_on(f)
    }

    /// Starts a run at `key` or joins the one there (a finished one too: its output is
    /// kept): its state.
    async fn start(
        &self,
        key: &str,
        run: &JobRun<'_>,
        waiter: &Waiter,
    ) -> Result<RunState, String> {
        let kv = &self.conn.kv;
        let fail = |e: &dyn fmt::Display| format!("job `{}`: NATS: {e}", run.name);
        loop {
            let state = RunState::queued(run.name, new_run_id());
            // Its run id is new: only this write (or its echo, landed or not) has its view.
            waiter.note(&state);
            if run.fresh {
                let rev = kv.put(key, state.encode()).await.map_err(|e| fail(&e))?;
                self.publish_or_fail(key, run, &state, rev).await?;
                return Ok(state);
            }
            match kv.create(key, state.encode()).await {
                Ok(rev) => {
                    self.publish_or_fail(key, run, &state, rev).await?;
                    return Ok(state);
                }
                Err(e) if e.kind() == CreateErrorKind::AlreadyExists => {}
                Err(e) => return Err(fail(&e)),
            }
            let Some(entry) = kv.entry(key).await.map_err(|e| fail(&e))? else {
                continue; // expired meanwhile: create again
            };
            let found = RunState::decode(&entry.value);
            match found {
                Some(s)
                    if entry.operation == Operation::Put
                        && !matches!(s.status, Status::Error | Status::Cancelled) =>
                {
                    return Ok(s);
                }
                _ => {
                    // An ended run (or one another version wrote): a new run replaces it,
                    // once, whichever replica wins the compare-and-set.
                    if let Ok(rev) = kv.update(key, state.encode(), entry.revision).await {
                        self.publish_or_fail(key, run, &state, rev).await?;
                        return Ok(state);
                    }
                }
            }
        }
    }

    /// Publishes the run whose `queued` state is revision `rev`; when that fails, records
    /// the failure as the run's end, so nobody joins a run that no worker will ever get.
    /// The server's acknowledgement is awaited on the backend's runtime, beside the wait
    /// on the state: a failure there ends the run the same way, and its waiters hear it.
    async fn publish_or_fail(
        &self,
        key: &str,
        run: &JobRun<'_>,
        state: &RunState,
        rev: u64,
    ) -> Result<(), String> {
        let ack = match self.publish(key, run, state, rev).await {
            Ok(ack) => ack,
            Err(e) => {
                end_unpublished(&self.conn, &self.waiters, key, state, rev, e.clone()).await;
                return Err(e);
            }
        };
        let (conn, waiters) = (Arc::clone(&self.conn), Arc::clone(&self.waiters));
        let (key, state, job) = (key.to_owned(), state.clone(), run.name.to_owned());
        tokio::spawn(async move {
            if let Err(e) = ack.await {
                let e = format!("job `{job}`: NATS publish: {e}");
                end_unpublished(&conn, &waiters, &key, &state, rev, e).await;
            }
        });
        Ok(())
    }

    /// Sends the run's message: the acknowledgement to await.
    async fn publish(
        &self,
        key: &str,
        run: &JobRun<'_>,
        state: &RunState,
        rev: u64,
    ) -> Result<async_nats::jetstream::context::PublishAckFuture, String> {
        let msg = serde_json::to_vec(&RunMsg::new(key, &state.run, rev, run))
            .expect("a run message always encodes");
        let max = self.conn.max_payload();
        if msg.len() > max {
            return Err(format!(
                "job `{}`: its input is {} bytes, over the NATS server's max_payload of {max} \
                 bytes: pass a reference to the data (a path, a key) instead",
                run.name,
                msg.len()
            ));
        }
        self.conn
            .js
            .publish(self.subject.clone(), msg.into())
            .await
            .map_err(|e| format!("job `{}`: NATS publish: {e}", run.name))
    }

    /// Asks for the run's cancel: a queued or retrying run is cancelled here; a running
    /// one through `c.<hash>`, which its worker watches. Tries again while the server is
    /// out of reach (a reconnect), for up to a minute.
    async fn cancel(&self, key: &str, run_id: &str) {
        let kv = &self.conn.kv;
        let cancel_key = format!("c.{}", &key[2..]);
        for _ in 0..600 {
            let entry = match kv.entry(key).await {
                Ok(Some(entry)) => entry,
                Ok(None) => return,
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            let Some(mut s) = RunState::decode(&entry.value) else {
                return;
            };
            if s.run != run_id || s.status.is_terminal() {
                return;
            }
            let written = if s.status == Status::Running {
                kv.put(&cancel_key, run_id.to_owned().into()).await.is_ok()
            } else {
                s.status = Status::Cancelled;
                kv.update(key, s.encode(), entry.revision).await.is_ok()
            };
            if written {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Ends in Error, with `error`, the run whose message never reached the stream: by
/// compare-and-set over `rev`, its `queued` state (a worker's claim proves the message
/// arrived; a cancel ended it already). When the server cannot say, its waiters are
/// told here, since no update will come.
async fn end_unpublished(
    conn: &Conn,
    waiters: &Waiters,
    key: &str,
    state: &RunState,
    rev: u64,
    error: String,
) {
    let mut ended = state.clone();
    ended.status = Status::Error;
    ended.error = Some(error);
    // Read first: a set that fails still reaches the watchers' core subscriptions, so
    // it is not tried over a run a worker took (its message arrived after all).
    match conn.kv.entry(key).await {
        Ok(Some(e)) if e.revision != rev => return, // written since: not ours to end
        Ok(_) => {
            if conn.kv.update(key, ended.encode(), rev).await.is_ok() {
                return; // the watcher routes it
            }
        }
        Err(_) => {}
    }
    if !matches!(conn.kv.entry(key).await, Ok(Some(e)) if e.revision != rev) {
        // The server cannot say, or kept nothing: no update will come.
        waiters.send(key, &ended);
    }
}

/// The backend's one watcher: every update of `r.*` to the executes waiting on it; after
/// a reconnection, each waited key read again.
async fn watch(conn: Arc<Conn>, waiters: Arc<Waiters>) {
    let resync = || async {
        for key in waiters.keys() {
            if let Ok(Some(entry)) = conn.kv.entry(key.as_str()).await
                && entry.operation == Operation::Put
            {
                waiters.route(&key, &entry.value);
            }
        }
    };
    super::follow_puts(&conn, "r.>", |key, value| waiters.route(key, value), resync).await;
}

impl JobBackend for NatsBackend {
    /// None, asking nothing: `execute` shows a finished run kept in the bucket at once
    /// (its create finds the key taken, and the read that follows finds it Done), so a
    /// new run costs no look-up first.
    fn finished(&self, _run: &JobRun<'_>) -> Option<Vec<u8>> {
        None
    }

    fn execute(&self, ctx: &TaskContext, run: &JobRun<'_>) -> Result<Vec<u8>, String> {
        let key = format!("r.{}", run_hash(run));
        let waiter = self.waiters.register(&key);
        let (cancel_tx, mut cancelled) = crossbeam_channel::bounded(1);
        ctx.on_cancel(move || {
            let _ = cancel_tx.try_send(());
        });
        let mut state = self.block_on(self.start(&key, run, &waiter))?;
        waiter.note(&state);
        let mut shown = (None, None, 0);
        if state.status == Status::Done {
            // A run found finished shows its output alone, as a kept result does: no
            // progress or attempt of a run this task never waited on.
            shown = (state.fraction, state.message.clone(), state.attempt);
        }
        loop {
            let progress = (state.fraction, state.message.clone(), state.attempt);
            if progress != shown {
                if (state.fraction, &state.message) != (shown.0, &shown.1)
                    && (state.fraction.is_some() || state.message.is_some())
                {
                    ctx.set_progress(Progress::new(state.fraction, state.message.clone()));
                }
                ctx.set_attempt(state.attempt);
                shown = progress;
            }
            match state.status {
                Status::Done => {
                    return state.output.map(String::into_bytes).ok_or_else(|| {
                        format!("job `{}`: the worker recorded no output", run.name)
                    });
                }
                Status::Error => {
                    return Err(state.error.unwrap_or_else(|| "failed".to_owned()));
                }
                Status::Cancelled => {
                    ctx.cancelled();
                    return Err(format!("job `{}`: cancelled", run.name));
                }
                _ => {}
            }
            crossbeam_channel::select! {
                recv(waiter.rx) -> update => {
                    // Another replica's refresh may replace the run: follow the newest.
                    state = update.expect("the waiter holds its sender");
                }
                recv(cancelled) -> asked => {
                    // Once: the callback is spent (a disconnected channel is always ready).
                    cancelled = crossbeam_channel::never();
                    if asked.is_ok() {
                        self.block_on(self.cancel(&key, &state.run));
                    }
                }
            }
        }
    }

    fn owns_retries(&self) -> bool {
        true
    }
}
