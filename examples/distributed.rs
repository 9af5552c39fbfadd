//! # Jobs on worker processes, over NATS JetStream
//!
//! What this shows: the same page code as an in-process app, with the work done by other
//! processes. Both sides build on the same job types from this file: the web process
//! submits them by type (`job::<Report>(&input)`, input and output checked at compile
//! time), a worker process runs them from one registry ([`jobs`], which also runs them in
//! process for the snapshot tests), and progress, results and cancel requests travel
//! through NATS: every session of every web replica sees the same shared job, a page
//! shows which worker ran its report (and the attempt, when a dead worker's run was
//! redelivered), Cancel reaches the worker while it runs, and a finished report shows
//! at once after a restart of the web process.
//!
//! Run: `cargo xtask demo --distributed` (nats-server, two workers and the web server on
//! <http://127.0.0.1:8501/>), or by hand, each in its own terminal:
//!
//! ```text
//! nats-server -js -a 127.0.0.1 -p 4222 -sd /tmp/nats-store
//! cargo run -p streamtree-examples --features nats --example distributed -- worker --nats nats://127.0.0.1:4222 --name w1
//! cargo run -p streamtree-examples --features nats --example distributed -- worker --nats nats://127.0.0.1:4222 --name w2
//! cargo run -p streamtree-examples --features nats --example distributed -- web --nats nats://127.0.0.1:4222 --port 8501
//! ```
//!
//! Workers write one line per run to stderr (`worker w1: report started`, `… finished`,
//! `… cancelled`); the tests (`tests/distributed.rs`) read them.

use std::io::Write;
use std::net::Ipv4Addr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use streamtree::jobs::nats::{NatsBackend, NatsOptions};
use streamtree::jobs::{Jobs, job};
use streamtree::prelude::*;
use streamtree::worker::{Worker, current_worker_name};

/// Steps of each job; each takes [`STEP`], so a run takes about 2 s.
pub const STEPS: u32 = 10;

/// The time one step takes.
pub const STEP: Duration = Duration::from_millis(200);

/// What a report is about: the job's input, so part of its identity.
#[derive(Serialize, Deserialize, Hash, Clone, Debug, PartialEq)]
pub struct Region {
    /// The region's name.
    pub name: String,
}

/// A finished job's output: its value and the worker that computed it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Computed {
    /// The computed figure.
    pub value: u64,
    /// The name of the worker process that ran the job.
    pub worker: String,
}

streamtree::job! {
    /// The per-session report: 10 steps of progress, honouring cancel between steps.
    pub Report("report") = |ctx, region: &Region| -> Result<Computed, String> {
        let seed = region.name.bytes().map(u64::from).sum::<u64>();
        steps(ctx, "report", seed)
    }
}

streamtree::job! {
    /// The shared job: one run for every session of every web replica.
    pub Totals("totals") = |ctx, _unit: &()| -> Result<Computed, String> {
        steps(ctx, "totals", 7)
    }
}

/// The body both jobs share: `STEPS` steps of progress, a cancel check between them, and
/// one log line per start and end on the worker's stderr.
fn steps(ctx: &TaskContext, job: &str, seed: u64) -> Result<Computed, String> {
    let worker = worker_name();
    eprintln!("worker {worker}: {job} started");
    let mut value = seed;
    for step in 0..STEPS {
        ctx.set_progress((
            f64::from(step) / f64::from(STEPS),
            format!("step {} of {STEPS}", step + 1),
        ));
        if ctx.wait_cancelled(STEP) {
            eprintln!("worker {worker}: {job} cancelled");
            return Err("cancelled".into());
        }
        value = value * 31 % 1_000 + u64::from(step);
    }
    eprintln!("worker {worker}: {job} finished");
    Ok(Computed { value, worker })
}

/// The name of the worker running the current job (`in-process` without one).
fn worker_name() -> String {
    current_worker_name().unwrap_or_else(|| "in-process".to_owned())
}

/// Every job of the app: what a worker runs (and an in-process runtime, in the tests).
/// The web process needs no registry: it submits the same types, the workers run them.
pub fn jobs() -> Jobs {
    Jobs::new().register::<Report>().register::<Totals>()
}

