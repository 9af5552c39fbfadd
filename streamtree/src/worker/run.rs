//! The worker's loop: pull runs while a place is free, run each job on a blocking
//! thread, heartbeat it, forward its progress, end it in the bucket, and ack or Nak.
//!
//! Invariants:
//! - a run's message is acknowledged (or Nak'd) only after its state is written, so a
//!   crash in between redelivers a run whose state says it ended: the redelivery is
//!   acknowledged without running again;
//! - a run's `running` state is written by compare-and-set from the state read (on a
//!   first delivery, from the `queued` revision its message carries, with no read: the
//!   set fails unless the key still holds exactly that write), so a web process that
//!   cancelled it while queued wins, and the job never starts; a first delivery never
//!   claims from any other revision, so of several messages of one run (a replica sends
//!   a never-claimed run's message again) exactly one claims it;
//! - `running` (the map) holds exactly the runs this worker is claiming or executing and
//!   whose end is not written (listed before the claim, so every cancel written after
//!   the claim finds it); the cancel watcher and the hand-back read it, never block in it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_nats::jetstream::consumer::{AckPolicy, pull};
use async_nats::jetstream::kv::{self, Operation};
use async_nats::jetstream::{AckKind, Message};
use futures_util::StreamExt;
use tokio::sync::{Semaphore, watch};

use super::{Worker, enter_worker, note_process_worker};
use crate::jobs::Jobs;
use crate::jobs::nats::{Conn, NatsError, RunMsg, RunState, Status};
use crate::runtime::{Progress, Slot, TaskContext, detached_running_slot, halt_unwinding};

/// What the loop and its run tasks share.
struct Shared {
    conn: Conn,
    jobs: Jobs,
    name: Arc<str>,
    ack_wait: Duration,
    /// The consumer's most deliveries of a message: no retry is asked past it.
    max_deliver: i64,
    /// `<state key>#<run id>` (see [`running_key`]) → the run being executed here (see
    /// the module invariants). Keyed by run too: a refresh may bring a new run of the same
    /// key while the old one still runs here.
    running: Mutex<HashMap<String, Running>>,
}

struct Running {
    /// The state key, `r.<hash>`.
    key: String,
    run: String,
    slot: Arc<Slot>,
    msg: Arc<Message>,
}

