//! # A sales dashboard
//!
//! What this shows: a data app as one page of widgets. A `Select` of region and a `Slider`
//! of days are read in the same rerun (`.value()`) and drive
//! `task("dashboard-sales").input(&(region, days)).keep_previous()`: changing either runs
//! a new load while the previous figures stay on screen, marked as updating. The result fills a row of
//! `Metric`s (with the change against the period before), a `Table` of the days and a
//! `LineChart` of the series; an `Info` says when the data was loaded, and a Refresh button
//! (`TaskHandle::refresh`) loads it again. The data is a small generated, deterministic
//! data set, loaded in steps with a short delay and progress.
//!
//! Run: `cargo run --example dashboard` (terminal; it exits once the first load settles),
//! `cargo run --example dashboard -- --serve` (browser, on http://127.0.0.1:8501/), or
//! `cargo xtask demo --serve`, whose gallery includes it.

use std::sync::Arc;
use std::time::Duration;

use streamtree::prelude::*;

/// The regions the `Select` offers.
pub const REGIONS: [&str; 4] = ["North", "South", "East", "West"];

/// How many steps a load takes (each reports progress).
pub const STEPS: u32 = 4;

/// One day of sales.
#[derive(Clone, Debug, PartialEq)]
pub struct Day {
    /// Day number, 1 = the oldest day shown.
    pub day: u32,
    /// Units sold.
    pub units: u32,
    /// Revenue in euros.
    pub revenue: u32,
}

/// A finished load: the days of one region and the period before, for the deltas.
#[derive(Clone, Debug, PartialEq)]
pub struct Sales {
    /// The region loaded.
    pub region: String,
    /// The days shown, oldest first.
    pub days: Vec<Day>,
    /// The same number of days just before, for the metrics' deltas.
    pub before: Vec<Day>,
    /// When the load finished, as the clock said.
    pub loaded_at: String,
}

/// The loader: gets the task's context, the region and the number of days.
pub type Load = Arc<dyn Fn(&TaskContext, &str, u32) -> Result<Sales, String> + Send + Sync>;

/// One step of a load: waits (or does work) for step `i` of `region`; true means the task
/// was cancelled.
pub type Step = Arc<dyn Fn(&TaskContext, &str, u32) -> bool + Send + Sync>;

/// The clock that stamps a finished load.
pub type Clock = Arc<dyn Fn() -> String + Send + Sync>;

/// The generated data set: the sales of `region` on day `n` counted back from today
/// (0 = today). Deterministic: a small hash of region and day, over a weekly pattern.
pub fn day_sales(region: &str, back: u32) -> (u32, u32) {
    let seed = region.bytes().fold(2_166_136_261_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(16_777_619)
    });
    let noise = (seed ^ back.wrapping_mul(2_654_435_761)).wrapping_mul(2_246_822_519) >> 27;
    let weekly = [12, 14, 15, 13, 18, 24, 9][(back % 7) as usize];
    let units = weekly + noise + seed % 7;
    let price = 20 + seed % 5;
    (units, units * price)
}

/// `region`'s last `days` days (oldest first) and the `days` before them, stamped
/// `loaded_at`.
pub fn sales(region: &str, days: u32, loaded_at: String) -> Sales {
    let period = |from: u32| {
        (0..days)
            .map(|i| {
                let (units, revenue) = day_sales(region, from + days - 1 - i);
                Day {
                    day: i + 1,
                    units,
                    revenue,
                }
            })
            .collect::<Vec<_>>()
    };
    Sales {
        region: region.to_owned(),
        days: period(0),
        before: period(days),
        loaded_at,
    }
}

/// A loader that runs `STEPS` steps with progress, then returns the generated sales
/// stamped by `clock`.
pub fn loader(step: Step, clock: Clock) -> Load {
    Arc::new(move |ctx, region, days| {
        for i in 0..STEPS {
            ctx.set_progress((
                f64::from(i) / f64::from(STEPS),
                format!("Loading {region}, {days} days: step {} of {STEPS}", i + 1),
            ));
            if step(ctx, region, i) {
                return Err("cancelled".to_owned());
            }
        }
        Ok(sales(region, days, clock()))
    })
}

/// Steps that each wait `ms` milliseconds (or until the task is cancelled).
pub fn sleepy(ms: u64) -> Step {
    Arc::new(move |ctx, _, _| ctx.wait_cancelled(Duration::from_millis(ms)))
}