/// The session's report, with Cancel and Refresh.
#[component]
pub fn ReportCard() -> Element {
    let report = job::<Report>(&Region {
        name: "north".to_owned(),
    })
    .submit();
    let status: Element = match_task(&report)
        .loading_with(|p| match p {
            Some(p) => ProgressBar(p),
            None => Text("Queued…"),
        })
        .ready(|r| Text(format!("Report ready: {} (worker {})", r.value, r.worker)))
        .error(ErrorBox)
        .cancelled(Text("Cancelled."))
        .into();
    let (cancel, refresh) = (report.clone(), report.clone());
    let running = !report.status().is_terminal();
    // A run whose worker died is redelivered to another one as a new attempt.
    let attempt = match report.attempt() {
        1 => Element::empty(),
        n => Text(format!("attempt {n}")),
    };
    Card([
        Markdown("### Report (this session)"),
        status,
        attempt,
        HStack([
            Button("Cancel")
                .key("report-cancel")
                .disabled(!running || report.is_cancel_requested())
                .on_click(move || cancel.cancel()),
            Button("Refresh")
                .key("report-refresh")
                .on_click(move || refresh.refresh()),
        ]),
    ])
}

/// The shared job: every session of every replica shows the same run.
#[component]
pub fn SharedTotals() -> Element {
    let totals = job::<Totals>(&()).shared().submit();
    let status: Element = match_task(&totals)
        .loading_with(|p| match p {
            Some(p) => ProgressBar(p),
            None => Text("Queued…"),
        })
        .ready(|t| Text(format!("Totals ready: {} (worker {})", t.value, t.worker)))
        .error(ErrorBox)
        .cancelled(Text("Cancelled."))
        .into();
    Card([Markdown("### Totals (shared by every session)"), status])
}

/// The page, one per session.
pub fn app() -> Element {
    Page([ReportCard(), SharedTotals()]).title("Distributed jobs")
}

/// What the command line asks for.
#[derive(Debug, PartialEq)]
pub enum Command {
    /// `worker --nats URL [--name NAME]`: run jobs until SIGTERM or Ctrl-C.
    Worker {
        /// The NATS server.
        nats: String,
        /// The worker's name, shown on the pages it computes for.
        name: String,
    },
    /// `web --nats URL [--port N]`: serve the page (port 0 picks a free one).
    Web {
        /// The NATS server.
        nats: String,
        /// The loopback port to serve on.
        port: u16,
    },
}

/// The usage line, printed with every argument error.
pub const USAGE: &str =
    "usage: distributed worker --nats URL [--name NAME] | web --nats URL [--port N]";

/// Parses the arguments after the program name.
pub fn parse(args: &[String]) -> Result<Command, String> {
    let (sub, rest) = args.split_first().ok_or("a subcommand is missing")?;
    let mut nats = None;
    let mut name = format!("worker-{}", std::process::id());
    let mut port = 8501;
    let mut rest = rest.iter();
    while let Some(flag) = rest.next() {
        let value = rest.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match (sub.as_str(), flag.as_str()) {
            (_, "--nats") => nats = Some(value.clone()),
            ("worker", "--name") => name = value.clone(),
            ("web", "--port") => {
                port = value.parse().map_err(|e| format!("--port {value}: {e}"))?
            }
            _ => return Err(format!("unknown option {flag} for `{sub}`")),
        }
    }
    let nats = nats.ok_or("--nats URL is required")?;
    match sub.as_str() {
        "worker" => Ok(Command::Worker { nats, name }),
        "web" => Ok(Command::Web { nats, port }),
        other => Err(format!("unknown subcommand `{other}`")),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match parse(&args) {
        Ok(Command::Worker { nats, name }) => worker(&nats, &name),
        Ok(Command::Web { nats, port }) => web(&nats, port),
        Err(e) => Err(format!("{e}\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("distributed: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Runs the jobs from the stream, 4 at a time, until SIGTERM or Ctrl-C.
fn worker(nats: &str, name: &str) -> Result<(), String> {
    eprintln!("worker {name}: connecting to {nats}");
    Worker::new(NatsOptions::new(nats), jobs())
        .name(name)
        .concurrency(4)
        .run()
        .map_err(|e| e.to_string())
}

/// Serves the page on the loopback port; jobs go to the workers through NATS. Prints
/// `serving on http://ADDR/` on stdout once it listens (the tests read it), then serves
/// until the process is stopped: every job's state lives in NATS, so stopping loses
/// nothing.
fn web(nats: &str, port: u16) -> Result<(), String> {
    let backend = NatsBackend::connect(NatsOptions::new(nats)).map_err(|e| e.to_string())?;
    let runtime = streamtree::Runtime::builder()
        .backend(Arc::new(backend))
        .build();
    let running = streamtree::serve(app)
        .runtime(runtime)
        .bind((Ipv4Addr::LOCALHOST, port))
        .spawn()
        .map_err(|e| format!("could not serve on port {port}: {e}"))?;
    println!("serving on http://{}/", running.addr());
    std::io::stdout().flush().map_err(|e| e.to_string())?;
    loop {
        // The default action of SIGTERM and Ctrl-C ends the process.
        std::thread::park();
    }
}
