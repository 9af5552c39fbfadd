//! # Inputs with keep_previous
//!
//! What this shows: `task("sales").input(&region)` makes the region part of the task's
//! identity, so switching region runs a new task (and cancels the previous region's
//! unfinished one) while finished regions stay cached. With `.keep_previous()`, the old
//! region's figures stay on screen, marked as updating, until the new region's first run
//! ends: no spinner flash when an input changes. The region here is switched with buttons
//! and `session_state`.
//!
//! Run: `cargo run --example keep_previous` (`cargo xtask demo --serve` shows it with
//! working buttons in the gallery).

use std::sync::Arc;
use std::time::Duration;

use streamtree::prelude::*;

/// The sales loader: gets the task's context and the region, returns its total.
pub type Load = Arc<dyn Fn(&TaskContext, &str) -> Result<u32, String> + Send + Sync>;

/// The regions the buttons switch between.
pub const REGIONS: [&str; 3] = ["north", "south", "east"];

/// The sales of the chosen region; the previous region's figures stay visible while a new
/// one loads.
#[component]
pub fn RegionSales(load: Load) -> Element {
    let region = session_state("sales-region", || REGIONS[0].to_owned());
    let chosen = region.get();
    let input = chosen.clone();
    let sales = task("sales")
        .input(&chosen)
        .keep_previous()
        .run(move |ctx: &TaskContext| load(ctx, &input));
    let body: Element = match_task(&sales)
        .loading(Text(format!("Loading the sales of {chosen}…")))
        .ready_with(|total, refreshing| {
            if refreshing {
                // The value is the previous region's: say so rather than mislabel it.
                Text(format!(
                    "Sales: {total} (previous region; loading {chosen}…)"
                ))
            } else {
                Text(format!("Sales of {chosen}: {total}"))
            }
        })
        .error(|message| ErrorBox(format!("Could not load {chosen}: {message}")))
        .into();
    let buttons = HStack(REGIONS.map(|name| {
        let region = region.clone();
        Button(name)
            .key(format!("region-{name}"))
            .disabled(name == chosen)
            .on_click(move || region.set(name.to_owned()))
    }));
    Card([
        Markdown("### Sales by region (keep_previous)"),
        buttons,
        body,
    ])
}

/// A loader that takes `ms` milliseconds and returns a total derived from the region.
pub fn slow_sales(ms: u64) -> Load {
    Arc::new(move |ctx, region| {
        if ctx.wait_cancelled(Duration::from_millis(ms)) {
            return Err("superseded".to_owned());
        }
        Ok(region.bytes().map(u32::from).sum())
    })
}

/// The page with a real (waiting) loader.
pub fn app() -> Element {
    Page([RegionSales(slow_sales(300))]).title("Inputs with keep_previous")
}

fn main() -> std::io::Result<()> {
    streamtree::live::terminal(app).run().map(drop)
}
