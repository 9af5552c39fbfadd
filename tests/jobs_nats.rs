//! The NATS JetStream backend against a real `nats-server` (one per test, loopback):
//! web runtimes with `NatsBackend`, workers on threads. Jobs wait on gates, never sleeps.

use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use streamtree::jobs::nats::{NatsBackend, NatsOptions};
use streamtree::jobs::{Jobs, job};
use streamtree::prelude::*;
use streamtree::worker::{Worker, WorkerHandle, current_worker_name};
use streamtree_tests::nats::NatsServer;
use streamtree_tests::{LONG, wait_until};

streamtree::job! {
    /// Squares, and says which worker did it.
    Square("square") = |_ctx, n: &i64| -> Result<String, String> {
        Ok(format!("{} by {}", n * n, current_worker_name().unwrap_or_default()))
    }
}

/// The gated job's input: which step it reports, and whether it waits for a cancel.
#[derive(Serialize, Deserialize, Hash, Clone, Debug)]
struct Gated {
    id: u32,
}

streamtree::job! {
    /// Reports progress "started on <worker>", then waits (at most LONG) for a cancel,
    /// unless it runs on a worker whose name starts with "fast".
    WaitForCancel("wait-for-cancel") = |ctx, g: &Gated| -> Result<String, String> {
        let me = current_worker_name().unwrap_or_default();
        ctx.set_progress(Progress::new(Some(0.5), Some(format!("started on {me}"))));
        if me.starts_with("fast") {
            return Ok(format!("{} done on {me}", g.id));
        }
        if ctx.wait_cancelled(LONG) {
            Err("stopped: cancel seen".to_owned())
        } else {
            Err("no cancel came".to_owned())
        }
    }
}

fn jobs() -> Jobs {
    Jobs::new().register::<Square>().register::<WaitForCancel>()
}

fn web(server: &NatsServer) -> Session {
    let backend = NatsBackend::connect(NatsOptions::new(server.url())).expect("connect");
    let rt = streamtree::Runtime::builder()
        .backend(Arc::new(backend))
        .build();
    Session::builder().runtime(rt).build()
}

fn worker(server: &NatsServer, name: &str) -> WorkerHandle {
    Worker::new(
        NatsOptions::new(server.url()).ack_wait(Duration::from_secs(2)),
        jobs(),
    )
    .name(name)
    .concurrency(2)
    .shutdown_grace(Duration::ZERO)
    .spawn()
}

fn stop(w: WorkerHandle) {
    w.shutdown();
    w.join().expect("the worker ends cleanly");
}

#[test]
fn a_job_runs_on_a_worker_and_its_result_reaches_the_handle() {
    let server = NatsServer::start();
    let w = worker(&server, "w1");
    let s = web(&server);
    let h = s.enter(|| job::<Square>(&7).submit());
    assert!(s.wait_idle(LONG), "the job ends within {LONG:?}");
    assert_eq!(h.result().as_deref(), Some("49 by w1"));
    assert_eq!(h.attempt(), 1);
    stop(w);
}
