//! Worker processes for the NATS backend (feature `nats`): [`Worker`] pulls runs from
//! the stream, runs their jobs from its [`Jobs`] registry with a concurrency limit, and
//! writes their state (progress, result, error) to the bucket the web processes watch.
//!
//! A job's `TaskContext` is that of a task outside any session (`worker/run.rs`): its
//! progress goes to the bucket, and a cancel request written to the bucket reaches
//! `is_cancel_requested` through the worker's one watcher. While a job runs, the worker
//! sends an in-progress acknowledgement every third of `ack_wait` (heartbeat); a failed
//! attempt with retries left is handed back with a delayed Nak, holding no thread.
//! Shutdown (SIGTERM, Ctrl-C, [`WorkerHandle::shutdown`]) stops pulling, lets running
//! jobs finish within [`Worker::shutdown_grace`], and hands the others back at once
//! (Nak: another worker takes them as their next attempt).
//!
//! Delivery is at least once: a worker that stalls past `ack_wait` (not dead: a long
//! pause) loses its run to the redelivery, which another worker claims as the next
//! attempt. The stalled worker learns it at its next write (progress or end), which then
//! fails: it writes nothing more, asks its job to stop, and leaves the run's message to
//! the new claim. Its job may still have done some of its work twice.
//!
//! # Example
//! ```no_run
//! use streamtree::jobs::Jobs;
//! use streamtree::jobs::nats::NatsOptions;
//! use streamtree::worker::Worker;
//! streamtree::job! {
//!     Hello("hello") = |_ctx, who: &String| -> Result<String, String> {
//!         let worker = streamtree::worker::current_worker_name().unwrap_or_default();
//!         Ok(format!("hello {who} from {worker}"))
//!     }
//! }
//! Worker::new(NatsOptions::new("nats://127.0.0.1:4222"), Jobs::new().register::<Hello>())
//!     .name("w1")
//!     .concurrency(4)
//!     .run()?; // until SIGTERM or Ctrl-C
//! # Ok::<(), streamtree::jobs::nats::NatsError>(())
//! ```

mod run;

use std::cell::RefCell;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::jobs::Jobs;
use crate::jobs::nats::{NatsError, NatsOptions};

/// A worker process's job runner; configure, then [`run`](Worker::run) (blocking, until
/// a signal) or [`spawn`](Worker::spawn) (a thread, for tests and embedding).
///
/// # Example
/// ```
/// use std::time::Duration;
/// use streamtree::jobs::Jobs;
/// use streamtree::jobs::nats::NatsOptions;
/// use streamtree::worker::Worker;
/// let worker = Worker::new(NatsOptions::new("nats://127.0.0.1:1"), Jobs::new())
///     .name("w1")
///     .concurrency(2)
///     .shutdown_grace(Duration::from_secs(5));
/// assert_eq!(worker.worker_name(), "w1");
/// // No server there: the worker's thread ends with the connect error.
/// assert!(worker.spawn().join().unwrap_err().to_string().contains("cannot connect"));
/// ```
#[derive(Debug)]
pub struct Worker {
    opts: NatsOptions,
    jobs: Jobs,
    name: String,
    concurrency: usize,
    grace: Duration,
}

impl Worker {
    /// A worker for the server and names of `opts`, running `jobs`: named after the host
    /// and process id, 1 job at a time, 30 s of shutdown grace.
    ///
    /// # Example
    /// ```
    /// use streamtree::worker::Worker;
    /// let w = Worker::new(streamtree::jobs::nats::NatsOptions::new("nats://a:1"), Default::default());
    /// assert!(w.worker_name().starts_with("worker-"));
    /// ```
    pub fn new(opts: NatsOptions, jobs: Jobs) -> Worker {
        Worker {
            opts,
            jobs,
            name: format!("worker-{}", std::process::id()),
            concurrency: 1,
            grace: Duration::from_secs(30),
        }
    }

    /// Names the worker: recorded in each run's state, and what
    /// [`current_worker_name`] tells its jobs.
    ///
    /// # Example
    /// ```
    /// # use streamtree::worker::Worker;
    /// let w = Worker::new(streamtree::jobs::nats::NatsOptions::new("nats://a:1"), Default::default()).name("w2");
    /// assert_eq!(w.worker_name(), "w2");
    /// ```
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// The worker's name.
    ///
    /// # Example
    /// ```
    /// # use streamtree::worker::Worker;
    /// let w = Worker::new(streamtree::jobs::nats::NatsOptions::new("nats://a:1"), Default::default()).name("x");
    /// assert_eq!(w.worker_name(), "x");
    /// ```
    pub fn worker_name(&self) -> &str {
        &self.name
    }

