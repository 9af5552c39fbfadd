//! `RuntimeBuilder::persist` (issue 10): finished job results survive a restart, runs
//! interrupted by the process dying start again, an unreadable store is set aside.
//! "Killed mid-job" is a real child process (this test binary, re-run with an env var).
//! Every wait has a timeout.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{Sender, channel};
use std::time::Duration;

use streamtree::Runtime;
use streamtree::jobs::{InProcess, Job, JobBackend, Jobs, job};
use streamtree::prelude::*;

const LONG: Duration = Duration::from_secs(20);
const CHILD_ENV: &str = "STREAMTREE_JOBS_PERSIST_CHILD";
/// The exit code of the child that died mid-job.
const DIED: i32 = 17;

/// A fresh directory under the temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(
            format!(
                "streamtree-{name}-{}-{:?}",
                std::process::id(),
                std::time::SystemTime::now()
            )
            .replace([' ', '{', '}', ':', ','], "_"),
        );
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
    fn store(&self) -> PathBuf {
        self.0.join("jobs.redb")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn session(path: &Path, jobs: Jobs) -> Session {
    let rt = Runtime::builder().jobs(jobs).persist(path).build();
    Session::builder().runtime(rt).build()
}

struct Total;
static TOTAL_RUNS: AtomicU32 = AtomicU32::new(0);
impl Job for Total {
    const NAME: &'static str = "total";
    type Input = Vec<u32>;
    type Output = u64;
    type Error = String;
    fn run(_: &TaskContext, xs: &Vec<u32>) -> Result<u64, String> {
        TOTAL_RUNS.fetch_add(1, Ordering::SeqCst);
        Ok(xs.iter().map(|&x| u64::from(x)).sum())
    }
}

#[test]
fn a_finished_job_survives_a_restart_without_a_new_run() {
    let dir = TempDir::new("persist-round-trip");
    let input = vec![1, 2, 3];
    {
        let s = session(&dir.store(), Jobs::new().register::<Total>());
        let h = s.enter(|| job::<Total>(&input).submit());
        assert!(s.wait_idle(LONG), "the job did not finish within {LONG:?}");
        assert_eq!(h.result(), Some(6));
    } // the session and its runtime drop here, closing the store
    assert_eq!(TOTAL_RUNS.load(Ordering::SeqCst), 1);
    let s = session(&dir.store(), Jobs::new().register::<Total>());
    let h = s.enter(|| job::<Total>(&input).submit());
    assert!(s.wait_idle(LONG), "the job did not finish within {LONG:?}");
    assert_eq!((h.status(), h.result()), (TaskStatus::Done, Some(6)));
    assert_eq!(
        TOTAL_RUNS.load(Ordering::SeqCst),
        1,
        "the stored result was not used"
    );
    // A refresh recomputes.
    h.refresh();
    let h = s.enter(|| job::<Total>(&input).submit());
    assert!(
        s.wait_idle(LONG),
        "the refresh did not finish within {LONG:?}"
    );
    assert_eq!(
        (h.result(), TOTAL_RUNS.load(Ordering::SeqCst)),
        (Some(6), 2)
    );
}

struct Slow;
/// Told when a run starts (in the child) or ends (in the parent).
static SLOW_SIGNAL: Mutex<Option<Sender<()>>> = Mutex::new(None);
static SLOW_RUNS: AtomicU32 = AtomicU32::new(0);
impl Job for Slow {
    const NAME: &'static str = "slow";
    type Input = String;
    type Output = String;
    type Error = String;
    fn run(ctx: &TaskContext, name: &String) -> Result<String, String> {
        let signal = SLOW_SIGNAL.lock().unwrap().clone();
        if std::env::var_os(CHILD_ENV).is_some() {
            // The child: say it runs, then hang until the process dies.
            signal.map(|tx| tx.send(()));
            ctx.wait_cancelled(LONG);
            return Err("the child was meant to die before this".to_owned());
        }
        SLOW_RUNS.fetch_add(1, Ordering::SeqCst);
        signal.map(|tx| tx.send(()));
        Ok(format!("slow {name}"))
    }
}

struct Panics;
impl Job for Panics {
    const NAME: &'static str = "panics";
    type Input = ();
    type Output = ();
    type Error = String;
    fn run(_: &TaskContext, (): &()) -> Result<(), String> {
        panic!("the job panics")
    }
}

/// In the child process: run a job that panics to its end, then exit.
fn panicking_child(path: &Path) -> ! {
    let s = session(path, Jobs::new().register::<Panics>());
    let h = s.enter(|| job::<Panics>(&()).submit());
    assert!(s.wait_idle(LONG), "the job did not finish within {LONG:?}");
    assert_eq!(h.error().as_deref(), Some("the job panics"));
    std::process::exit(DIED)
}

/// Runs this test binary's test `name` as a child with `CHILD_ENV` = `value`; its exit code.
fn run_child(name: &str, value: &Path) -> Option<i32> {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([name, "--exact", "--nocapture"])
        .env(CHILD_ENV, value)
        .spawn()
        .unwrap();
    let (tx, rx) = channel();
    std::thread::spawn(move || tx.send(child.wait()));
    rx.recv_timeout(LONG)
        .expect("the child did not exit in time")
        .unwrap()
        .code()
}

#[test]
fn a_job_that_panicked_is_not_run_again_at_start() {
    if let Some(path) = std::env::var_os(CHILD_ENV) {
        panicking_child(Path::new(&path));
    }
    let dir = TempDir::new("persist-panicked");
    let code = run_child(
        "a_job_that_panicked_is_not_run_again_at_start",
        &dir.store(),
    );
    assert_eq!(code, Some(DIED), "the child did not run its job to the end");
    // A fresh open in this process: what it lists is what the child left marked.
    let backend = InProcess::persisted(Jobs::new(), &dir.store());
    assert_eq!(backend.interrupted(), []);
}

/// In the child process: start the job, wait until it runs, die abruptly.
fn child(path: &Path) -> ! {
    let (tx, rx) = channel();
    *SLOW_SIGNAL.lock().unwrap() = Some(tx);
    let s = session(path, Jobs::new().register::<Slow>());
    let _h = s.enter(|| job::<Slow>(&"north".to_owned()).submit());
    rx.recv_timeout(LONG)
        .expect("the job did not start in the child");
    std::process::exit(DIED)
}

#[test]
fn a_job_running_when_the_process_died_runs_again_at_start() {
    if let Some(path) = std::env::var_os(CHILD_ENV) {
        child(Path::new(&path));
    }
    let dir = TempDir::new("persist-killed");
    let code = run_child(
        "a_job_running_when_the_process_died_runs_again_at_start",
        &dir.store(),
    );
    assert_eq!(code, Some(DIED), "the child did not die mid-job");

    let (tx, ran) = channel();
    *SLOW_SIGNAL.lock().unwrap() = Some(tx);
    let rt = Runtime::builder()
        .jobs(Jobs::new().register::<Slow>())
        .persist(dir.store())
        .build();
    // Started again by the runtime itself, before any session asked for it.
    ran.recv_timeout(LONG)
        .expect("the interrupted job did not run again at start");
    let s = Session::builder().runtime(rt).build();
    // The resumed run is the shared task of (job, input): found, not run again.
    let h = s.enter(|| job::<Slow>(&"north".to_owned()).shared().submit());
    assert!(s.wait_idle(LONG), "the job did not finish within {LONG:?}");
    assert_eq!(h.result().as_deref(), Some("slow north"));
    assert_eq!(SLOW_RUNS.load(Ordering::SeqCst), 1);
}

struct Answer;
impl Job for Answer {
    const NAME: &'static str = "answer";
    type Input = Vec<u32>;
    type Output = u64;
    type Error = String;
    fn run(_: &TaskContext, xs: &Vec<u32>) -> Result<u64, String> {
        Ok(xs.iter().map(|&x| u64::from(x)).sum())
    }
}

#[test]
fn an_unreadable_store_is_set_aside_and_a_new_one_is_used() {
    let dir = TempDir::new("persist-corrupt");
    std::fs::write(dir.store(), b"this is not a redb file, just some bytes").unwrap();
    let s = session(&dir.store(), Jobs::new().register::<Answer>());
    let h = s.enter(|| job::<Answer>(&vec![40, 2]).submit());
    assert!(s.wait_idle(LONG), "the job did not finish within {LONG:?}");
    assert_eq!(h.result(), Some(42));
    let aside: Vec<String> = std::fs::read_dir(&dir.0)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("jobs.redb.unreadable-"))
        .collect();
    assert_eq!(aside.len(), 1, "{aside:?}");
    assert_eq!(
        std::fs::read(dir.0.join(&aside[0])).unwrap(),
        b"this is not a redb file, just some bytes"
    );
    drop(s);
    // The new store works: the result is kept.
    let s = session(&dir.store(), Jobs::new());
    let h = s.enter(|| job::<Answer>(&vec![40, 2]).submit());
    assert!(s.wait_idle(LONG), "the job did not finish within {LONG:?}");
    assert_eq!(h.result(), Some(42));
}

