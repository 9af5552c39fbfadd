//! Jobs (issue 10): typed, named task functions submitted from sessions, with the task
//! life cycle, a registry, and the backend seam. Every wait has a timeout.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use streamtree::Runtime;
use streamtree::jobs::{InProcess, Job, JobBackend, JobRun, Jobs, job};
use streamtree::prelude::*;

const LONG: Duration = Duration::from_secs(20);

fn session_with(jobs: Jobs) -> Session {
    Session::builder()
        .runtime(Runtime::builder().jobs(jobs).build())
        .build()
}

struct Square;
static SQUARE_RUNS: AtomicU32 = AtomicU32::new(0);
impl Job for Square {
    const NAME: &'static str = "square";
    type Input = i64;
    type Output = i64;
    type Error = String;
    fn run(ctx: &TaskContext, n: &i64) -> Result<i64, String> {
        SQUARE_RUNS.fetch_add(1, Ordering::SeqCst);
        ctx.set_progress((0.5, "halfway"));
        Ok(n * n)
    }
}

#[test]
fn a_registered_job_runs_and_its_identity_is_name_and_input() {
    let s = session_with(Jobs::new().register::<Square>());
    let before = SQUARE_RUNS.load(Ordering::SeqCst);
    let a = s.enter(|| job::<Square>(&7).submit());
    assert!(s.wait_idle(LONG), "the job did not finish within {LONG:?}");
    assert_eq!((a.status(), a.result()), (TaskStatus::Done, Some(49)));
    assert_eq!(a.key(), "square");
    assert_eq!(a.progress().unwrap().to_string(), "50% halfway");
    // The same (job, input): the same task, no new run.
    let again = s.enter(|| job::<Square>(&7).submit());
    assert_eq!(again.result(), Some(49));
    // Another input: another run.
    let b = s.enter(|| job::<Square>(&8).submit());
    assert!(s.wait_idle(LONG), "the job did not finish within {LONG:?}");
    assert_eq!(b.result(), Some(64));
    assert_eq!(SQUARE_RUNS.load(Ordering::SeqCst) - before, 2);
}

#[test]
fn an_unregistered_job_ends_in_error_naming_it() {
    let s = session_with(Jobs::new());
    let h = s.enter(|| job::<Square>(&2).submit());
    assert!(s.wait_idle(LONG), "the job did not finish within {LONG:?}");
    assert_eq!(h.status(), TaskStatus::Error);
    let e = h.error().unwrap();
    assert!(
        e.starts_with("job `square` is not registered with this runtime")
            && e.contains("(registered: none)"),
        "{e}"
    );
}

struct Flaky;
static FLAKY_CALLS: AtomicU32 = AtomicU32::new(0);
impl Job for Flaky {
    const NAME: &'static str = "flaky";
    type Input = ();
    type Output = String;
    type Error = String;
    fn run(_: &TaskContext, (): &()) -> Result<String, String> {
        if FLAKY_CALLS.fetch_add(1, Ordering::SeqCst) == 0 {
            Err("first attempt fails".to_owned())
        } else {
            Ok("ok".to_owned())
        }
    }
}

#[test]
fn life_cycle_options_apply_to_jobs() {
    let s = session_with(Jobs::new().register::<Flaky>());
    let h = s.enter(|| {
        job::<Flaky>(&())
            .retry(Retry::times(1).backoff(Duration::ZERO))
            .timeout(LONG)
            .gc_after(LONG)
            .submit()
    });
    assert!(s.wait_idle(LONG), "the job did not finish within {LONG:?}");
    assert_eq!((h.result().as_deref(), h.attempt()), (Some("ok"), 2));
}

struct Shared;
static SHARED_RUNS: AtomicU32 = AtomicU32::new(0);
impl Job for Shared {
    const NAME: &'static str = "shared";
    type Input = String;
    type Output = usize;
    type Error = std::convert::Infallible;
    fn run(_: &TaskContext, s: &String) -> Result<usize, Self::Error> {
        SHARED_RUNS.fetch_add(1, Ordering::SeqCst);
        Ok(s.len())
    }
}

