//! The NATS JetStream backend (feature `nats`): runs travel to worker processes on a
//! work-queue stream, and each run's state lives in a key-value bucket that web processes
//! watch, so progress, results and cancel requests are pushed, never polled.
//!
//! Names, from [`NatsOptions::prefix`] `P` (default `streamtree`):
//! - stream `P-runs` (work-queue retention) on the one subject `P.runs`, consumed by
//!   the durable pull consumer `P-workers` that every [`Worker`](crate::worker::Worker)
//!   shares (one `filter_subject`: nats-server 2.9 ignores `filter_subjects`);
//! - bucket `P-state` (its stream `KV_P-state`, made here: async-nats ≥ 0.41 cannot
//!   create buckets on a 2.9 server) holding, per run of (job, input), the key
//!   `r.<hash>` (a `RunState` in JSON: run id, status, attempt, worker, progress, output
//!   or error) and, once cancelled, `c.<hash>` (the run id whose cancel was requested).
//!   Entries expire after [`NatsOptions::state_ttl`] without a write.
//!
//! The state machine of `r.<hash>` (who writes each step):
//! `queued` (web: atomic create, or a compare-and-set over an ended run) → `running`
//! (worker: compare-and-set from the `queued` revision the run's message carries, or
//! from what it read on a redelivery, so a cancel of a queued run wins) →
//! `done` | `error` | `cancelled` (worker) or `retrying` (worker, then a delayed Nak)
//! → `running` again on the redelivery. A web process cancels a queued or retrying run
//! itself (compare-and-set to `cancelled`), a running one by writing `c.<hash>`, which
//! the worker's one watcher turns into the job's cancel request at once.
//!
//! "Watch" here is a core subscription to the stream's republish of each write it stored
//! (`P.state.r.>` in web processes, `P.state.c.>` in workers), read again after each
//! reconnection; see `follow_puts` for why neither the client's key-value watch nor the
//! bucket's own subjects (those also carry the writes the stream refused). In a web
//! process the watcher routes each write, with its revision, to the runs followed there
//! (`follow.rs`); one delivery thread applies them to the tasks, which hold no runtime
//! worker while their runs are away (`JobBackend::start`).
//!
//! Worker failures: a dead worker's run comes back after `ack_wait` (its heartbeats
//! stopped) as a new attempt; one delivered `max_deliver` times without an end is ended
//! in Error by any worker, from the server's MAX_DELIVERIES advisory. Outputs and inputs
//! over the server's `max_payload` end the run in Error saying so (no object store).

mod backend;
mod follow;
mod options;

use std::time::Duration;

use async_nats::jetstream::{self, kv, stream};
use serde::{Deserialize, Serialize};

pub use self::backend::NatsBackend;
pub use self::options::{NatsError, NatsOptions};
use super::JobRun;
use crate::runtime::Retry;

/// A connection with the stream and the bucket made or found.
pub(crate) struct Conn {
    pub(crate) client: async_nats::Client,
    pub(crate) js: jetstream::Context,
    pub(crate) stream: stream::Stream,
    pub(crate) kv: kv::Store,
    /// `P.state.`: where the bucket's stream republishes each write it stored.
    pub(crate) stored: String,
    /// Counts (re)connections: a watcher reads what it missed when it changes.
    pub(crate) connected: tokio::sync::watch::Receiver<u64>,
}