/// Version 1 of a job, whose output was a text.
struct SkewV1;
impl Job for SkewV1 {
    const NAME: &'static str = "skew";
    type Input = u8;
    type Output = String;
    type Error = String;
    fn run(_: &TaskContext, n: &u8) -> Result<String, String> {
        Ok(format!("v1 {n}"))
    }
}

/// Version 2 of the same job: its output is now a number.
struct SkewV2;
impl Job for SkewV2 {
    const NAME: &'static str = "skew";
    type Input = u8;
    type Output = u32;
    type Error = String;
    fn run(_: &TaskContext, n: &u8) -> Result<u32, String> {
        Ok(u32::from(*n) * 2)
    }
}

#[test]
fn a_stored_output_of_another_type_ends_in_error_and_a_refresh_recomputes() {
    let dir = TempDir::new("persist-skew");
    {
        let s = session(&dir.store(), Jobs::new().register::<SkewV1>());
        let h = s.enter(|| job::<SkewV1>(&4).submit());
        assert!(s.wait_idle(LONG), "the job did not finish within {LONG:?}");
        assert_eq!(h.result().as_deref(), Some("v1 4"));
    }
    let s = session(&dir.store(), Jobs::new().register::<SkewV2>());
    let h = s.enter(|| job::<SkewV2>(&4).submit());
    assert!(s.wait_idle(LONG), "the job did not finish within {LONG:?}");
    assert_eq!(
        h.error().as_deref(),
        Some(
            "job `skew`: its output does not decode as `u32`: invalid type: string \"v1 4\", \
             expected u32 at line 1 column 6"
        )
    );
    h.refresh();
    let h = s.enter(|| job::<SkewV2>(&4).submit());
    assert!(
        s.wait_idle(LONG),
        "the refresh did not finish within {LONG:?}"
    );
    assert_eq!(h.result(), Some(8), "{:?} {:?}", h.status(), h.error());
}
