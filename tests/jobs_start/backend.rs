//! The test backend of tests/jobs_start.rs and tests/jobs_start_life.rs: `start` is the
//! test's closure, and `handing` hands every `StartedRun` to the test through a channel.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};

use streamtree::Runtime;
use streamtree::jobs::{Job, JobBackend, JobRun, StartedRun};
use streamtree::prelude::*;
use streamtree_tests::LONG;

/// The echo job: its output is its input. Never run here (the backend decides).
pub struct Echo;
impl Job for Echo {
    const NAME: &'static str = "echo";
    type Input = u32;
    type Output = u32;
    type Error = String;
    fn run(_: &TaskContext, n: &u32) -> Result<u32, String> {
        Ok(*n)
    }
}

/// A run the backend took, as the test receives it.
pub struct Taken {
    pub run: StartedRun,
    pub input: Vec<u8>,
    pub fresh: bool,
}

pub type StartFn = dyn Fn(&JobRun<'_>, StartedRun) -> Result<(), StartedRun> + Send + Sync;

/// A backend whose `start` is the test's closure; `execute` answers `b"100"` and counts.
pub struct Backend {
    start: Box<StartFn>,
    owns_retries: bool,
    pub executed: AtomicU32,
}

impl std::fmt::Debug for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Backend").finish_non_exhaustive()
    }
}

impl JobBackend for Backend {
    fn finished(&self, _: &JobRun<'_>) -> Option<Vec<u8>> {
        None
    }
    fn execute(&self, _: &TaskContext, _: &JobRun<'_>) -> Result<Vec<u8>, String> {
        self.executed.fetch_add(1, Ordering::SeqCst);
        Ok(b"100".to_vec())
    }
    fn owns_retries(&self) -> bool {
        self.owns_retries
    }
    fn start(&self, run: &JobRun<'_>, started: StartedRun) -> Result<(), StartedRun> {
        (self.start)(run, started)
    }
}

pub fn backend(
    owns_retries: bool,
    start: impl Fn(&JobRun<'_>, StartedRun) -> Result<(), StartedRun> + Send + Sync + 'static,
) -> Arc<Backend> {
    Arc::new(Backend {
        start: Box::new(start),
        owns_retries,
        executed: AtomicU32::new(0),
    })
}

/// A backend that hands every run to the test, and the receiving end.
pub fn handing(owns_retries: bool) -> (Arc<Backend>, Receiver<Taken>) {
    let (tx, rx) = channel();
    let tx = Mutex::new(tx);
    let b = backend(owns_retries, move |run, started| {
        let taken = Taken {
            run: started,
            input: run.input.to_vec(),
            fresh: run.fresh,
        };
        tx.lock().unwrap().send(taken).expect("the test listens");
        Ok(())
    });
    (b, rx)
}

pub fn runtime(b: &Arc<Backend>) -> Runtime {
    Runtime::builder().backend(b.clone()).build()
}

pub fn session(rt: &Runtime) -> Session {
    Session::builder().runtime(rt.clone()).build()
}

pub fn recv<T>(rx: &Receiver<T>, what: &str) -> T {
    rx.recv_timeout(LONG)
        .unwrap_or_else(|e| panic!("{what} within {LONG:?}: {e}"))
}

/// A callback for `on_cancel` that reports on `tx`.
pub fn report(tx: &Sender<&'static str>, what: &'static str) -> impl FnOnce() + Send + 'static {
    let tx = tx.clone();
    move || tx.send(what).expect("the test listens")
}
