//! The worker's loop: pull runs while a place is free, run each job on a blocking
//! thread, heartbeat it, forward its progress, end it in the bucket, and ack or Nak.
//!
//! Invariants:
//! - a run's message is acknowledged (or Nak'd) only after its state is written, so a
//!   crash in between redelivers a run whose state says it ended: the redelivery is
//!   acknowledged without running again;
//! - a run's `running` state is written by compare-and-set from the state read, so a
//!   web process that cancelled it while queued wins, and the job never starts;
//! - `running` (the map) holds exactly the runs whose job thread was started and whose
//!   end is not written; the cancel watcher and the hand-back read it, never block in it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_nats::jetstream::consumer::{AckPolicy, pull};
use async_nats::jetstream::kv::Operation;
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
    /// State key → the run being executed here (see the module invariants).
    running: Mutex<HashMap<String, Running>>,
}

struct Running {
    run: String,
    slot: Arc<Slot>,
    msg: Arc<Message>,
}

impl Shared {
    fn running(&self) -> std::sync::MutexGuard<'_, HashMap<String, Running>> {
        self.running.lock().unwrap_or_else(PoisonError::into_inner)
    }
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

pub(super) async fn serve(worker: Worker, stop: watch::Receiver<bool>) -> Result<(), NatsError> {
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
        running: Mutex::new(HashMap::new()),
    });
    let watcher = tokio::spawn(watch_cancels(Arc::clone(&shared)));
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
    Ok(())
}

/// Gives every run still executing here back to the stream (Nak, no delay) and asks its
/// job to cancel; another worker takes it as its next attempt.
async fn hand_back(shared: &Shared) {
    let runs: Vec<(String, Running)> = shared.running().drain().collect();
    for (key, r) in runs {
        let _ = r.slot.cancel(); // a detached slot has no set to tell
        if let Ok(Some(entry)) = shared.conn.kv.entry(key.as_str()).await
            && let Some(mut s) = RunState::decode(&entry.value)
            && s.run == r.run
            && s.status == Status::Running
        {
            // `worker` stays: the next claim counts a new attempt.
            s.status = Status::Queued;
            let _ = shared.conn.kv.put(key.as_str(), s.encode()).await;
        }
        let _ = r.msg.ack_with(AckKind::Nak(None)).await;
    }
}

/// The worker's one watcher of `c.*`: a cancel written for a run executing here becomes
/// its job's cancel request.
async fn watch_cancels(shared: Arc<Shared>) {
    let (kv, connected) = (shared.conn.kv.clone(), shared.conn.connected.clone());
    crate::jobs::nats::watch_puts(kv, "c.>", connected, |entry| {
        let key = format!("r.{}", &entry.key[2..]);
        let slot = shared
            .running()
            .get(&key)
            .filter(|r| r.run.as_bytes() == entry.value.as_ref())
            .map(|r| Arc::clone(&r.slot));
        if let Some(slot) = slot {
            let _ = slot.cancel(); // a detached slot has no set to tell
        }
    })
    .await;
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
    if shared
        .running()
        .get(&req.key)
        .is_some_and(|r| r.run == req.run)
    {
        return;
    }
    let delivered = msg
        .info()
        .map_or(1, |i| u32::try_from(i.delivered).unwrap_or(u32::MAX));
    let mut attempt = delivered;
    // Claim: queued/retrying/running (a redelivery) → running, by compare-and-set.
    let claimed = loop {
        let Ok(Some(entry)) = kv.entry(req.key.as_str()).await else {
            break None; // expired or unreachable: nothing to report to
        };
        let Some(mut s) = RunState::decode(&entry.value) else {
            break None;
        };
        if s.run != req.run || s.status.is_terminal() {
            break None;
        }
        if cancel_recorded(shared, &req.key, &req.run).await {
            s.status = Status::Cancelled;
            let _ = kv
                .update(req.key.as_str(), s.encode(), entry.revision)
                .await;
            break None;
        }
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
        if kv
            .update(req.key.as_str(), s.encode(), entry.revision)
            .await
            .is_ok()
        {
            break Some(s);
        }
    };
    let Some(mut state) = claimed else {
        let _ = msg.ack().await;
        return;
    };
    let slot = detached_running_slot(&req.key);
    shared.running().insert(
        req.key.clone(),
        Running {
            run: req.run.clone(),
            slot: Arc::clone(&slot),
            msg: Arc::clone(&msg),
        },
    );
    // A cancel written before the watcher could see this run.
    if cancel_recorded(shared, &req.key, &req.run).await {
        let _ = slot.cancel(); // a detached slot has no set to tell
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
        state.clone(),
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
    if let Ok(last) = forward.await {
        state = last;
    }
    if shared.running().remove(&req.key).is_none() {
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
    let _ = kv.put(req.key.as_str(), state.encode()).await;
    let _ = match nak {
        Some(delay) => msg.ack_with(AckKind::Nak(Some(delay))).await,
        None => msg.ack().await,
    };
}

/// Writes the job's progress into its state as it comes, the latest first when several
/// wait (the last one is never skipped); returns the state as last written.
async fn forward_progress(
    shared: Arc<Shared>,
    key: String,
    mut state: RunState,
    mut rx: tokio::sync::mpsc::UnboundedReceiver<Progress>,
) -> RunState {
    while let Some(mut p) = rx.recv().await {
        while let Ok(newer) = rx.try_recv() {
            p = newer;
        }
        state.fraction = p.fraction();
        state.message = p.message().map(str::to_owned);
        let _ = shared.conn.kv.put(key.as_str(), state.encode()).await;
    }
    state
}
