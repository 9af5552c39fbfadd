//! [`NatsBackend`]: the web side. `start` lists the run's follow (`follow.rs`), then, on
//! the backend's network runtime, puts the run in the bucket (atomic create, so replicas
//! submitting the same run share it) and publishes it to the workers; it returns at once,
//! so no runtime worker waits on the network. The one watcher routes the bucket's stored
//! writes to the follows; the delivery thread ends each task.
//!
//! Round trips per new run: one (the create); the publish's acknowledgement is awaited
//! beside the run (a failed publish still ends the run in Error), and a kept result is
//! read only when the create finds the key taken, so `finished` asks nothing of the
//! server.
//!
//! Invariants: those of `follow.rs` (a follow is listed before its run's state is read or
//! written; only later writes apply; each task ends once; task code runs on the delivery
//! thread only); user code never runs on the network runtime.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_nats::jetstream::kv::{CreateErrorKind, Operation};
use crossbeam_channel::Sender;

use super::follow::{self, Canceller, Event, Id, Rev, Routes, SYNTHETIC, Shown, Sink};
use super::{Conn, NatsError, NatsOptions, RunMsg, RunState, Status, new_run_id, run_hash};
use crate::jobs::{JobBackend, JobRun, StartedRun};
use crate::runtime::{Retry, TaskContext};

/// Runs jobs on [`Worker`](crate::worker::Worker) processes through a NATS JetStream
/// server: give it to [`RuntimeBuilder::backend`](crate::RuntimeBuilder::backend). Its
/// handles show the workers' progress and attempts as they happen; a cancel reaches the
/// job at once; two replicas submitting the same shared job get one run; a finished run
/// still in the bucket is shown without running again. A run in flight holds no runtime
/// worker ([`JobBackend::start`]).
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
    inner: Arc<Inner>,
    /// Dropped without waiting (`shutdown_background`): the backend may be dropped on
    /// any thread, even one inside another tokio runtime, or the delivery thread.
    rt: Option<tokio::runtime::Runtime>,
}

/// What the backend's tasks share.
struct Inner {
    conn: Arc<Conn>,
    subject: String,
    routes: Arc<Routes>,
    /// To the delivery thread.
    deliver: Sender<Event>,
    next: AtomicU64,
    handle: tokio::runtime::Handle,
}

impl fmt::Debug for NatsBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NatsBackend")
            .field("subject", &self.inner.subject)
            .finish_non_exhaustive()
    }
}

impl Drop for NatsBackend {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
        // Every task still followed ends (in Error: the backend stopped).
        let _ = self.inner.deliver.send(Event::Stop);
    }
}

/// Sends cancels for the delivery thread, on the network runtime.
struct Cancels {
    conn: Arc<Conn>,
    handle: tokio::runtime::Handle,
}

impl Canceller for Cancels {
    fn cancel(&self, key: &str, run: &str) {
        let (conn, key, run) = (Arc::clone(&self.conn), key.to_owned(), run.to_owned());
        self.handle
            .spawn(async move { cancel(&conn, &key, &run).await });
    }
}

/// A [`JobRun`] that the start task owns.
struct OwnedRun {
    name: String,
    input: Vec<u8>,
    fresh: bool,
    retry: Option<Retry>,
}

impl OwnedRun {
    fn of(run: &JobRun<'_>) -> OwnedRun {
        OwnedRun {
            name: run.name.to_owned(),
            input: run.input.to_vec(),
            fresh: run.fresh,
            retry: run.retry,
        }
    }