impl Conn {
    /// Connects as `name` and makes (or finds) the runs stream and the state bucket.
    pub(crate) async fn open(opts: &NatsOptions, name: &str) -> Result<Conn, NatsError> {
        let (client, connected) = opts.connect(name).await?;
        let js = jetstream::new(client.clone());
        let p = opts.prefix_str();
        let setup = |what: String| {
            move |e: &dyn std::fmt::Display| NatsError::Setup {
                what: what.clone(),
                message: e.to_string(),
            }
        };
        let stream = ensure_stream(
            &js,
            stream::Config {
                name: format!("{p}-runs"),
                subjects: vec![runs_subject(p)],
                retention: stream::RetentionPolicy::WorkQueue,
                storage: stream::StorageType::File,
                max_age: opts.state_ttl,
                num_replicas: 1,
                ..Default::default()
            },
        )
        .await
        .map_err(|e| setup(format!("the stream `{p}-runs`"))(&e))?;
        let bucket = format!("{p}-state");
        // The bucket's stream as `create_key_value` would make it (history 1), plus a
        // republish of every write it stored: what watchers follow (see `follow_puts`).
        let stored = format!("{p}.state.");
        let config = stream::Config {
            name: format!("KV_{bucket}"),
            subjects: vec![format!("$KV.{bucket}.>")],
            max_messages_per_subject: 1,
            max_age: opts.state_ttl,
            duplicate_window: opts.state_ttl.min(Duration::from_secs(120)),
            storage: stream::StorageType::File,
            num_replicas: 1,
            discard: stream::DiscardPolicy::New,
            allow_rollup: true,
            deny_delete: true,
            allow_direct: true,
            republish: Some(stream::Republish {
                source: format!("$KV.{bucket}.>"),
                destination: format!("{stored}>"),
                headers_only: false,
            }),
            ..Default::default()
        };
        let mut kv_stream = ensure_stream(&js, config.clone())
            .await
            .map_err(|e| setup(format!("the bucket `{bucket}`'s stream"))(&e))?;
        // A stream made before the republish existed gets it now.
        if kv_stream.cached_info().config.republish.is_none() {
            js.update_stream(&config)
                .await
                .map_err(|e| setup(format!("the bucket `{bucket}`'s republish"))(&e))?;
            kv_stream
                .info()
                .await
                .map_err(|e| setup(format!("the bucket `{bucket}`'s stream"))(&e))?;
        }
        let kv = js
            .get_key_value(bucket.clone())
            .await
            .map_err(|e| setup(format!("the bucket `{bucket}`"))(&e))?;
        Ok(Conn {
            client,
            js,
            stream,
            kv,
            stored,
            connected,
        })
    }

    /// The largest message the server takes.
    pub(crate) fn max_payload(&self) -> usize {
        self.client.server_info().max_payload
    }
}

/// Follows the puts of the bucket's keys matching `pattern` (`r.>`, `c.>`) for ever,
/// handing each (key, value, revision) to `on_put`, and calling `resync` after every reconnection
/// (puts made while away are not redelivered: `resync` reads what it needs).
///
/// A core subscription to the stream's republish of what it stored (`P.state.<key>`),
/// rather than `Store::watch`: on nats-server 2.9.10 a watch (ordered push consumer) made
/// after the server restarted delivered nothing, while core subscriptions come back with
/// the connection. Not the bucket's own subjects (`$KV.P-state.<key>`): a subscriber
/// there also gets the writes the stream refused (a compare-and-set that lost: the
/// losing replica's create, a cancel that came after the claim), states that never were.
pub(crate) async fn follow_puts<R, Fut>(
    conn: &Conn,
    pattern: &str,
    on_put: impl Fn(&str, &[u8], u64),
    resync: R,
) where
    R: Fn() -> Fut,
    Fut: Future<Output = ()>,
{
    use futures_util::StreamExt;
    let prefix = conn.stored.as_str();
    let mut connected = conn.connected.clone();
    connected.borrow_and_update();
    let Ok(mut puts) = conn.client.subscribe(format!("{prefix}{pattern}")).await else {
        return;
    };
    loop {
        tokio::select! {
            msg = puts.next() => {
                let Some(msg) = msg else { return };
                // Deletes and purges carry a `KV-Operation` header; the backend makes none.
                if msg.headers.as_ref().is_some_and(|h| h.get("KV-Operation").is_some()) {
                    continue;
                }
                if let Some(key) = msg.subject.as_str().strip_prefix(prefix) {
                    // The stored write's stream sequence: the entry's revision.
                    let rev = msg
                        .headers
                        .as_ref()
                        .and_then(|h| h.get("Nats-Sequence"))
                        .and_then(|v| v.as_str().parse().ok());
                    debug_assert!(rev.is_some(), "a republished write carries Nats-Sequence");
                    on_put(key, &msg.payload, rev.unwrap_or(u64::MAX));
                }
            }
            changed = connected.changed() => {
                if changed.is_err() {
                    return;
                }
                resync().await;
            }
        }
    }
}

/// Finds the stream `config` names, or makes it. Two processes starting together may both
/// try to make it: the loser's create fails (2.9 says the subjects overlap), and the
/// stream is there to find.
async fn ensure_stream(
    js: &jetstream::Context,
    config: stream::Config,
) -> Result<stream::Stream, async_nats::Error> {
    let name = config.name.clone();
    match js.get_or_create_stream(config).await {
        Ok(stream) => Ok(stream),
        Err(e) => js.get_stream(name).await.map_err(|_| e.into()),
    }
}