    /// Runs at most `n` jobs at once (at least 1); it takes runs from the stream only
    /// while it has a free place, so other workers get the rest.
    ///
    /// # Example
    /// ```
    /// # use streamtree::worker::Worker;
    /// let _ = Worker::new(streamtree::jobs::nats::NatsOptions::new("nats://a:1"), Default::default()).concurrency(8);
    /// ```
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// How long shutdown waits for running jobs before handing them back.
    ///
    /// # Example
    /// ```
    /// # use streamtree::worker::Worker;
    /// let _ = Worker::new(streamtree::jobs::nats::NatsOptions::new("nats://a:1"), Default::default())
    ///     .shutdown_grace(std::time::Duration::ZERO);
    /// ```
    pub fn shutdown_grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }

    /// Runs jobs until SIGTERM or Ctrl-C, then shuts down (see the module docs).
    ///
    /// # Errors
    /// [`NatsError`] when it cannot connect or set up the stream, bucket or consumer.
    ///
    /// # Example
    /// ```
    /// # use streamtree::worker::Worker;
    /// let w = Worker::new(streamtree::jobs::nats::NatsOptions::new("nats://127.0.0.1:1"), Default::default());
    /// assert!(w.run().is_err()); // nothing listens there
    /// ```
    pub fn run(self) -> Result<(), NatsError> {
        let (stop_tx, stop) = tokio::sync::watch::channel(false);
        let rt = runtime()?;
        rt.spawn(async move {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
            let sigterm = async {
                match term.as_mut() {
                    Some(t) => {
                        t.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                () = sigterm => {}
            }
            let _ = stop_tx.send(true);
        });
        let result = rt.block_on(run::serve(self, stop, Ready::default()));
        // Jobs still running after a hand-back are left to the process's exit.
        rt.shutdown_background();
        result
    }

    /// Runs jobs on a new thread until [`WorkerHandle::shutdown`].
    ///
    /// # Example
    /// ```
    /// # use streamtree::worker::Worker;
    /// let h = Worker::new(streamtree::jobs::nats::NatsOptions::new("nats://127.0.0.1:1"), Default::default()).spawn();
    /// h.shutdown();
    /// let _ = h.join(); // Err: it could not connect
    /// ```
    pub fn spawn(self) -> WorkerHandle {
        let (stop_tx, stop) = tokio::sync::watch::channel(false);
        let ready = Ready::default();
        let signal = ready.clone();
        let thread = std::thread::Builder::new()
            .name(format!("streamtree-worker-{}", self.name))
            .spawn(move || {
                // Whatever happens, waiters on readiness stop waiting.
                let _wake = signal.on_drop();
                let rt = runtime()?;
                let result = rt.block_on(run::serve(self, stop, signal.clone()));
                rt.shutdown_background();
                result
            })
            .expect("spawning the worker's thread");
        WorkerHandle {
            stop: stop_tx,
            thread,
            ready,
        }
    }
}

/// The worker's runtime: one thread for all its network work (jobs run on blocking
/// threads), so a run's steps hand nothing between I/O threads.
fn runtime() -> Result<tokio::runtime::Runtime, NatsError> {
    tokio::runtime::Builder::new_current_thread()
        .thread_name("streamtree-worker-io")
        .enable_all()
        .build()
        .map_err(|e| NatsError::Runtime(e.to_string()))
}

/// A [`Worker`] running on its own thread: [`shutdown`](Self::shutdown), then
/// [`join`](Self::join).
///
/// # Example
/// ```
/// # use streamtree::worker::Worker;
/// let h = Worker::new(streamtree::jobs::nats::NatsOptions::new("nats://127.0.0.1:1"), Default::default()).spawn();
/// h.shutdown();
/// assert!(h.join().is_err());
/// ```
#[derive(Debug)]
pub struct WorkerHandle {
    stop: tokio::sync::watch::Sender<bool>,
    thread: JoinHandle<Result<(), NatsError>>,
    ready: Ready,
}

/// Set once a worker is connected and subscribed (or has stopped trying): what
/// [`WorkerHandle::wait_ready`] waits on.
#[derive(Clone, Debug, Default)]
pub(crate) struct Ready(Arc<(Mutex<Option<bool>>, std::sync::Condvar)>);

impl Ready {
    /// The worker is set up and pulling.
    pub(crate) fn ready(&self) {
        self.set(true);
    }

    fn set(&self, up: bool) {
        let (state, cv) = &*self.0;
        state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get_or_insert(up);
        cv.notify_all();
    }

    /// A guard that records "not up" (unless already up) when the worker's thread ends.
    fn on_drop(&self) -> impl Drop + use<> {
        struct Ended(Ready);
        impl Drop for Ended {
            fn drop(&mut self) {
                self.0.set(false);
            }
        }
        Ended(self.clone())
    }
}

impl WorkerHandle {
    /// Asks the worker to shut down as on SIGTERM; returns at once.
    ///
    /// # Example
    /// ```
    /// # use streamtree::worker::Worker;
    /// let h = Worker::new(streamtree::jobs::nats::NatsOptions::new("nats://127.0.0.1:1"), Default::default()).spawn();
    /// h.shutdown();
    /// # let _ = h.join();
    /// ```
    pub fn shutdown(&self) {
        let _ = self.stop.send(true);
    }

    /// Waits (at most `timeout`) until the worker is connected, subscribed and pulling
    /// runs: true then; false when it failed to start, or was not up in time.
    ///
    /// # Example
    /// ```
    /// # use streamtree::worker::Worker;
    /// let h = Worker::new(streamtree::jobs::nats::NatsOptions::new("nats://127.0.0.1:1"), Default::default()).spawn();
    /// assert!(!h.wait_ready(std::time::Duration::from_secs(10))); // nothing listens there
    /// # let _ = h.join();
    /// ```
    pub fn wait_ready(&self, timeout: Duration) -> bool {
        let (state, cv) = &*self.ready.0;
        let state = state.lock().unwrap_or_else(PoisonError::into_inner);
        let (state, _) = cv
            .wait_timeout_while(state, timeout, |s| s.is_none())
            .unwrap_or_else(PoisonError::into_inner);
        *state == Some(true)
    }

    /// Waits for the worker to end: once shut down with its jobs finished or handed back,
    /// or failed (its error).
    ///
    /// # Errors
    /// What [`Worker::run`] would return.
    ///
    /// # Example
    /// ```
    /// # use streamtree::worker::Worker;
    /// let h = Worker::new(streamtree::jobs::nats::NatsOptions::new("nats://127.0.0.1:1"), Default::default()).spawn();
    /// assert!(h.join().is_err());
    /// ```
    pub fn join(self) -> Result<(), NatsError> {
        self.thread
            .join()
            .unwrap_or_else(|p| Err(NatsError::Runtime(crate::runtime::panic_message(&*p))))
    }
}

thread_local! {
    /// The name of the worker whose job runs on this thread.
    static WORKER_NAME: RefCell<Option<Arc<str>>> = const { RefCell::new(None) };
}

/// The name of the first worker started in this process: what threads a job starts see.
static PROCESS_WORKER: Mutex<Option<Arc<str>>> = Mutex::new(None);

/// The name of the [`Worker`] running the current job: on the job's thread, that
/// worker's; elsewhere in a worker process, the first worker's; `None` in a process
/// without workers (a web process, an in-process job).
///
/// # Example
/// ```
/// assert_eq!(streamtree::worker::current_worker_name(), None);
/// ```
pub fn current_worker_name() -> Option<String> {
    WORKER_NAME
        .with(|n| n.borrow().clone())
        .or_else(|| {
            PROCESS_WORKER
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone()
        })
        .map(|n| n.to_string())
}

/// Marks this thread as running `name`'s job until the guard drops.
pub(crate) fn enter_worker(name: &Arc<str>) -> impl Drop {
    struct Leave;
    impl Drop for Leave {
        fn drop(&mut self) {
            WORKER_NAME.with(|n| n.borrow_mut().take());
        }
    }
    WORKER_NAME.with(|n| *n.borrow_mut() = Some(Arc::clone(name)));
    Leave
}

/// Records `name` as the process's worker if it is the first.
pub(crate) fn note_process_worker(name: &Arc<str>) {
    PROCESS_WORKER
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get_or_insert_with(|| Arc::clone(name));
}