    fn as_run(&self) -> JobRun<'_> {
        let mut run = JobRun::new(&self.name, &self.input);
        run.fresh = self.fresh;
        run.retry = self.retry;
        run
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
        let conn = Arc::new(rt.block_on(Conn::open(&opts, "streamtree-web"))?);
        let routes = Arc::new(Routes::default());
        let cancels = Arc::new(Cancels {
            conn: Arc::clone(&conn),
            handle: rt.handle().clone(),
        });
        let deliver = follow::start(Arc::clone(&routes), cancels)
            .map_err(|e| NatsError::Runtime(format!("the delivery thread: {e}")))?;
        let inner = Arc::new(Inner {
            subject: super::runs_subject(opts.prefix_str()),
            conn,
            routes,
            deliver,
            next: AtomicU64::new(0),
            handle: rt.handle().clone(),
        });
        rt.spawn(watch(Arc::clone(&inner)));
        Ok(NatsBackend {
            inner,
            rt: Some(rt),
        })
    }

    /// Follows run `run` (at `key`) for `sink` as follow `id`, and starts it on the
    /// network runtime.
    fn begin(&self, id: Id, key: String, run: &JobRun<'_>, sink: Sink) {
        let inner = &self.inner;
        // Listed before the run's state is read or written (see `follow.rs`); the
        // follow reaches the delivery thread before any update routed to it.
        let _ = inner.deliver.send(Event::Follow {
            id,
            key: key.clone(),
            sink,
        });
        inner.routes.add(&key, id);
        let owned = OwnedRun::of(run);
        let task = Arc::clone(inner);
        inner.handle.spawn(async move {
            let event = match task.start(&key, &owned.as_run()).await {
                Ok((state, rev)) => Event::Started { id, state, rev },
                Err(error) => Event::Failed { id, error },
            };
            let _ = task.deliver.send(event);
        });
    }
}

impl Inner {
    /// Starts a run at `key` or joins the one there (a finished one too: its output is
    /// kept): its state and that state's revision.
    async fn start(&self, key: &str, run: &JobRun<'_>) -> Result<(RunState, Rev), String> {
        let kv = &self.conn.kv;
        let fail = |e: &dyn fmt::Display| format!("job `{}`: NATS: {e}", run.name);
        loop {
            let state = RunState::queued(run.name, new_run_id());
            if run.fresh {
                let rev = kv.put(key, state.encode()).await.map_err(|e| fail(&e))?;
                self.publish_or_fail(key, run, &state, rev).await?;
                return Ok((state, rev));
            }
            match kv.create(key, state.encode()).await {
                Ok(rev) => {
                    self.publish_or_fail(key, run, &state, rev).await?;
                    return Ok((state, rev));
                }
                Err(e) if e.kind() == CreateErrorKind::AlreadyExists => {}
                Err(e) => return Err(fail(&e)),
            }
            let Some(entry) = kv.entry(key).await.map_err(|e| fail(&e))? else {
                continue; // expired meanwhile: create again
            };
            match RunState::decode(&entry.value) {
                Some(s)
                    if entry.operation == Operation::Put
                        && !matches!(s.status, Status::Error | Status::Cancelled) =>
                {
                    if s.status == Status::Queued && s.worker.is_none() {
                        // Never claimed: its message may be lost (its web process died
                        // between the create and the publish). Sent again under the same
                        // id, which the stream drops as a duplicate if the first arrived
                        // (and a worker drops one that comes later: its claim finds the
                        // state moved on). Best effort: the run is not ours to fail.
                        if let Ok(ack) = self.publish(key, run, &s, entry.revision).await {
                            drop(ack);
                        }
                    }
                    return Ok((s, entry.revision));
                }
                _ => {
                    // An ended run (or one another version wrote): a new run replaces it,
                    // once, whichever replica wins the compare-and-set.
                    if let Ok(rev) = kv.update(key, state.encode(), entry.revision).await {
                        self.publish_or_fail(key, run, &state, rev).await?;
                        return Ok((state, rev));
                    }
                }
            }
        }
    }