/// The wall clock, as `HH:MM:SS UTC`.
pub fn wall_clock() -> Clock {
    Arc::new(|| {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        format!(
            "{:02}:{:02}:{:02} UTC",
            secs / 3600 % 24,
            secs / 60 % 60,
            secs % 60
        )
    })
}

/// `now` against `before` as a signed percentage, `+4.2%`.
fn change(now: u32, before: u32) -> String {
    if before == 0 {
        return "n/a".to_owned();
    }
    let pct = (f64::from(now) - f64::from(before)) / f64::from(before) * 100.0;
    format!("{pct:+.1}%")
}

/// The metric row, table and chart of a finished load.
fn figures(s: &Sales) -> Element {
    let total = |days: &[Day], f: fn(&Day) -> u32| days.iter().map(f).sum::<u32>();
    let (units, units_before) = (total(&s.days, |d| d.units), total(&s.before, |d| d.units));
    let (revenue, revenue_before) = (
        total(&s.days, |d| d.revenue),
        total(&s.before, |d| d.revenue),
    );
    let n = s.days.len().max(1) as u32;
    let best = s.days.iter().map(|d| d.units).max().unwrap_or(0);
    let rows = s.days.iter().map(|d| {
        [
            format!("Day {}", d.day),
            d.units.to_string(),
            format!("€{}", d.revenue),
        ]
    });
    view! {
        Columns([
            Metric("Units", units).delta(change(units, units_before)),
            Metric("Revenue", format!("€{revenue}")).delta(change(revenue, revenue_before)),
            Metric("Units per day", units / n).delta(change(units / n, units_before / n)),
            Metric("Best day", best),
        ])
        LineChart([
            Series::new("Units", s.days.iter().map(|d| (d.day, d.units))),
            Series::new("Units, period before", s.before.iter().map(|d| (d.day, d.units))),
        ])
        .title(format!("Units per day, {}", s.region))
        .x_label("day")
        Table(rows)
            .header(["Day", "Units", "Revenue"])
            .align([Align::Left, Align::Right, Align::Right])
    }
}

/// The dashboard: inputs, the loaded figures and a Refresh button.
#[component]
pub fn Dashboard(load: Load) -> Element {
    let region = Select("Region", REGIONS).key("region");
    let days = Slider("Days", 1..=30).key("days").default(7);
    let (chosen, n) = (region.value().to_owned(), days.value());
    let input = chosen.clone();
    // Not plain "sales": task keys are session-wide, and the gallery also shows the
    // keep_previous example's `task("sales")`.
    let sales = task("dashboard-sales")
        .input(&(chosen.as_str(), n))
        .keep_previous()
        .run(move |ctx: &TaskContext| load(ctx, &input, n));
    let progress = sales.progress();
    let body: Element = match_task(&sales)
        .loading_with(|p| match p {
            Some(p) => ProgressBar(p),
            None => Text(format!("Loading {chosen}…")),
        })
        .ready_with(|s, refreshing| {
            let info = if !refreshing {
                Info(format!(
                    "{}, last {n} days; loaded at {}.",
                    s.region, s.loaded_at
                ))
            } else if s.region == chosen && s.days.len() == n as usize {
                Info(format!("Refreshing {chosen}… (loaded at {})", s.loaded_at))
            } else {
                // The value is the previous input's: say so rather than mislabel it.
                Info(format!(
                    "Showing {}, last {} days, while {chosen}, last {n} days, loads…",
                    s.region,
                    s.days.len()
                ))
            };
            let bar = match (refreshing, &progress) {
                (true, Some(p)) => Some(ProgressBar(p.clone())),
                _ => None,
            };
            view! { VStack { {info} if let Some(bar) = bar { {bar} } {figures(&s)} } }
        })
        .error(|message| ErrorBox(format!("Could not load {chosen}: {message}")))
        .into();
    let busy = !sales.status().is_terminal();
    let handle = sales.clone();
    let refresh = Button(if busy { "Loading…" } else { "Refresh" })
        .key("refresh")
        .disabled(busy)
        .on_click(move || handle.refresh());
    view! {
        Card {
            Markdown("### Sales dashboard")
            Columns([Element::from(region), Element::from(days)])
            {body}
            {refresh}
        }
    }
}

/// The page with real short delays and the wall clock.
pub fn app() -> Element {
    Page([Dashboard(loader(sleepy(150), wall_clock()))]).title("Sales dashboard")
}

fn main() -> std::process::ExitCode {
    let serve = std::env::args().any(|a| a == "--serve");
    let result = if serve {
        streamtree::serve(app).run()
    } else {
        streamtree::live::terminal(app).run().map(drop)
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("dashboard: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