#[test]
fn a_shared_job_runs_once_for_every_session() {
    let rt = Runtime::builder()
        .jobs(Jobs::new().register::<Shared>())
        .build();
    let a = Session::builder().runtime(rt.clone()).build();
    let b = Session::builder().runtime(rt).build();
    let input = "abc".to_owned();
    let ha = a.enter(|| job::<Shared>(&input).shared().submit());
    let hb = b.enter(|| job::<Shared>(&input).shared().submit());
    assert!(
        a.wait_idle(LONG) && b.wait_idle(LONG),
        "not idle within {LONG:?}"
    );
    assert_eq!((ha.result(), hb.result()), (Some(3), Some(3)));
    assert_eq!(SHARED_RUNS.load(Ordering::SeqCst), 1);
}

/// A backend that keeps one canned output per run and records what it executes.
#[derive(Debug, Default)]
struct Canned {
    kept: Mutex<Option<Vec<u8>>>,
    executed: Mutex<Vec<(String, Vec<u8>)>>,
}

impl JobBackend for Canned {
    fn finished(&self, _: &JobRun<'_>) -> Option<Vec<u8>> {
        self.kept.lock().unwrap().clone()
    }
    fn execute(&self, _: &TaskContext, run: &JobRun<'_>) -> Result<Vec<u8>, String> {
        self.executed
            .lock()
            .unwrap()
            .push((run.name.to_owned(), run.input.to_vec()));
        Ok(b"100".to_vec())
    }
}

#[test]
fn a_kept_result_is_shown_without_a_run_and_a_refresh_recomputes() {
    let backend = Arc::new(Canned {
        kept: Mutex::new(Some(b"25".to_vec())),
        ..Canned::default()
    });
    let rt = Runtime::builder().backend(backend.clone()).build();
    let s = Session::builder().runtime(rt).build();
    let h = s.enter(|| job::<Square>(&5).submit());
    assert!(s.wait_idle(LONG), "the job did not finish within {LONG:?}");
    assert_eq!(h.result(), Some(25));
    assert!(backend.executed.lock().unwrap().is_empty());
    h.refresh();
    let h = s.enter(|| job::<Square>(&5).submit());
    assert!(
        s.wait_idle(LONG),
        "the refresh did not finish within {LONG:?}"
    );
    assert_eq!(h.result(), Some(100));
    // The backend saw the job's name and its input serialized with serde_json.
    assert_eq!(
        *backend.executed.lock().unwrap(),
        [("square".to_owned(), b"5".to_vec())]
    );
}

#[test]
fn an_output_of_another_type_ends_in_error_naming_the_job_and_serde() {
    let backend = Arc::new(Canned {
        kept: Mutex::new(Some(br#""a string""#.to_vec())),
        ..Canned::default()
    });
    let rt = Runtime::builder().backend(backend).build();
    let s = Session::builder().runtime(rt).build();
    let h = s.enter(|| job::<Square>(&5).submit());
    assert!(s.wait_idle(LONG), "the job did not finish within {LONG:?}");
    assert_eq!(
        h.error().as_deref(),
        Some(
            "job `square`: its output does not decode as `i64`: invalid type: string \
             \"a string\", expected i64 at line 1 column 10"
        )
    );
}

#[test]
fn an_input_that_does_not_decode_ends_in_error_naming_the_job() {
    let jobs = Jobs::new().register::<Square>();
    let s = Session::new();
    let h = s.enter(|| {
        submit_with("raw", move |ctx: &TaskContext| {
            InProcess::new(jobs.clone()).execute(ctx, &JobRun::new("square", b"\"x\""))
        })
    });
    assert!(s.wait_idle(LONG), "the task did not finish within {LONG:?}");
    assert_eq!(
        h.result().unwrap().unwrap_err(),
        "job `square`: its input does not decode: invalid type: string \"x\", expected i64 \
         at line 1 column 3"
    );
}