    /// Publishes the run whose `queued` state is revision `rev`; when that fails, records
    /// the failure as the run's end, so nobody joins a run that no worker will ever get.
    /// The server's acknowledgement is awaited beside the run: a failure there ends the
    /// run the same way, and its follows hear it.
    async fn publish_or_fail(
        self: &Inner,
        key: &str,
        run: &JobRun<'_>,
        state: &RunState,
        rev: Rev,
    ) -> Result<(), String> {
        let ack = match self.publish(key, run, state, rev).await {
            Ok(ack) => ack,
            Err(e) => {
                end_unpublished(
                    &self.conn,
                    &self.routes,
                    &self.deliver,
                    key,
                    state,
                    rev,
                    e.clone(),
                )
                .await;
                return Err(e);
            }
        };
        let (conn, routes, deliver) = (
            Arc::clone(&self.conn),
            Arc::clone(&self.routes),
            self.deliver.clone(),
        );
        let (key, state, job) = (key.to_owned(), state.clone(), run.name.to_owned());
        self.handle.spawn(async move {
            if let Err(e) = ack.await {
                let e = format!("job `{job}`: NATS publish: {e}");
                end_unpublished(&conn, &routes, &deliver, &key, &state, rev, e).await;
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
        rev: Rev,
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
        // The run's id as the message's: the stream keeps one message per run (within
        // its duplicate window), however many replicas send it.
        let mut headers = async_nats::HeaderMap::new();
        headers.insert(async_nats::header::NATS_MESSAGE_ID, state.run.as_str());
        self.conn
            .js
            .publish_with_headers(self.subject.clone(), headers, msg.into())
            .await
            .map_err(|e| format!("job `{}`: NATS publish: {e}", run.name))
    }
}

/// Asks for the cancel of run `run_id` at `key`: a queued or retrying run is cancelled
/// here; a running one through `c.<hash>`, which its worker watches. Tries again while the
/// server is out of reach (a reconnect), for up to a minute.
async fn cancel(conn: &Conn, key: &str, run_id: &str) {
    let kv = &conn.kv;
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

/// Ends in Error, with `error`, the run whose message never reached the stream: by
/// compare-and-set over `rev`, its `queued` state (a worker's claim proves the message
/// arrived; a cancel ended it already). When the server cannot say, its follows are
/// told here, since no write will come.
async fn end_unpublished(
    conn: &Conn,
    routes: &Routes,
    deliver: &Sender<Event>,
    key: &str,
    state: &RunState,
    rev: Rev,
    error: String,
) {
    let mut ended = state.clone();
    ended.status = Status::Error;
    ended.error = Some(error);
    // Read first: a set that fails still reaches core subscribers of the bucket's own
    // subjects, so it is not tried over a run a worker took (its message arrived after all).
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
        // The server cannot say, or kept nothing: no write will come.
        routes.route(key, &ended, SYNTHETIC, deliver);
    }
}

/// The backend's one watcher: every stored write of `r.*` to the follows of its key;
/// after a reconnection, each followed key read again.
async fn watch(inner: Arc<Inner>) {
    let route = |key: &str, value: &[u8], rev: Rev| {
        if !inner.routes.follows(key) {
            return;
        }
        if let Some(state) = RunState::decode(value) {
            inner.routes.route(key, &state, rev, &inner.deliver);
        }
    };
    let resync = || async {
        for key in inner.routes.keys() {
            if let Ok(Some(entry)) = inner.conn.kv.entry(key.as_str()).await
                && entry.operation == Operation::Put
            {
                route(&key, &entry.value, entry.revision);
            }
        }
    };
    super::follow_puts(&inner.conn, "r.>", route, resync).await;
}

impl JobBackend for NatsBackend {
    /// None, asking nothing: a finished run kept in the bucket shows at once anyway (the
    /// start's create finds the key taken, and the read that follows finds it Done), so a
    /// new run costs no look-up first.
    fn finished(&self, _run: &JobRun<'_>) -> Option<Vec<u8>> {
        None
    }

    /// Runs `run` as [`start`](Self::start) does, blocking this thread until it ends
    /// (the runtime itself calls `start`).
    fn execute(&self, ctx: &TaskContext, run: &JobRun<'_>) -> Result<Vec<u8>, String> {
        let key = format!("r.{}", run_hash(run));
        let id = self.inner.next.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = crossbeam_channel::unbounded();
        self.begin(id, key, run, Sink::Caller(tx));
        // After the follow was sent: its cancel event comes after it.
        let deliver = self.inner.deliver.clone();
        ctx.on_cancel(move || {
            let _ = deliver.send(Event::Cancel { id });
        });
        loop {
            match rx.recv() {
                Ok(Shown::Progress(p)) => ctx.set_progress(p),
                Ok(Shown::Attempt(n)) => ctx.set_attempt(n),
                Ok(Shown::End(result)) => return result,
                Err(_) => {
                    return Err(format!(
                        "job `{}`: the NATS backend stopped before the run ended",
                        run.name
                    ));
                }
            }
        }
    }

    fn start(&self, run: &JobRun<'_>, started: StartedRun) -> Result<(), StartedRun> {
        let key = format!("r.{}", run_hash(run));
        let id = self.inner.next.fetch_add(1, Ordering::Relaxed);
        self.begin(id, key, run, Sink::Task(started));
        Ok(())
    }

    fn owns_retries(&self) -> bool {
        true
    }
}