/// The subject runs are published on.
pub(crate) fn runs_subject(prefix: &str) -> String {
    format!("{prefix}.runs")
}

/// Where a run is in its life, as the bucket records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Status {
    Queued,
    Running,
    Retrying,
    Done,
    Error,
    Cancelled,
}

impl Status {
    pub(crate) fn is_terminal(self) -> bool {
        matches!(self, Status::Done | Status::Error | Status::Cancelled)
    }
}

/// The value of `r.<hash>`: one run's state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct RunState {
    /// This run's id: a new one per run (a refresh or a run after an ended one).
    pub(crate) run: String,
    pub(crate) job: String,
    pub(crate) status: Status,
    /// 1-based; a redelivery (dead worker, retry) counts up.
    pub(crate) attempt: u32,
    /// The worker running it, or that ran it last (kept through a hand-back, so the
    /// next claim counts a new attempt); `None` until a worker first claims it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) worker: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) fraction: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) message: Option<String>,
    /// The output, serde_json text, when Done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) output: Option<String>,
    /// The error's text, when Error (or the last failure, when Retrying).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) error: Option<String>,
}

impl RunState {
    pub(crate) fn queued(job: &str, run: String) -> RunState {
        RunState {
            run,
            job: job.to_owned(),
            status: Status::Queued,
            attempt: 1,
            worker: None,
            fraction: None,
            message: None,
            output: None,
            error: None,
        }
    }

    pub(crate) fn decode(bytes: &[u8]) -> Option<RunState> {
        serde_json::from_slice(bytes).ok()
    }

    pub(crate) fn encode(&self) -> bytes::Bytes {
        serde_json::to_vec(self)
            .expect("a run state always encodes")
            .into()
    }
}

/// A message on the runs stream: which run of which job, its input, and its retries.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct RunMsg {
    /// The state key, `r.<hash>`.
    pub(crate) key: String,
    pub(crate) run: String,
    pub(crate) job: String,
    /// The input, serde_json text.
    pub(crate) input: String,
    #[serde(default)]
    pub(crate) retries: u32,
    #[serde(default)]
    pub(crate) first_delay_ms: u64,
    #[serde(default)]
    pub(crate) max_delay_ms: u64,
    /// The revision of the `queued` state written with this run: a first delivery's
    /// claim is a compare-and-set over it, with no read first (absent: read, then claim).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) rev: Option<u64>,
}

impl RunMsg {
    /// The message of run `run` of `job` at `key`, whose `queued` state is revision `rev`.
    pub(crate) fn new(key: &str, run: &str, rev: u64, job: &JobRun<'_>) -> RunMsg {
        let retry = job.retry;
        RunMsg {
            rev: Some(rev),
            key: key.to_owned(),
            run: run.to_owned(),
            job: job.name.to_owned(),
            input: String::from_utf8_lossy(job.input).into_owned(),
            retries: retry.map_or(0, |r| r.retries()),
            first_delay_ms: retry.map_or(0, |r| millis(r.first_delay())),
            max_delay_ms: retry.map_or(0, |r| millis(r.max_delay_limit())),
        }
    }

    /// The retry policy it carries, if any.
    pub(crate) fn retry(&self) -> Option<Retry> {
        (self.retries > 0).then(|| {
            Retry::times(self.retries)
                .backoff(Duration::from_millis(self.first_delay_ms))
                .max_delay(Duration::from_millis(self.max_delay_ms))
        })
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// The hash part of a run's keys: FNV-1a (128 bits) of [`JobRun::id`], in hex. Stable
/// across processes and versions (std's hasher is not), and key-safe.
pub(crate) fn run_hash(run: &JobRun<'_>) -> String {
    const OFFSET: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    const PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013b;
    let mut h = OFFSET;
    for b in run.id() {
        h ^= u128::from(b);
        h = h.wrapping_mul(PRIME);
    }
    format!("{h:032x}")
}

/// A new run id: unique per process (a counter) and across processes (pid, clock).
pub(crate) fn new_run_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{nanos:x}-{:x}-{n:x}", std::process::id())
}