impl Shared {
    fn running(&self) -> std::sync::MutexGuard<'_, HashMap<String, Running>> {
        self.running.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The key of a run in `Shared::running`.
fn running_key(key: &str, run: &str) -> String {
    format!("{key}#{run}")
}

/// How a worker's write of its run's state went.
#[derive(Debug, PartialEq, Eq)]
enum Wrote {
    Written,
    /// The key holds another run now (a refresh) or expired: this run's writes stop.
    Superseded,
    /// Another claim of this very run owns the state now (a redelivery, taken by another
    /// worker while this one stalled past `ack_wait`): this worker writes no more, its
    /// job is asked to stop, and the run's message, which the new claim holds, is left
    /// alone.
    Lost,
    /// The server stayed out of reach.
    Failed,
}

/// Writes `state` over `rev`, the revision this worker last wrote; when another write
/// came between, writes again over it only if it is this claim's own (same run, worker
/// and attempt: a write whose acknowledgement was lost). Nobody else writes a running
/// run's state (cancels go to `c.<hash>`), so any other write means the run was
/// replaced or claimed again. Retries for a few seconds while the server is out of reach.
async fn write_own(kv: &kv::Store, key: &str, state: &RunState, rev: &mut u64) -> Wrote {
    for _ in 0..50 {
        match kv.update(key, state.encode(), *rev).await {
            Ok(r) => {
                *rev = r;
                return Wrote::Written;
            }
            Err(_) => match kv.entry(key).await {
                Ok(Some(e)) => match RunState::decode(&e.value) {
                    // Still this claim's (our own write, whose acknowledgement was lost):
                    // write again over it.
                    Some(s)
                        if s.run == state.run
                            && s.worker == state.worker
                            && s.attempt == state.attempt =>
                    {
                        if e.revision == *rev {
                            // Our revision is current: the update failed on the way.
                            tokio::time::sleep(Duration::from_millis(100)).await;
                        }
                        *rev = e.revision;
                    }
                    Some(s) if s.run == state.run => return Wrote::Lost,
                    _ => return Wrote::Superseded,
                },
                Ok(None) => return Wrote::Superseded,
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            },
        }
    }
    Wrote::Failed
}

/// Waits until `stop` says true.
async fn stopped(mut stop: watch::Receiver<bool>) {
    while !*stop.borrow_and_update() {
        if stop.changed().await.is_err() {
            // The sender is gone: nobody can ask any more; run on.
            std::future::pending::<()>().await;
        }
    }
}

pub(super) async fn serve(
    worker: Worker,
    stop: watch::Receiver<bool>,
    ready: super::Ready,
) -> Result<(), NatsError> {
    let name: Arc<str> = Arc::from(worker.name.as_str());
    note_process_worker(&name);
    let conn = Conn::open(&worker.opts, &format!("streamtree-worker-{name}")).await?;
    let p = worker.opts.prefix_str().to_owned();
    let consumer = conn
        .stream
        .get_or_create_consumer(
            &format!("{p}-workers"),
            pull::Config {
                durable_name: Some(format!("{p}-workers")),
                ack_policy: AckPolicy::Explicit,
                ack_wait: worker.opts.ack_wait,
                max_deliver: worker.opts.max_deliver,
                filter_subject: crate::jobs::nats::runs_subject(&p),
                ..Default::default()
            },
        )
        .await
        .map_err(|e| NatsError::Setup {
            what: format!("the consumer `{p}-workers`"),
            message: e.to_string(),
        })?;
    let shared = Arc::new(Shared {
        conn,
        jobs: worker.jobs,
        name,
        ack_wait: worker.opts.ack_wait,
        max_deliver: worker.opts.max_deliver,
        running: Mutex::new(HashMap::new()),
    });
    let watcher = tokio::spawn(watch_cancels(Arc::clone(&shared)));
    let exhausted = {
        let subject = format!("$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.{p}-runs.{p}-workers");
        let advisories = shared.conn.client.subscribe(subject).await;
        advisories
            .ok()
            .map(|a| tokio::spawn(end_exhausted_runs(Arc::clone(&shared), a)))
    };
    // Subscribed: what the server says from now on reaches this worker.
    let _ = shared.conn.client.flush().await;
    ready.ready();
    let places = Arc::new(Semaphore::new(worker.concurrency));
    let mut tasks = tokio::task::JoinSet::new();
    'pull: loop {
        let first = tokio::select! {
            p = Arc::clone(&places).acquire_owned() => p.expect("the semaphore is never closed"),
            () = stopped(stop.clone()) => break 'pull,
        };
        let mut free = vec![first];
        while let Ok(p) = Arc::clone(&places).try_acquire_owned() {
            free.push(p);
        }
        let batch = consumer
            .batch()
            .max_messages(free.len())
            .expires(Duration::from_secs(1))
            .messages();
        let mut batch = tokio::select! {
            b = batch => match b {
                Ok(b) => b,
                Err(_) => {
                    // Disconnected: the client reconnects; ask again shortly.
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = stopped(stop.clone()) => break 'pull,
        };
        loop {
            let next = tokio::select! {
                m = batch.next() => m,
                () = stopped(stop.clone()) => break 'pull,
            };
            match next {
                Some(Ok(msg)) => {
                    let place = free.pop();
                    let shared = Arc::clone(&shared);
                    tasks.spawn(async move {
                        handle(&shared, Arc::new(msg)).await;
                        drop(place);
                    });
                }
                Some(Err(_)) => {}
                None => break,
            }
        }
    }
    // Shutdown: running jobs get the grace period, then go back to the stream.
    let drain = async { while tasks.join_next().await.is_some() {} };
    if tokio::time::timeout(worker.grace, drain).await.is_err() {
        hand_back(&shared).await;
    }
    watcher.abort();
    if let Some(task) = exhausted {
        task.abort();
    }
    Ok(())
}

/// Ends the runs the server gave up on: delivered `max_deliver` times without an ack or
/// Nak (each worker running it died: a crash, a kill, out of memory), which no worker
/// will ever write again. Each worker hears the advisory; the compare-and-set lets one
/// write the Error.
async fn end_exhausted_runs(shared: Arc<Shared>, mut advisories: async_nats::Subscriber) {
    #[derive(serde::Deserialize)]
    struct Advisory {
        stream_seq: u64,
        deliveries: u64,
    }
    while let Some(msg) = advisories.next().await {
        let Ok(a) = serde_json::from_slice::<Advisory>(&msg.payload) else {
            continue;
        };
        let Ok(raw) = shared.conn.stream.get_raw_message(a.stream_seq).await else {
            continue; // already gone: another worker ended it
        };
        let Ok(req) = serde_json::from_slice::<RunMsg>(&raw.payload) else {
            continue;
        };
        let kv = &shared.conn.kv;
        for _ in 0..16 {
            let Ok(Some(entry)) = kv.entry(req.key.as_str()).await else {
                break;
            };
            let Some(mut s) = RunState::decode(&entry.value) else {
                break;
            };
            if s.run != req.run || s.status.is_terminal() {
                break;
            }
            s.status = Status::Error;
            s.error = Some(format!(
                "job `{}`: no worker finished it in {} deliveries, the workers' max_deliver \
                 (each worker running it stopped without a word: a crash, a kill, out of \
                 memory?)",
                req.job, a.deliveries
            ));
            if kv
                .update(req.key.as_str(), s.encode(), entry.revision)
                .await
                .is_ok()
            {
                break;
            }
        }
        let _ = shared.conn.stream.delete_message(a.stream_seq).await;
    }
}

/// Gives every run still executing here back to the stream (Nak, no delay) and asks its
/// job to cancel; another worker takes it as its next attempt.
async fn hand_back(shared: &Shared) {
    let runs: Vec<Running> = shared.running().drain().map(|(_, r)| r).collect();
    for r in runs {
        let _ = r.slot.cancel(); // a detached slot has no set to tell
        let key = r.key.as_str();
        if let Ok(Some(entry)) = shared.conn.kv.entry(key).await
            && let Some(mut s) = RunState::decode(&entry.value)
            && s.run == r.run
            && s.status == Status::Running
        {
            // `worker` stays: the next claim counts a new attempt.
            s.status = Status::Queued;
            let _ = shared.conn.kv.update(key, s.encode(), entry.revision).await;
        }
        let _ = r.msg.ack_with(AckKind::Nak(None)).await;
    }
}

/// The worker's one watcher of `c.*`: a cancel written for a run executing here becomes
/// its job's cancel request.
async fn watch_cancels(shared: Arc<Shared>) {
    let cancel = |key: &str, run: &[u8]| {
        let Ok(run) = std::str::from_utf8(run) else {
            return;
        };
        let slot = shared
            .running()
            .get(&running_key(key, run))
            .map(|r| Arc::clone(&r.slot));
        if let Some(slot) = slot {
            let _ = slot.cancel(); // a detached slot has no set to tell
        }
    };
    // After a reconnection: the cancels written meanwhile, read for each run here.
    let resync = || async {
        let runs: Vec<(String, String)> = shared
            .running()
            .values()
            .map(|r| (r.key.clone(), r.run.clone()))
            .collect();
        for (key, run) in runs {
            if cancel_recorded(&shared, &key, &run).await {
                cancel(&key, run.as_bytes());
            }
        }
    };
    let on_put = |key: &str, value: &[u8], _rev: u64| cancel(&format!("r.{}", &key[2..]), value);
    crate::jobs::nats::follow_puts(&shared.conn, "c.>", on_put, resync).await;
}

/// Whether a cancel of run `run` at state key `key` is recorded.
async fn cancel_recorded(shared: &Shared, key: &str, run: &str) -> bool {
    matches!(
        shared.conn.kv.entry(format!("c.{}", &key[2..])).await,
        Ok(Some(e)) if e.operation == Operation::Put && e.value.as_ref() == run.as_bytes()
    )
}

/// Handles one delivery of a run.
async fn handle(shared: &Arc<Shared>, msg: Arc<Message>) {
    let kv = &shared.conn.kv;
    let Ok(req) = serde_json::from_slice::<RunMsg>(&msg.payload) else {
        // Not ours to run ever: written by something else.
        let _ = msg.ack_with(AckKind::Term).await;
        return;
    };
    // A redelivery of a run still executing here (heartbeats lost to a reconnect): the
    // running copy ends it and acknowledges; a second copy would run the job twice.
    let here = running_key(&req.key, &req.run);
    let delivered = msg
        .info()
        .map_or(1, |i| u32::try_from(i.delivered).unwrap_or(u32::MAX));
    if shared.running().contains_key(&here) {
        if delivered == 1 && req.rev.is_some() {
            // Not a redelivery but a copy of the message (a replica sent the run again):
            // the running copy holds the run's own message.
            let _ = msg.ack().await;
        }
        return;
    }
    let mut attempt = delivered;
    // Listed before the claim: a cancel is written only after the web side reads the
    // claim's Running, so the watcher finds this run for every cancel of it but those
    // written before (a dead worker's run), which the claim looks for itself.
    let slot = detached_running_slot(&req.key);
    shared.running().insert(
        here.clone(),
        Running {
            key: req.key.clone(),
            run: req.run.clone(),
            slot: Arc::clone(&slot),
            msg: Arc::clone(&msg),
        },
    );
    // Claim: queued/retrying/running (a redelivery) → running, by compare-and-set. A
    // first delivery tries the `queued` state its web process wrote, unread: it holds
    // exactly that at `rev` or the set fails, and then the claim reads what is there.
    let mut unread = req.rev.filter(|_| delivered == 1);
    let claimed = loop {
        let (mut s, revision) = if let Some(rev) = unread.take() {
            (RunState::queued(&req.job, req.run.clone()), rev)
        } else {
            let Ok(Some(entry)) = kv.entry(req.key.as_str()).await else {
                break None; // expired or unreachable: nothing to report to
            };
            let Some(mut s) = RunState::decode(&entry.value) else {
                break None;
            };
            if s.run != req.run || s.status.is_terminal() {
                break None;
            }
            // A first delivery claims only the `queued` write its message names: once the
            // state moved on, another message of this run (a copy a replica sent again,
            // see `NatsBackend`) claimed it, and running it here would run it twice.
            if delivered == 1 && req.rev.is_some_and(|rev| rev != entry.revision) {
                break None;
            }
            // A redelivery of a run cancelled while its dead worker had it. (A first
            // claim needs no look: a queued run is cancelled in its state, which the CAS
            // checks.)
            if s.status == Status::Running && cancel_recorded(shared, &req.key, &req.run).await {
                s.status = Status::Cancelled;
                let _ = kv
                    .update(req.key.as_str(), s.encode(), entry.revision)
                    .await;
                break None;
            }
            (s, entry.revision)
        };
        // A run some worker started before (a redelivery, a retry, a hand-back) is a new
        // attempt; the delivery count alone misses a hand-back now and then.
        let counted = if s.worker.is_some() {
            s.attempt + 1
        } else {
            s.attempt
        };
        s.status = Status::Running;
        s.attempt = counted.max(delivered);
        attempt = s.attempt;
        s.worker = Some(shared.name.to_string());
        if let Ok(rev) = kv.update(req.key.as_str(), s.encode(), revision).await {
            break Some((s, rev));
        }
    };
    let Some((mut state, mut rev)) = claimed else {
        if shared.running().remove(&here).is_some() {
            let _ = msg.ack().await;
        }
        return;
    };
    if !shared.running().contains_key(&here) {
        return; // handed back by a shutdown during the claim
    }
    let heartbeat = {
        let msg = Arc::clone(&msg);
        let every = (shared.ack_wait / 3).max(Duration::from_millis(10));
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let _ = msg.ack_with(AckKind::Progress).await;
            }
        })
    };
    let (progress_tx, progress_rx) = tokio::sync::mpsc::unbounded_channel::<Progress>();
    let forward = tokio::spawn(forward_progress(
        Arc::clone(shared),
        req.key.clone(),
        Arc::clone(&slot),
        (state.clone(), rev),
        progress_rx,
    ));
    let outcome = {
        let shared = Arc::clone(shared);
        let slot = Arc::clone(&slot);
        let (job, input) = (req.job.clone(), req.input.clone());
        tokio::task::spawn_blocking(move || {
            let _named = enter_worker(&shared.name);
            let hook = move |p: &Progress| {
                let _ = progress_tx.send(p.clone());
            };
            let ctx = TaskContext::with_progress_hook(&slot, &hook);
            halt_unwinding(|| {
                if shared.jobs.contains(&job) {
                    shared.jobs.run(&job, &ctx, input.as_bytes())
                } else {
                    Err(format!(
                        "job `{job}` is not registered on worker `{}`",
                        shared.name
                    ))
                }
            })
            .and_then(|r| r)
        })
        .await
        .unwrap_or_else(|e| Err(format!("the job's thread failed: {e}")))
    };
    heartbeat.abort();
    // The last progress is written before the end (the sender dropped with the job).
    let mut gone = None;
    if let Ok((last, last_rev, wrote)) = forward.await {
        (state, rev) = (last, last_rev);
        gone = matches!(wrote, Wrote::Superseded | Wrote::Lost).then_some(wrote);
    }
    if shared.running().remove(&here).is_none() {
        return; // handed back by a shutdown meanwhile
    }
    let mut nak = None;
    match outcome {
        Ok(output) => {
            state.status = Status::Done;
            state.output = Some(String::from_utf8_lossy(&output).into_owned());
            let size = state.encode().len();
            let max = shared.conn.max_payload().saturating_sub(1024);
            if size > max {
                state.status = Status::Error;
                state.output = None;
                state.error = Some(format!(
                    "job `{}`: its output is {size} bytes, over the NATS server's max_payload \
                     ({max} bytes with the state around it): return a reference to the data \
                     (a path, a key) instead, or raise max_payload",
                    req.job
                ));
            }
        }
        Err(e) if slot.is_cancel_requested() => {
            state.status = Status::Cancelled;
            state.error = Some(e);
        }
        Err(e) => match req.retry() {
            // The server would drop a Nak'd message past max_deliver: the run would stay
            // Retrying for ever, so it ends here instead.
            Some(retry)
                if attempt <= retry.retries() && i64::from(delivered) >= shared.max_deliver =>
            {
                state.status = Status::Error;
                state.error = Some(format!(
                    "{e} (not retried: the run was delivered {delivered} times, the \
                     workers' max_deliver)"
                ));
            }
            Some(retry) if attempt <= retry.retries() => {
                state.status = Status::Retrying;
                state.error = Some(e);
                nak = Some(retry.delay(attempt));
            }
            _ => {
                state.status = Status::Error;
                state.error = Some(e);
            }
        },
    }
    let wrote = match gone {
        Some(wrote) => wrote,
        None => write_own(kv, &req.key, &state, &mut rev).await,
    };
    let _ = match (wrote, nak) {
        // Not written: a redelivery after ack_wait runs it again (at least once).
        (Wrote::Failed, _) => return,
        // Another claim holds the message: its acknowledgement is that claim's.
        (Wrote::Lost, _) => return,
        // A refresh replaced this run: its end is nobody's.
        (Wrote::Superseded, _) => msg.ack().await,
        (Wrote::Written, Some(delay)) => msg.ack_with(AckKind::Nak(Some(delay))).await,
        (Wrote::Written, None) => msg.ack().await,
    };
}

/// Writes the job's progress into its state as it comes, the latest first when several
/// wait (the last one is never skipped); returns the state and revision as last written,
/// and how the last write went. Once the run is superseded or lost it writes no more and
/// asks the job (`slot`) to stop: its end is nobody's.
async fn forward_progress(
    shared: Arc<Shared>,
    key: String,
    slot: Arc<Slot>,
    (mut state, mut rev): (RunState, u64),
    mut rx: tokio::sync::mpsc::UnboundedReceiver<Progress>,
) -> (RunState, u64, Wrote) {
    let mut wrote = Wrote::Written;
    while let Some(mut p) = rx.recv().await {
        while let Ok(newer) = rx.try_recv() {
            p = newer;
        }
        if matches!(wrote, Wrote::Superseded | Wrote::Lost) {
            continue;
        }
        state.fraction = p.fraction();
        state.message = p.message().map(str::to_owned);
        wrote = write_own(&shared.conn.kv, &key, &state, &mut rev).await;
        if matches!(wrote, Wrote::Superseded | Wrote::Lost) {
            let _ = slot.cancel(); // a detached slot has no set to tell
        }
    }
    (state, rev, wrote)
}
